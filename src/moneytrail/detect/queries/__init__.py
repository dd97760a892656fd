"""One query module per detector: ``<id>.py`` exposes ``<id>_sql(params) -> str``.

Modules whose names start with an underscore hold shared builders and belong to no detector.
"""
