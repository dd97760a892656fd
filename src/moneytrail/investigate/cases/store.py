"""The case store: every read and write of case data goes through :class:`CaseStore`.

SQLite in the workspace by default (``WS/cases.db``); PostgreSQL (or any SQLAlchemy URL) when
``Settings.database_url`` is set. Every change and every view of a person or case is written to the
append-only audit log by the caller through :meth:`CaseStore.audit`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, func, select
from sqlalchemy.engine import Engine as SAEngine
from sqlalchemy.orm import Session as ORMSession
from sqlalchemy.orm import sessionmaker

from moneytrail.errors import ConfigError
from moneytrail.investigate.cases.models import (
    DISPOSITIONS,
    ROLES,
    STATUSES,
    AuditEntry,
    Base,
    Case,
    Disposition,
    Note,
    Session,
    User,
    utcnow,
)
from moneytrail.investigate.cases.passwords import Hasher

SESSION_HOURS = 12


def default_database_url(workspace_root: str | Path) -> str:
    """``sqlite:///WS/cases.db`` for a workspace root."""
    return f"sqlite:///{Path(workspace_root).resolve() / 'cases.db'}"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise ConfigError(f"The {what} must be one of {', '.join(allowed)}. Got {value!r} instead.")
    return value


class CaseStore:
    """Case data behind one SQLAlchemy engine. ``open()`` creates missing tables."""

    def __init__(self, url: str, hasher: Hasher | None = None):
        self.url = url
        self.hasher = hasher
        self.engine: SAEngine | None = None
        self._sessions: sessionmaker | None = None

    def open(self) -> CaseStore:
        if self.hasher is None:
            self.hasher = Hasher()
        kwargs: dict = {}
        if self.url.startswith("sqlite"):
            # One SQLite file shared by the server's worker threads.
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        self.engine = create_engine(self.url, **kwargs)
        if self.url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        Base.metadata.create_all(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        return self

    def close(self) -> None:
        if self.engine is not None:
            self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[ORMSession]:
        if self._sessions is None:
            self.open()
        with self._sessions() as s, s.begin():
            yield s

    # -- users -----------------------------------------------------------------------------
    def add_user(
        self, username: str, password: str, role: str = "analyst", display_name: str | None = None
    ) -> User:
        _check(role, ROLES, "role")
        username = username.strip()
        if not username or len(username) > 80:
            raise ConfigError("The user name must be 1 to 80 characters long.")
        if len(password) < 10:
            raise ConfigError("The password must be at least 10 characters long.")
        with self.session() as s:
            if s.scalar(select(User).where(User.username == username)):
                raise ConfigError(f"There is already a user called {username!r}.")
            user = User(
                username=username,
                password_hash=self.hasher.hash(password),
                role=role,
                display_name=display_name,
            )
            s.add(user)
            s.flush()
            s.add(
                AuditEntry(
                    username="system",
                    action="user_add",
                    object_kind="user",
                    object_id=username,
                    detail=json.dumps({"role": role}),
                )
            )
            return user

    def set_password(self, username: str, password: str, by: str = "system") -> None:
        """Replace a user's password and end their sessions."""
        if len(password) < 10:
            raise ConfigError("The password must be at least 10 characters long.")
        with self.session() as s:
            user = s.scalar(select(User).where(User.username == username))
            if user is None:
                raise ConfigError(f"There is no user called {username!r}.")
            user.password_hash = self.hasher.hash(password)
            user.disabled = False
            for sess in s.scalars(select(Session).where(Session.user_id == user.id)):
                s.delete(sess)
            s.add(AuditEntry(username=by, action="password_set", object_kind="user", object_id=username))

    def users(self) -> list[User]:
        with self.session() as s:
            return list(s.scalars(select(User).order_by(User.username)))

    def user(self, username: str) -> User | None:
        with self.session() as s:
            return s.scalar(select(User).where(User.username == username))

    def user_by_id(self, user_id: int) -> User | None:
        with self.session() as s:
            return s.get(User, user_id)

    def set_disabled(self, username: str, disabled: bool = True, by: str = "system") -> User:
        with self.session() as s:
            user = s.scalar(select(User).where(User.username == username))
            if user is None:
                raise ConfigError(f"There is no user called {username!r}.")
            user.disabled = disabled
            if disabled:
                # A disabled account loses its open sessions at once.
                for sess in s.scalars(select(Session).where(Session.user_id == user.id)):
                    s.delete(sess)
            s.add(
                AuditEntry(
                    username=by,
                    action="user_disable" if disabled else "user_enable",
                    object_kind="user",
                    object_id=username,
                )
            )
            return user

    def authenticate(self, username: str, password: str) -> User | None:
        """The user when the password matches and the account is enabled, else None."""
        user = self.user(username)
        ok = self.hasher.verify(user.password_hash if user else None, password)
        if not ok or user is None or user.disabled:
            return None
        return user

    # -- sessions --------------------------------------------------------------------------
    def create_session(self, user: User) -> tuple[str, str]:
        """A new session for ``user``: returns (cookie token, CSRF token)."""
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        with self.session() as s:
            s.add(
                Session(
                    token_hash=_token_hash(token),
                    user_id=user.id,
                    csrf_token=csrf,
                    expires_at=utcnow() + dt.timedelta(hours=SESSION_HOURS),
                )
            )
        return token, csrf

    def resolve_session(self, token: str) -> Session | None:
        """The live session for a cookie token (with its user), or None when unknown or expired."""
        if not token:
            return None
        with self.session() as s:
            sess = s.get(Session, _token_hash(token))
            if sess is None:
                return None
            if sess.expires_at < utcnow() or sess.user.disabled:
                s.delete(sess)
                return None
            return sess

    def end_session(self, token: str) -> None:
        with self.session() as s:
            sess = s.get(Session, _token_hash(token))
            if sess is not None:
                s.delete(sess)

    # -- cases -----------------------------------------------------------------------------
    def open_case(
        self, lead_id: str, title: str, by: User, account_ids: list[str], party_ids: list[str]
    ) -> Case:
        with self.session() as s:
            case = Case(
                lead_id=lead_id,
                title=title,
                created_by=by.id,
                status="open",
                account_ids=";".join(account_ids),
                party_ids=";".join(party_ids),
            )
            s.add(case)
            s.flush()
            return self._case(s, case.id)

    def case(self, case_id: int) -> Case | None:
        with self.session() as s:
            return self._case(s, case_id)

    @staticmethod
    def _case(s: ORMSession, case_id: int) -> Case | None:
        case = s.get(Case, case_id)
        if case is not None:
            # load what the API shows while the session is open
            _ = (case.notes, case.disposition, case.assignee, case.creator)
            for n in case.notes:
                _ = n.author
        return case

    def cases(
        self, status: str | None = None, lead_id: str | None = None, assignee_id: int | None = None
    ) -> list[Case]:
        with self.session() as s:
            q = select(Case).order_by(Case.updated_at.desc(), Case.id.desc())
            if status:
                q = q.where(Case.status == status)
            if lead_id:
                q = q.where(Case.lead_id == lead_id)
            if assignee_id is not None:
                q = q.where(Case.assignee_id == assignee_id)
            return list(s.scalars(q).unique())

    def update_case(
        self,
        case_id: int,
        *,
        status: str | None = None,
        assignee: str | None = None,
        title: str | None = None,
    ) -> Case | None:
        with self.session() as s:
            case = s.get(Case, case_id)
            if case is None:
                return None
            if status is not None:
                case.status = _check(status, STATUSES, "status")
            if assignee is not None:
                if assignee == "":
                    case.assignee = None
                else:
                    user = s.scalar(select(User).where(User.username == assignee))
                    if user is None or user.disabled:
                        raise ConfigError(
                            f"There is no active user called {assignee!r} to assign the case to."
                        )
                    case.assignee = user
            if title is not None:
                case.title = title
            case.updated_at = utcnow()
            s.flush()
            return self._case(s, case_id)

    def add_note(self, case_id: int, body: str, by: User) -> Note | None:
        with self.session() as s:
            case = s.get(Case, case_id)
            if case is None:
                return None
            note = Note(case_id=case_id, author_id=by.id, body=body)
            s.add(note)
            case.updated_at = utcnow()
            s.flush()
            _ = note.author
            return note

    def set_disposition(
        self, case_id: int, disposition: str, by: User, reason: str | None = None
    ) -> Disposition | None:
        _check(disposition, DISPOSITIONS, "disposition")
        with self.session() as s:
            case = s.get(Case, case_id)
            if case is None:
                return None
            d = s.scalar(select(Disposition).where(Disposition.case_id == case_id))
            if d is None:
                d = Disposition(
                    case_id=case_id, lead_id=case.lead_id, disposition=disposition, decided_by=by.id
                )
                s.add(d)
            d.disposition = disposition
            d.reason = reason
            d.decided_by = by.id
            d.decided_at = utcnow()
            case.updated_at = utcnow()
            s.flush()
            _ = d.decider
            return d

    # -- audit -----------------------------------------------------------------------------
    def audit(
        self,
        username: str,
        action: str,
        object_kind: str,
        object_id: str,
        detail: dict | None = None,
        client: str | None = None,
    ) -> None:
        with self.session() as s:
            s.add(
                AuditEntry(
                    username=username,
                    action=action,
                    object_kind=object_kind,
                    object_id=str(object_id),
                    detail=json.dumps(detail, sort_keys=True, default=str) if detail else None,
                    client=client,
                )
            )

    def audit_entries(
        self,
        limit: int = 200,
        offset: int = 0,
        username: str | None = None,
        object_kind: str | None = None,
        object_id: str | None = None,
    ) -> tuple[int, list[AuditEntry]]:
        with self.session() as s:
            q = select(AuditEntry)
            if username:
                q = q.where(AuditEntry.username == username)
            if object_kind:
                q = q.where(AuditEntry.object_kind == object_kind)
            if object_id:
                q = q.where(AuditEntry.object_id == object_id)
            total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
            rows = list(s.scalars(q.order_by(AuditEntry.id.desc()).limit(limit).offset(offset)))
            return total, rows

    # -- labels ----------------------------------------------------------------------------
    def dispositions(self) -> list[dict]:
        with self.session() as s:
            rows = s.execute(
                select(Disposition, Case).join(Case, Case.id == Disposition.case_id).order_by(Disposition.id)
            ).all()
            return [
                {
                    "lead_id": d.lead_id,
                    "case_id": c.id,
                    "account_ids": [a for a in c.account_ids.split(";") if a],
                    "party_ids": [p for p in c.party_ids.split(";") if p],
                    "disposition": d.disposition,
                    "decided_at": d.decided_at,
                }
                for d, c in rows
            ]


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    # WAL lets the pages read while another request writes.
    cur.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL never corrupts the file and saves an fsync per audit entry.
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()
