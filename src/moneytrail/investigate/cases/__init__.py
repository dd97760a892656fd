"""Case data: users, sessions, cases, notes, dispositions and the audit log (SQLAlchemy).

``dispositions(workspace)`` gives the investigators' decisions as labels for ``moneytrail train``::

    >>> from moneytrail.investigate.cases import dispositions
    >>> dispositions(ws)  # doctest: +SKIP
    [{'lead_id': 'L0001', 'case_id': 1, 'account_ids': [...], 'party_ids': [...],
      'disposition': 'confirmed', 'decided_at': datetime.datetime(...)}]
"""

from __future__ import annotations

from moneytrail.investigate.cases.models import DISPOSITIONS, ROLES, STATUSES
from moneytrail.investigate.cases.passwords import Hasher
from moneytrail.investigate.cases.store import CaseStore, default_database_url
from moneytrail.workspace import Workspace


def database_url(workspace: Workspace, url: str | None = None) -> str:
    """The case database URL: ``url``, else ``Settings.database_url``, else SQLite in the workspace."""
    if url:
        return url
    from moneytrail.settings import get_settings

    return get_settings().database_url or default_database_url(workspace.root)


def open_store(workspace: Workspace, url: str | None = None, hasher: Hasher | None = None) -> CaseStore:
    """An opened :class:`CaseStore` for ``workspace`` (creates the tables when missing)."""
    return CaseStore(database_url(workspace, url), hasher=hasher).open()


def dispositions(workspace: Workspace, url: str | None = None) -> list[dict]:
    """Every case disposition, oldest first, as labels for training.

    Each item: ``lead_id``, ``case_id``, ``account_ids`` and ``party_ids`` (the lead's members when
    the case was opened), ``disposition`` (``confirmed`` or ``false_positive``) and ``decided_at``
    (naive UTC datetime). Returns an empty list when the workspace has no case database yet.
    """
    target = database_url(workspace, url)
    if target.startswith("sqlite:///") and not (workspace.root / "cases.db").exists() and url is None:
        from moneytrail.settings import get_settings

        if not get_settings().database_url:
            return []
    store = CaseStore(target).open()
    try:
        return store.dispositions()
    finally:
        store.close()


__all__ = [
    "DISPOSITIONS",
    "ROLES",
    "STATUSES",
    "CaseStore",
    "Hasher",
    "database_url",
    "dispositions",
    "open_store",
]
