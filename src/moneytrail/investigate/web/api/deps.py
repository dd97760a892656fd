"""Dependencies of the API routes: the app's state, the current user, role checks and CSRF."""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Response, status
from pydantic import BaseModel

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


class SessionCache:
    """Sessions the store confirmed in the last ``ttl`` seconds, so a page's burst of requests asks once.

    Logging out and disabling a user in the workbench clear it at once; a change made by another
    process (``moneytrail users disable``) takes effect within ``ttl`` seconds.
    """

    def __init__(self, ttl: float = 2.0):
        self.ttl = ttl
        self._items: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def get(self, token: str) -> Principal | None:
        item = self._items.get(self._key(token))
        if item is None or item[0] < time.monotonic():
            return None
        return item[1]

    def put(self, token: str, principal: Principal) -> None:
        with self._lock:
            now = time.monotonic()
            if len(self._items) > 10_000:
                self._items = {k: v for k, v in self._items.items() if v[0] >= now}
            self._items[self._key(token)] = (now + self.ttl, principal)

    def clear(self) -> None:
        with self._lock:
            self._items = {}


@dataclass
class WorkbenchState:
    """What every request needs, built once by ``create_app``."""

    workspace: Workspace
    reader: Reader
    store: CaseStore
    throttle: LoginThrottle
    secure_cookies: bool = False
    sessions: SessionCache = field(default_factory=SessionCache)


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
    if not token:
        return None
    p = state.sessions.get(token)
    if p is not None:
        return p
    sess = state.store.resolve_session(token)
    if sess is None:
        return None
    p = Principal(user=sess.user, csrf_token=sess.csrf_token, token=token)
    state.sessions.put(token, p)
    return p


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


def json_body(model: type[BaseModel], value: Any) -> bytes | None:
    """``value`` checked against ``model`` and encoded, once, so a cached answer is sent as it is."""
    return None if value is None else model.model_validate(value).model_dump_json().encode()


def json_response(body: bytes) -> Response:
    return Response(content=body, media_type="application/json")


# Documented on every protected route so clients (and schemathesis) know them.
AUTH_RESPONSES = {
    401: {"description": "Not logged in"},
    403: {"description": "Missing CSRF token or insufficient role"},
}
