"""The audit log, readable by supervisors and admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from moneytrail.investigate.web.api.deps import AUTH_RESPONSES, StateDep, SupervisorUser
from moneytrail.investigate.web.api.models import AuditOut, AuditPage

router = APIRouter(prefix="/api/audit", tags=["audit"], responses=AUTH_RESPONSES)


@router.get("", response_model=AuditPage)
def read_audit(
    user: SupervisorUser,
    state: StateDep,
    username: Annotated[str | None, Query(max_length=80)] = None,
    object_kind: Annotated[str | None, Query(max_length=40)] = None,
    object_id: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> AuditPage:
    """Who saw or changed what, newest first."""
    total, rows = state.store.audit_entries(
        limit=limit, offset=offset, username=username, object_kind=object_kind, object_id=object_id
    )
    return AuditPage(total=total, items=[AuditOut.model_validate(r, from_attributes=True) for r in rows])
