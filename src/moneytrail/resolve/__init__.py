"""Entity resolution and watchlist screening.

>>> from moneytrail.resolve import resolve_workspace
>>> summary = resolve_workspace("workspace")  # doctest: +SKIP
"""

from moneytrail.resolve.pipeline import MODEL_FILE, resolve_workspace

__all__ = ["MODEL_FILE", "resolve_workspace"]
