"""Expanding the graph: the neighbours of one account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from moneytrail.investigate.web import network as network_mod
from moneytrail.investigate.web import queries as Q
from moneytrail.investigate.web.api.deps import AUTH_RESPONSES, CurrentUser, StateDep
from moneytrail.investigate.web.api.models import NetworkOut

router = APIRouter(
    prefix="/api/accounts",
    tags=["network"],
    responses={**AUTH_RESPONSES, 404: {"description": "No such account"}},
)


@router.get("/{account_id}/neighbours", response_model=NetworkOut)
def neighbours(
    account_id: str,
    user: CurrentUser,
    state: StateDep,
    max_nodes: Annotated[int, Query(ge=5, le=500)] = 40,
) -> NetworkOut:
    """The account and its biggest counterparties (for "expand" in the network view)."""
    reader = state.reader
    known = reader.cached(
        ("account-exists", account_id),
        lambda: bool(
            reader.has("accounts")
            and reader.rows(f"SELECT 1 FROM accounts WHERE account_id IN {Q.in_list([account_id])}")
        ),
    )
    if not known:
        raise HTTPException(404, f"There is no account {account_id!r}.")
    return reader.cached(
        ("neighbours", account_id, max_nodes),
        lambda: network_mod.build_network(reader, [account_id], max_nodes=max_nodes, focus=account_id),
    )
