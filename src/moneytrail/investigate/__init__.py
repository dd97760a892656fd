"""Investigation: the web workbench, case management and reports."""
