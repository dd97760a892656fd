"""The leads queue, one lead, its network and its money flow."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response

from moneytrail.investigate.web import flow as flow_mod
from moneytrail.investigate.web import leads as leads_mod
from moneytrail.investigate.web import network as network_mod
from moneytrail.investigate.web.api.audit_helpers import audit
from moneytrail.investigate.web.api.deps import (
    AUTH_RESPONSES,
    CurrentUser,
    StateDep,
    json_body,
    json_response,
)
from moneytrail.investigate.web.api.models import FlowOut, LeadOut, LeadsPage, NetworkOut
from moneytrail.investigate.web.api.routes.cases import case_summary
from moneytrail.investigate.web.reader import Reader

router = APIRouter(
    prefix="/api/leads", tags=["leads"], responses={**AUTH_RESPONSES, 404: {"description": "No such lead"}}
)


# A lead whose accounts have more legs than this has its network drawn at server start.
LARGE_NETWORK_LEGS = 50_000


def _network_key(lead_id: str, max_nodes: int) -> tuple:
    return ("network", lead_id, max_nodes)


def _network_body(reader: Reader, lead: dict, max_nodes: int) -> bytes:
    return json_body(NetworkOut, network_mod.build_network(reader, lead["account_ids"], max_nodes=max_nodes))


def pin_large_networks(reader: Reader) -> int:
    """Draw the default network of every lead holding hub accounts once, at start; returns how many.

    A hub's hundreds of thousands of transfers take a noticeable fraction of a second to
    aggregate; these answers are kept until the tables change, so no investigator waits for them.
    """
    pinned = 0
    for lead_id in leads_mod.lead_ids(reader):
        lead = reader.cached(("lead", lead_id), lambda lead_id=lead_id: leads_mod.get_lead(reader, lead_id))
        if lead and reader.leg_count(lead["account_ids"]) > LARGE_NETWORK_LEGS:
            key = _network_key(lead_id, network_mod.MAX_NODES)
            reader.pin(key, _network_body(reader, lead, network_mod.MAX_NODES))
            pinned += 1
    return pinned


def _lead_or_404(state, lead_id: str) -> dict:
    lead = state.reader.cached(("lead", lead_id), lambda: leads_mod.get_lead(state.reader, lead_id))
    if lead is None:
        raise HTTPException(404, f"There is no lead {lead_id!r}.")
    return lead


@router.get("", response_model=LeadsPage)
def list_leads(
    user: CurrentUser,
    state: StateDep,
    q: Annotated[
        str | None, Query(max_length=200, description="Text in the id, narrative or member ids")
    ] = None,
    typology: Annotated[
        str | None, Query(max_length=50, description="Indicator id the lead must show")
    ] = None,
    min_value: Annotated[float | None, Query(ge=0, le=1e15, description="Minimum total value in CAD")] = None,
    sort: Literal["rank", "value", "recent", "score"] = "rank",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    """Ranked leads with value, time span and typologies; filter by text, typology and value."""
    key = ("leads", q, typology, min_value, sort, limit, offset)
    return json_response(
        state.reader.cached(
            key,
            lambda: json_body(
                LeadsPage,
                leads_mod.list_leads(
                    state.reader,
                    q=q,
                    typology=typology,
                    min_value=min_value,
                    sort=sort,
                    limit=limit,
                    offset=offset,
                ),
            ),
        )
    )


@router.get("/{lead_id}", response_model=LeadOut)
def get_lead(lead_id: str, user: CurrentUser, state: StateDep, request: Request) -> LeadOut:
    """One lead with its members and the cases opened on it."""
    lead = _lead_or_404(state, lead_id)
    audit(state, request, user, "view", "lead", lead_id)
    cases = [case_summary(c) for c in state.store.cases(lead_id=lead_id)]
    return LeadOut(**lead, cases=cases)


@router.get("/{lead_id}/network", response_model=NetworkOut)
def lead_network(
    lead_id: str,
    user: CurrentUser,
    state: StateDep,
    max_nodes: Annotated[
        int, Query(ge=10, le=1000, description="Aggregate past this many nodes")
    ] = network_mod.MAX_NODES,
) -> Response:
    """The lead's accounts and counterparties as a graph (aggregated when large)."""
    lead = _lead_or_404(state, lead_id)
    return json_response(
        state.reader.cached(
            _network_key(lead_id, max_nodes), lambda: _network_body(state.reader, lead, max_nodes)
        )
    )


@router.get("/{lead_id}/flow", response_model=FlowOut)
def lead_flow(lead_id: str, user: CurrentUser, state: StateDep) -> FlowOut:
    """Where the lead's money came from and went (cash, casinos, underground bank, real estate, abroad)."""
    lead = _lead_or_404(state, lead_id)
    return state.reader.cached(
        ("flow", lead_id),
        lambda: flow_mod.build_flow(state.reader, lead["account_ids"], lead["party_ids"], label=lead_id),
    )
