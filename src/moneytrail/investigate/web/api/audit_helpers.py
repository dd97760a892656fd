"""Writing audit entries from the routes."""

from __future__ import annotations

from fastapi import Request

from moneytrail.investigate.cases.models import User
from moneytrail.investigate.web.api.deps import WorkbenchState, client_of


def audit(
    state: WorkbenchState,
    request: Request,
    user: User | str,
    action: str,
    kind: str,
    object_id: str,
    detail: dict | None = None,
) -> None:
    """Append who did or saw what to the audit log."""
    name = user if isinstance(user, str) else user.username
    state.store.audit(name, action, kind, object_id, detail=detail, client=client_of(request))
