"""The ingest manifest: input hashes (computed once per file version), per-step durations, and
the re-ingest of unchanged input, which the last manifest shows has nothing to do."""

from __future__ import annotations

import hashlib
import json
import os

from typer.testing import CliRunner

from moneytrail.cli import app
from moneytrail.ingest import ingest
from moneytrail.workspace import Workspace
from tests.test_ingest_canonical import ACCOUNTS, PARTIES, TRANSACTIONS, write_folder


def _inputs(report) -> dict[str, dict]:
    manifest = json.loads(report.manifest_path.read_text())
    return {os.path.basename(e["path"]): e for e in manifest["inputs"]}


def test_manifest_hashes_inputs_and_times_each_step(tmp_path):
    world = write_folder(tmp_path / "world", transactions__csv=TRANSACTIONS, accounts__csv=ACCOUNTS)
    report = ingest(world, "canonical", Workspace(tmp_path / "ws"), progress=False)
    entry = _inputs(report)["transactions.csv"]
    assert entry["sha256"] == hashlib.sha256((world / "transactions.csv").read_bytes()).hexdigest()
    durations = json.loads(report.manifest_path.read_text())["durations_s"]
    assert {"validate", "write transactions", "hash inputs"} <= durations.keys()


def test_unchanged_file_reuses_its_hash_and_a_changed_one_is_hashed_again(tmp_path):
    world = write_folder(tmp_path / "world", transactions__csv=TRANSACTIONS, accounts__csv=ACCOUNTS)
    ws = Workspace(tmp_path / "ws")
    path = world / "transactions.csv"
    first = _inputs(ingest(world, "canonical", ws, progress=False))["transactions.csv"]
    # Same path, size and modification time: the recorded hash is reused, not recomputed
    # (the content was swapped behind the file system's back to tell the two apart).
    st = path.stat()
    path.write_text(TRANSACTIONS.replace("t1,2020", "t7,2020"), encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    second = _inputs(ingest(world, "canonical", ws, progress=False))["transactions.csv"]
    assert second["sha256"] == first["sha256"]
    # A new modification time means a new version of the file: hashed again.
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    third = _inputs(ingest(world, "canonical", ws, progress=False))["transactions.csv"]
    assert third["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() != first["sha256"]


def _files(ws: Workspace) -> dict[str, tuple[int, int, str]]:
    """Every table, truth and quarantine file: inode, modification time and sha256."""
    out = {}
    for p in sorted(ws.root.glob("*/*.parquet")):
        st = p.stat()
        out[str(p)] = (st.st_ino, st.st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
    return out


def _world(tmp_path, name: str = "world"):
    return write_folder(
        tmp_path / name, transactions__csv=TRANSACTIONS, accounts__csv=ACCOUNTS, parties__csv=PARTIES
    )


def test_reingest_of_unchanged_input_does_nothing_and_says_so(tmp_path):
    world = _world(tmp_path)
    ws = Workspace(tmp_path / "ws")
    first = ingest(world, "canonical", ws, progress=False)
    before = _files(ws)
    second = ingest(world, "canonical", ws, progress=False)
    assert second.unchanged and second.unchanged_since == first.run_id
    # No table was read or written: the same files, not rewritten copies.
    assert _files(ws) == before
    manifest = json.loads(second.manifest_path.read_text())
    assert manifest["status"] == "unchanged"
    assert "validate" not in manifest["durations_s"] and "check for changes" in manifest["durations_s"]
    assert {e["path"]: e["sha256"] for e in manifest["inputs"]} == {
        str(world / n): hashlib.sha256((world / n).read_bytes()).hexdigest()
        for n in ("transactions.csv", "accounts.csv", "parties.csv")
    }
    # The counts a re-ingest reports: the first run's, with no placeholder added.
    assert first.tables["accounts"].placeholders == 1
    assert second.tables["accounts"].placeholders == 0
    for name, c in first.tables.items():
        assert (c.read, c.loaded, c.quarantined, c.total) == (
            second.tables[name].read,
            second.tables[name].loaded,
            second.tables[name].quarantined,
            second.tables[name].total,
        )
    # An unchanged run is itself a base for the next one, and the command line says so.
    result = CliRunner().invoke(
        app, ["ingest", str(world), "--format", "canonical", "--workspace", str(ws.root)]
    )
    assert result.exit_code == 0, result.output
    assert "Nothing to do" in result.output and "transactions" in result.output
    assert _files(ws) == before


def test_a_byte_changed_in_place_is_ingested(tmp_path):
    world = _world(tmp_path)
    ws = Workspace(tmp_path / "ws")
    ingest(world, "canonical", ws, progress=False)
    # Same size and modification time: only the content tells, so it is hashed afresh.
    path = world / "transactions.csv"
    st = path.stat()
    path.write_text(TRANSACTIONS.replace("100.5", "100.6"), encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size
    again = ingest(world, "canonical", ws, progress=False)
    assert not again.unchanged
    assert json.loads(again.manifest_path.read_text())["status"] == "ok"
    amounts = {r["txn_id"]: r["amount"] for r in ws.read("transactions").to_pylist()}
    assert amounts["t1"] == 100.6


def test_another_ingest_in_between_means_the_normal_route(tmp_path):
    world = _world(tmp_path)
    other = write_folder(
        tmp_path / "other",
        transactions__csv="txn_id,ts,src_account_id,dst_account_id,amount,currency,channel,source,source_id\n"
        "c1,2020-02-01,a1,a2,5,CAD,cash,casino,c1\n",
    )
    ws = Workspace(tmp_path / "ws")
    ingest(world, "canonical", ws, progress=False)
    ingest(other, "canonical", ws, progress=False)
    again = ingest(world, "canonical", ws, progress=False)
    assert not again.unchanged
    assert ws.row_count("transactions") == 4
    # Strict or not is part of what was asked: a strict run is never taken for a lenient one.
    assert not ingest(world, "canonical", ws, strict=True, progress=False).unchanged


def test_a_table_written_since_the_last_ingest_means_the_normal_route(tmp_path):
    world = _world(tmp_path)
    ws = Workspace(tmp_path / "ws")
    ingest(world, "canonical", ws, progress=False)
    # As if something rewrote the table after the ingest (another command, an interrupted run).
    table = ws.path("transactions")
    st = table.stat()
    os.utime(table, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert not ingest(world, "canonical", ws, progress=False).unchanged
