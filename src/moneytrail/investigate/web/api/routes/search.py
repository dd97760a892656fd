"""Search by name (any romanisation), account or phone."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from moneytrail.investigate.web import search as search_mod
from moneytrail.investigate.web.api.audit_helpers import audit
from moneytrail.investigate.web.api.deps import AUTH_RESPONSES, CurrentUser, StateDep
from moneytrail.investigate.web.api.models import SearchOut

router = APIRouter(prefix="/api/search", tags=["search"], responses=AUTH_RESPONSES)


@router.get("", response_model=SearchOut)
def search(
    user: CurrentUser,
    state: StateDep,
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=200, description="Name, account id or phone number")],
    kind: Literal["any", "name", "account", "phone"] = "any",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SearchOut:
    """Parties and accounts matching ``q``, best first."""
    items = state.reader.cached(
        ("search", q, kind, limit), lambda: search_mod.search(state.reader, q, kind, limit)
    )
    audit(state, request, user, "search", "query", q[:200], detail={"kind": kind, "results": len(items)})
    return SearchOut(query=q, items=items)
