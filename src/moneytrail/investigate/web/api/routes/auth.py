"""Log in, log out, who am I."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Request, Response, status

from moneytrail.investigate.cases.store import SESSION_HOURS
from moneytrail.investigate.web.api.audit_helpers import audit
from moneytrail.investigate.web.api.deps import AUTH_RESPONSES, PrincipalDep, StateDep, client_of
from moneytrail.investigate.web.api.models import LoginIn, MeOut
from moneytrail.investigate.web.security import SESSION_COOKIE

router = APIRouter(prefix="/api/auth", tags=["auth"])


def _same_origin(request: Request) -> bool:
    # Browsers send Origin on cross-site POSTs; a login from another site is refused (login CSRF).
    origin = request.headers.get("origin")
    if not origin:
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")


def _me(p) -> MeOut:
    return MeOut(
        username=p.user.username, role=p.user.role, display_name=p.user.display_name, csrf_token=p.csrf_token
    )


@router.post(
    "/login",
    response_model=MeOut,
    responses={
        401: {"description": "Wrong user name or password"},
        403: {"description": "Cross-origin login"},
        429: {"description": "Too many failed logins; retry later"},
    },
)
def login(body: LoginIn, request: Request, response: Response, state: StateDep) -> MeOut:
    """Start a session: sets the HttpOnly session cookie and returns the CSRF token for later changes."""
    if not _same_origin(request):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Log in from the workbench's own pages.")
    client = client_of(request)
    wait = state.throttle.retry_after(body.username, client)
    if wait:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"Too many failed logins; try again in {wait} s.",
            headers={"Retry-After": str(wait)},
        )
    user = state.store.authenticate(body.username, body.password)
    if user is None:
        state.throttle.failed(body.username, client)
        audit(state, request, body.username[:80], "login_failed", "user", body.username[:80])
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "Wrong user name or password, or the account is disabled."
        )
    state.throttle.succeeded(body.username)
    token, csrf = state.store.create_session(user)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_HOURS * 3600,
        httponly=True,
        samesite="strict",
        secure=state.secure_cookies,
        path="/",
    )
    audit(state, request, user, "login", "user", user.username)
    return MeOut(username=user.username, role=user.role, display_name=user.display_name, csrf_token=csrf)


@router.post("/logout", status_code=204, responses=AUTH_RESPONSES)
def logout(p: PrincipalDep, request: Request, response: Response, state: StateDep) -> Response:
    """End the session."""
    state.store.end_session(p.token)
    state.sessions.clear()
    audit(state, request, p.user, "logout", "user", p.user.username)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", response_model=MeOut, responses=AUTH_RESPONSES)
def me(p: PrincipalDep) -> MeOut:
    """The logged-in user, role and CSRF token."""
    return _me(p)
