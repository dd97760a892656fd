"""User management (admins) and the list of people a case can be assigned to."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request

from moneytrail.errors import ConfigError
from moneytrail.investigate.web.api.audit_helpers import audit
from moneytrail.investigate.web.api.deps import AUTH_RESPONSES, AdminUser, CurrentUser, StateDep
from moneytrail.investigate.web.api.models import UserIn, UserOut, UserRef

router = APIRouter(prefix="/api/users", tags=["users"], responses=AUTH_RESPONSES)


def _out(u) -> UserOut:
    return UserOut(
        username=u.username,
        role=u.role,
        display_name=u.display_name,
        disabled=u.disabled,
        created_at=u.created_at,
    )


@router.get("", response_model=list[UserOut])
def list_users(user: AdminUser, state: StateDep) -> list[UserOut]:
    """Every account (admins only)."""
    return [_out(u) for u in state.store.users()]


@router.get("/assignable", response_model=list[UserRef])
def assignable(user: CurrentUser, state: StateDep) -> list[UserRef]:
    """Active users a case can be assigned to."""
    return [
        UserRef(username=u.username, display_name=u.display_name)
        for u in state.store.users()
        if not u.disabled
    ]


@router.post("", response_model=UserOut, status_code=201, responses={409: {"description": "The user exists"}})
def add_user(body: UserIn, user: AdminUser, state: StateDep, request: Request) -> UserOut:
    """Create an account (admins only)."""
    if state.store.user(body.username) is not None:
        raise HTTPException(409, f"There is already a user called {body.username!r}.")
    try:
        u = state.store.add_user(body.username, body.password, body.role, body.display_name)
    except ConfigError as e:
        raise HTTPException(409, str(e)) from e
    audit(state, request, user, "user_add", "user", u.username, detail={"role": u.role})
    return _out(u)


@router.post("/{username}/disable", response_model=UserOut, responses={404: {"description": "No such user"}})
def disable_user(username: str, user: AdminUser, state: StateDep, request: Request) -> UserOut:
    """Disable an account and end its sessions (admins only)."""
    if state.store.user(username) is None:
        raise HTTPException(404, f"There is no user called {username!r}.")
    u = state.store.set_disabled(username, True, by=user.username)
    state.sessions.clear()
    audit(state, request, user, "user_disable", "user", username)
    return _out(u)
