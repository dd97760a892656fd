"""The workbench's JSON API: one router per resource under ``api/routes``."""
