"""Reports of a lead or case as a download, when the reports module is installed."""

from __future__ import annotations

import importlib
import importlib.util
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from moneytrail.errors import MoneytrailError
from moneytrail.investigate.web.api.audit_helpers import audit
from moneytrail.investigate.web.api.deps import AUTH_RESPONSES, CurrentUser, StateDep
from moneytrail.investigate.web.api.models import ReportFormats

router = APIRouter(prefix="/api/reports", tags=["reports"], responses=AUTH_RESPONSES)

# The formats the reports module declares; the route's query pattern is built from them.
KNOWN_FORMATS = ("html", "pdf", "str", "str-html", "graphml", "gexf", "ftm")


def reports_module():
    """The reports module when installed, else None."""
    if importlib.util.find_spec("moneytrail.investigate.reports") is None:
        return None
    return importlib.import_module("moneytrail.investigate.reports")


def _formats(mod) -> list[str]:
    return [f for f in getattr(mod, "FORMATS", {}) if f in KNOWN_FORMATS]


@router.get("", response_model=ReportFormats)
def formats(user: CurrentUser) -> ReportFormats:
    """Which report formats this installation can produce."""
    mod = reports_module()
    ok = mod is not None and callable(getattr(mod, "render_report", None))
    return ReportFormats(available=ok, formats=_formats(mod) if ok else [])


@router.get(
    "/{lead_or_case_id}",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The report file"},
        404: {"description": "Reports are not installed, or no such lead or case"},
    },
)
def download(
    lead_or_case_id: str,
    user: CurrentUser,
    state: StateDep,
    request: Request,
    format: Annotated[str, Query(pattern="^(" + "|".join(KNOWN_FORMATS) + ")$")] = "html",  # noqa: A002
    redact: Annotated[bool, Query(description="Pseudonymise everyone who is not a subject")] = False,
) -> Response:
    """The report of a lead (its id) or case (``case-N``) in ``format``, as a file download."""
    mod = reports_module()
    if mod is None or format not in _formats(mod):
        raise HTTPException(404, f"Reports in format {format!r} are not installed.")
    try:
        out = mod.render_report(state.workspace, lead_or_case_id, format, redact=redact)
    except MoneytrailError as e:
        raise HTTPException(404, str(e)) from e
    audit(
        state, request, user, "report", "report", lead_or_case_id, detail={"format": format, "redact": redact}
    )
    safe = "".join(ch for ch in lead_or_case_id if ch.isalnum() or ch in "-_") or "report"
    return Response(
        content=out.content,
        media_type=out.media_type,
        headers={"Content-Disposition": f'attachment; filename="moneytrail-{safe}{out.suffix}"'},
    )
