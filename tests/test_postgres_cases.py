"""The case store and the workbench on a real PostgreSQL server.

The fixture creates a throw-away cluster owned by the ``postgres`` user (initdb refuses root) on a
free loopback port, and stops and deletes it afterwards. Skips when no server binaries exist.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from moneytrail.investigate.cases import CaseStore, Hasher, dispositions
from moneytrail.workspace import Workspace
from tests.utils.web_fixtures import login, make_app, make_web_workspace

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("postgres")]


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def pg_url():
    bindir = _bin_dir()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (make setup installs the Debian postgresql package)")
    as_root = os.geteuid() == 0
    if as_root and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser, so initdb cannot run as the postgres user")
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    root = Path(tempfile.mkdtemp(prefix="moneytrail-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if as_root:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
    user = "postgres" if as_root else os.environ.get("USER", "postgres")
    port = _free_port()
    run = lambda *cmd: subprocess.run([*prefix, *cmd], check=True, capture_output=True, text=True)  # noqa: E731
    try:
        run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", user, "--no-sync", "-E", "UTF8")
        run(
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-w",
            "-t",
            "60",
            "-l",
            str(root / "server.log"),
            "-o",
            f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        )
    except subprocess.CalledProcessError as e:
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"could not start a PostgreSQL cluster: {e.stderr or e.stdout}")
    admin = sa.create_engine(
        f"postgresql+psycopg://{user}@127.0.0.1:{port}/postgres", isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as con:
        con.execute(sa.text("CREATE DATABASE moneytrail_cases"))
    admin.dispose()
    yield f"postgresql+psycopg://{user}@127.0.0.1:{port}/moneytrail_cases"
    subprocess.run(
        [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True
    )
    shutil.rmtree(root, ignore_errors=True)


def test_case_store_on_postgres(pg_url, tmp_path):
    store = CaseStore(pg_url, hasher=Hasher.fast()).open()
    ann = store.add_user("ann-pg", "a-long-password")
    assert store.engine.dialect.name == "postgresql"
    assert store.authenticate("ann-pg", "a-long-password").id == ann.id
    case = store.open_case("L0001", "Casino ring", ann, ["A1"], ["P1"])
    store.add_note(case.id, "陈国强 delivered the cash", ann)
    store.set_disposition(case.id, "confirmed", ann)
    assert store.case(case.id).notes[0].body.startswith("陈国强")
    labels = dispositions(Workspace(tmp_path), url=pg_url)
    assert any(d["case_id"] == case.id and d["disposition"] == "confirmed" for d in labels)
    store.audit("ann-pg", "view", "party", "P1")
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), store.engine.begin() as con:
        con.execute(sa.text("DELETE FROM audit_log"))
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), store.engine.begin() as con:
        con.execute(sa.text("UPDATE audit_log SET username = 'x'"))
    store.close()


def test_workbench_keeps_cases_in_postgres(pg_url, tmp_path):
    from fastapi.testclient import TestClient

    ws = make_web_workspace(Workspace(tmp_path / "ws"))
    app = make_app(ws, database_url=pg_url)
    c = TestClient(app)
    c.headers["X-CSRF-Token"] = login(c, "ana")
    case = c.post("/api/cases", json={"lead_id": "L0002"}).json()
    assert (
        c.put(f"/api/cases/{case['id']}/disposition", json={"disposition": "false_positive"}).status_code
        == 200
    )
    assert not (ws.root / "cases.db").exists()  # nothing went to the default SQLite file
    engine = sa.create_engine(pg_url)
    with engine.connect() as con:
        got = con.execute(
            sa.text("SELECT disposition FROM dispositions WHERE case_id = :i"), {"i": case["id"]}
        ).scalar()
    engine.dispose()
    assert got == "false_positive"
