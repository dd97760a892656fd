"""The entity (party) profile. Every view is written to the audit log."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response

from moneytrail.investigate.web import profile as profile_mod
from moneytrail.investigate.web.api.audit_helpers import audit
from moneytrail.investigate.web.api.deps import (
    AUTH_RESPONSES,
    CurrentUser,
    StateDep,
    json_body,
    json_response,
)
from moneytrail.investigate.web.api.models import ProfileOut

router = APIRouter(
    prefix="/api/entities",
    tags=["entities"],
    responses={**AUTH_RESPONSES, 404: {"description": "No such party"}},
)


@router.get("/{party_id}", response_model=ProfileOut)
def get_entity(party_id: str, user: CurrentUser, state: StateDep, request: Request) -> Response:
    """Identity, aliases, accounts, risk score with its explanation, detector hits with evidence, timeline."""
    body = state.reader.cached(
        ("profile", party_id), lambda: json_body(ProfileOut, profile_mod.get_profile(state.reader, party_id))
    )
    if body is None:
        raise HTTPException(404, f"There is no party {party_id!r}.")
    audit(state, request, user, "view", "party", party_id)
    return json_response(body)
