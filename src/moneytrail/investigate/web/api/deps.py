"""Dependencies of the API routes: the app's state, the current user, role checks and CSRF."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from moneytrail.investigate.cases.models import User
from moneytrail.investigate.cases.store import CaseStore
from moneytrail.investigate.web.reader import Reader
from moneytrail.investigate.web.security import (
    CSRF_HEADER,
    SESSION_COOKIE,
    STATE_CHANGING,
    LoginThrottle,
    role_at_least,
)
from moneytrail.workspace import Workspace


@dataclass
class WorkbenchState:
    """What every request needs, built once by ``create_app``."""

    workspace: Workspace
    reader: Reader
    store: CaseStore
    throttle: LoginThrottle
    secure_cookies: bool = False


@dataclass
class Principal:
    user: User
    csrf_token: str
    token: str


class LoginRequired(Exception):
    """Raised by page routes without a session; answered with a redirect to the login page."""


def get_state(request: Request) -> WorkbenchState:
    return request.app.state.workbench


StateDep = Annotated[WorkbenchState, Depends(get_state)]


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _principal(request: Request, state: WorkbenchState) -> Principal | None:
    token = request.cookies.get(SESSION_COOKIE, "")
    sess = state.store.resolve_session(token) if token else None
    if sess is None:
        return None
    return Principal(user=sess.user, csrf_token=sess.csrf_token, token=token)


def current_principal(request: Request, state: StateDep) -> Principal:
    """The logged-in user; 401 without a live session, 403 on a state change without the CSRF token."""
    p = _principal(request, state)
    if p is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Log in first: this route needs a session.")
    if request.method in STATE_CHANGING and request.headers.get(CSRF_HEADER) != p.csrf_token:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"The {CSRF_HEADER} header is missing or wrong.")
    return p


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def current_user(p: PrincipalDep) -> User:
    return p.user


CurrentUser = Annotated[User, Depends(current_user)]


def require_role(role: str):
    """A dependency that admits users with at least ``role``."""

    def check(user: CurrentUser) -> User:
        if not role_at_least(user.role, role):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"This needs the {role} role; you are {user.role}."
            )
        return user

    return check


SupervisorUser = Annotated[User, Depends(require_role("supervisor"))]
AdminUser = Annotated[User, Depends(require_role("admin"))]


def page_user(request: Request, state: StateDep) -> Principal:
    """For HTML pages: the principal, or a redirect to the login page."""
    p = _principal(request, state)
    if p is None:
        raise LoginRequired()
    return p


PageUser = Annotated[Principal, Depends(page_user)]

# Documented on every protected route so clients (and schemathesis) know them.
AUTH_RESPONSES = {
    401: {"description": "Not logged in"},
    403: {"description": "Missing CSRF token or insufficient role"},
}
