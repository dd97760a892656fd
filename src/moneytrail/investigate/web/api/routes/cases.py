"""Cases: open from a lead, assign, notes, status and disposition. Views and changes are audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status

from moneytrail.errors import ConfigError
from moneytrail.investigate.cases.models import Case, User
from moneytrail.investigate.web import leads as leads_mod
from moneytrail.investigate.web.api.audit_helpers import audit
from moneytrail.investigate.web.api.deps import AUTH_RESPONSES, CurrentUser, StateDep
from moneytrail.investigate.web.api.models import (
    CaseIn,
    CaseOut,
    CasePatch,
    CaseSummary,
    DispositionIn,
    DispositionOut,
    NoteIn,
    NoteOut,
    Status,
)
from moneytrail.investigate.web.security import role_at_least

router = APIRouter(
    prefix="/api/cases", tags=["cases"], responses={**AUTH_RESPONSES, 404: {"description": "No such case"}}
)


def case_summary(c: Case) -> CaseSummary:
    return CaseSummary(
        id=c.id,
        lead_id=c.lead_id,
        title=c.title,
        status=c.status,
        assignee=c.assignee.username if c.assignee else None,
        created_by=c.creator.username,
        created_at=c.created_at,
        updated_at=c.updated_at,
        disposition=c.disposition.disposition if c.disposition else None,
    )


def case_out(c: Case) -> CaseOut:
    d = c.disposition
    return CaseOut(
        **case_summary(c).model_dump(),
        account_ids=[a for a in c.account_ids.split(";") if a],
        party_ids=[p for p in c.party_ids.split(";") if p],
        notes=[
            NoteOut(id=n.id, author=n.author.username, body=n.body, created_at=n.created_at) for n in c.notes
        ],
        disposition_detail=DispositionOut(
            disposition=d.disposition, reason=d.reason, decided_by=d.decider.username, decided_at=d.decided_at
        )
        if d
        else None,
    )


def _case_or_404(state, case_id: int) -> Case:
    c = state.store.case(case_id)
    if c is None:
        raise HTTPException(404, f"There is no case {case_id}.")
    return c


def _may_work_on(user: User, c: Case) -> None:
    # Analysts work on their own cases and unassigned ones; supervisors on every case.
    if role_at_least(user.role, "supervisor"):
        return
    if c.assignee_id in (None, user.id):
        return
    raise HTTPException(
        status.HTTP_403_FORBIDDEN, f"Case {c.id} is assigned to someone else; ask a supervisor."
    )


@router.get("", response_model=list[CaseSummary])
def list_cases(
    user: CurrentUser,
    state: StateDep,
    status_: Annotated[Status | None, Query(alias="status")] = None,
    lead_id: Annotated[str | None, Query(max_length=120)] = None,
    mine: bool = False,
) -> list[CaseSummary]:
    """Cases, most recently changed first."""
    cases = state.store.cases(status=status_, lead_id=lead_id, assignee_id=user.id if mine else None)
    return [case_summary(c) for c in cases]


@router.post("", response_model=CaseOut, status_code=201, responses={404: {"description": "No such lead"}})
def open_case(body: CaseIn, user: CurrentUser, state: StateDep, request: Request) -> CaseOut:
    """Open a case from a lead; the lead's members are kept with the case."""
    lead = leads_mod.get_lead(state.reader, body.lead_id)
    if lead is None:
        raise HTTPException(404, f"There is no lead {body.lead_id!r}.")
    title = body.title or f"Lead {lead['lead_id']}: " + ", ".join(lead["typologies"][:4])
    c = state.store.open_case(lead["lead_id"], title, user, lead["account_ids"], lead["party_ids"])
    audit(state, request, user, "case_open", "case", str(c.id), detail={"lead_id": lead["lead_id"]})
    return case_out(c)


@router.get("/{case_id}", response_model=CaseOut)
def get_case(case_id: int, user: CurrentUser, state: StateDep, request: Request) -> CaseOut:
    """One case with its notes and disposition."""
    c = _case_or_404(state, case_id)
    audit(state, request, user, "view", "case", str(case_id))
    return case_out(c)


@router.patch(
    "/{case_id}", response_model=CaseOut, responses={422: {"description": "Unknown assignee or value"}}
)
def update_case(
    case_id: int, body: CasePatch, user: CurrentUser, state: StateDep, request: Request
) -> CaseOut:
    """Change the status, title or assignee (assigning others needs the supervisor role)."""
    c = _case_or_404(state, case_id)
    _may_work_on(user, c)
    if (
        body.assignee is not None
        and body.assignee not in ("", user.username)
        and not role_at_least(user.role, "supervisor")
    ):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Only supervisors assign cases to other people.")
    try:
        c = state.store.update_case(case_id, status=body.status, assignee=body.assignee, title=body.title)
    except ConfigError as e:
        raise HTTPException(422, str(e)) from e
    audit(
        state, request, user, "case_update", "case", str(case_id), detail=body.model_dump(exclude_none=True)
    )
    return case_out(c)


@router.post("/{case_id}/notes", response_model=NoteOut, status_code=201)
def add_note(case_id: int, body: NoteIn, user: CurrentUser, state: StateDep, request: Request) -> NoteOut:
    """Add a note to the case."""
    c = _case_or_404(state, case_id)
    _may_work_on(user, c)
    n = state.store.add_note(case_id, body.body, user)
    audit(state, request, user, "note_add", "case", str(case_id), detail={"note_id": n.id})
    return NoteOut(id=n.id, author=n.author.username, body=n.body, created_at=n.created_at)


@router.put("/{case_id}/disposition", response_model=DispositionOut)
def set_disposition(
    case_id: int, body: DispositionIn, user: CurrentUser, state: StateDep, request: Request
) -> DispositionOut:
    """Decide the case: confirmed or false positive (a label for ``moneytrail train``)."""
    c = _case_or_404(state, case_id)
    _may_work_on(user, c)
    d = state.store.set_disposition(case_id, body.disposition, user, body.reason)
    audit(state, request, user, "disposition", "case", str(case_id), detail={"disposition": body.disposition})
    return DispositionOut(
        disposition=d.disposition, reason=d.reason, decided_by=d.decider.username, decided_at=d.decided_at
    )
