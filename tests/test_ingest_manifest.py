"""The ingest manifest: input hashes (computed once per file version) and per-step durations."""

from __future__ import annotations

import hashlib
import json
import os

from moneytrail.ingest import ingest
from moneytrail.workspace import Workspace
from tests.test_ingest_canonical import ACCOUNTS, TRANSACTIONS, write_folder


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
