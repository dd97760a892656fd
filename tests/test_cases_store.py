"""The case store: users, sessions, cases, notes, dispositions and the append-only audit log (SQLite)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from moneytrail.errors import ConfigError
from moneytrail.investigate.cases import CaseStore, Hasher, default_database_url, dispositions, open_store


@pytest.fixture
def store(workspace):
    s = open_store(workspace, hasher=Hasher.fast())
    yield s
    s.close()


def test_default_hasher_is_argon2id_with_recommended_cost():
    h = Hasher()
    digest = h.hash("a-long-password")
    assert digest.startswith("$argon2id$") and "m=65536,t=3" in digest
    assert h.verify(digest, "a-long-password") and not h.verify(digest, "wrong")


def test_passwords_are_argon2_hashes_and_checked(store):
    user = store.add_user("ann", "a-long-password", "analyst")
    assert user.password_hash.startswith("$argon2id$")
    assert "a-long-password" not in user.password_hash
    assert store.authenticate("ann", "a-long-password").username == "ann"
    assert store.authenticate("ann", "wrong-password") is None
    assert store.authenticate("nobody", "a-long-password") is None


def test_bad_role_short_password_and_duplicates_are_refused(store):
    with pytest.raises(ConfigError, match="role must be one of analyst, supervisor, admin"):
        store.add_user("x", "a-long-password", "root")
    with pytest.raises(ConfigError, match="at least 10"):
        store.add_user("x", "short", "analyst")
    store.add_user("x", "a-long-password")
    with pytest.raises(ConfigError, match="already a user"):
        store.add_user("x", "a-long-password")


def test_disabling_a_user_ends_sessions_and_login(store):
    user = store.add_user("ann", "a-long-password")
    token, csrf = store.create_session(user)
    assert store.resolve_session(token).csrf_token == csrf
    store.set_disabled("ann")
    assert store.resolve_session(token) is None
    assert store.authenticate("ann", "a-long-password") is None


def test_case_workflow_and_dispositions_for_training(workspace, store):
    ann = store.add_user("ann", "a-long-password")
    sam = store.add_user("sam", "a-long-password", "supervisor")
    case = store.open_case("L0001", "Casino ring", ann, ["A1", "A2"], ["P1"])
    assert case.status == "open"
    store.update_case(case.id, status="investigating", assignee="sam")
    store.add_note(case.id, "Cash in $20 bills", ann)
    store.set_disposition(case.id, "false_positive", ann)
    store.set_disposition(case.id, "confirmed", sam, reason="matches the casino records")
    got = store.case(case.id)
    assert (got.status, got.assignee.username, [n.body for n in got.notes]) == (
        "investigating",
        "sam",
        ["Cash in $20 bills"],
    )
    labels = dispositions(workspace)
    assert len(labels) == 1
    assert labels[0]["lead_id"] == "L0001"
    assert labels[0]["account_ids"] == ["A1", "A2"]
    assert labels[0]["party_ids"] == ["P1"]
    assert labels[0]["disposition"] == "confirmed"
    with pytest.raises(ConfigError, match="status must be one of"):
        store.update_case(case.id, status="done")
    with pytest.raises(ConfigError, match="disposition must be one of"):
        store.set_disposition(case.id, "maybe", ann)


def test_dispositions_of_a_workspace_without_cases_is_empty(workspace):
    assert dispositions(workspace) == []
    assert not (workspace.root / "cases.db").exists()


def test_audit_log_is_append_only_in_the_database(workspace, store):
    store.audit("ann", "view", "party", "P1", detail={"x": 1})
    total, rows = store.audit_entries(username="ann")
    assert total == 1 and rows[0].object_id == "P1"
    engine = sa.create_engine(default_database_url(workspace.root))
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as con:
        con.execute(sa.text("UPDATE audit_log SET username = 'mallory'"))
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as con:
        con.execute(sa.text("DELETE FROM audit_log"))
    engine.dispose()
    assert store.audit_entries(username="ann")[0] == 1


def test_in_memory_store_works_for_quick_use():
    s = CaseStore("sqlite://", hasher=Hasher.fast()).open()
    s.add_user("ann", "a-long-password")
    assert [u.username for u in s.users()] == ["ann"]
