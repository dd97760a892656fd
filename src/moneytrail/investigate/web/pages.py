"""The HTML pages: server-rendered shells whose scripts call the JSON API."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from moneytrail.investigate.web.api.audit_helpers import audit
from moneytrail.investigate.web.api.deps import PageUser, StateDep
from moneytrail.investigate.web.security import role_at_least

templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
router = APIRouter(include_in_schema=False)


def _render(request: Request, name: str, p, status_code: int = 200, **ctx) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        name,
        status_code=status_code,
        context={
            "user": p.user if p else None,
            "csrf": p.csrf_token if p else "",
            "is_supervisor": bool(p and role_at_least(p.user.role, "supervisor")),
            "is_admin": bool(p and role_at_least(p.user.role, "admin")),
            **ctx,
        },
    )


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/"):  # noqa: A002
    # Only local paths, so the login cannot be used to send people elsewhere.
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    return _render(request, "login.html", None, next=target, page="login")


@router.get("/", response_class=HTMLResponse)
def leads_page(request: Request, p: PageUser):
    return _render(request, "leads.html", p, page="leads")


@router.get("/leads/{lead_id}", response_class=HTMLResponse)
def lead_page(lead_id: str, request: Request, p: PageUser):
    return _render(request, "lead.html", p, page="lead", lead_id=lead_id)


@router.get("/entities/{party_id}", response_class=HTMLResponse)
def entity_page(party_id: str, request: Request, p: PageUser):
    return _render(request, "entity.html", p, page="entity", party_id=party_id)


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, p: PageUser, q: str = ""):
    return _render(request, "search.html", p, page="search", q=q)


@router.get("/cases", response_class=HTMLResponse)
def cases_page(request: Request, p: PageUser):
    return _render(request, "cases.html", p, page="cases")


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(case_id: int, request: Request, p: PageUser):
    return _render(request, "case.html", p, page="case", case_id=case_id)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, p: PageUser, state: StateDep):
    if not role_at_least(p.user.role, "supervisor"):
        audit(state, request, p.user, "denied", "page", "/audit")
        return _render(request, "denied.html", p, page="denied", needed="supervisor", status_code=403)
    return _render(request, "audit.html", p, page="audit")


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, p: PageUser):
    if not role_at_least(p.user.role, "admin"):
        return _render(request, "denied.html", p, page="denied", needed="admin", status_code=403)
    return _render(request, "users.html", p, page="users")


@router.get("/logout")
def logout_page() -> RedirectResponse:
    # Logging out changes state, so it is a POST from the page's script; a GET just goes to the login.
    return RedirectResponse("/login", status_code=303)
