"""Formats that convert their input first (FtM): the user's file is the origin; and the CLI help."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
from typer.testing import CliRunner

from moneytrail.cli import app
from moneytrail.ingest import formats, ingest
from moneytrail.workspace import Workspace
from tests.test_ftm_ingest import SANCTIONED


def _ftm_file(tmp_path):
    path = tmp_path / "entities.ftm.json"
    lines = [json.dumps(e, ensure_ascii=False) for e in SANCTIONED]
    lines.insert(2, "this is not json {")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _quarantine(ws: Workspace) -> list[dict]:
    return pq.read_table(ws.path("parties", "quarantine")).to_pylist()


def test_ftm_reingest_keeps_the_quarantine_count(tmp_path):
    path = _ftm_file(tmp_path)
    ws = Workspace(tmp_path / "ws")
    first = ingest(path, "ftm", ws, progress=False)
    before = _quarantine(ws)
    assert first.quarantined == len(before) >= 2
    ingest(path, "ftm", ws, progress=False)
    after = _quarantine(ws)
    assert len(after) == len(before)
    assert {(r["source_file"], r["line"], r["reason"]) for r in after} == {
        (r["source_file"], r["line"], r["reason"]) for r in before
    }


def test_ftm_manifest_names_and_hashes_the_users_file(tmp_path):
    path = _ftm_file(tmp_path)
    report = ingest(path, "ftm", Workspace(tmp_path / "ws"), progress=False)
    manifest = json.loads(report.manifest_path.read_text())
    (entry,) = manifest["inputs"]
    assert entry["path"] == str(path)
    assert entry["bytes"] == path.stat().st_size


def test_format_help_lists_every_registered_format():
    result = CliRunner().invoke(app, ["ingest", "--help"], env={"COLUMNS": "400"})
    assert result.exit_code == 0
    for name in formats():
        assert name in result.output
