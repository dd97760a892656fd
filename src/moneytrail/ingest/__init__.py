"""Validated ingest: canonical folders and foreign formats (AMLSim, Tide) into a workspace.

>>> from moneytrail.ingest import ingest
>>> report = ingest("world/", "canonical", "ws", progress=False)  # doctest: +SKIP

See docs/ingest.md for the formats, the validation rules and how to add a format.
"""

from moneytrail.ingest.formats import FORMATS, formats, get_format, register
from moneytrail.ingest.pipeline import ingest
from moneytrail.ingest.report import IngestReport, QuarantineSample, TableCounts

__all__ = [
    "FORMATS",
    "IngestReport",
    "QuarantineSample",
    "TableCounts",
    "formats",
    "get_format",
    "ingest",
    "register",
]
