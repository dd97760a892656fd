"""``moneytrail report`` on the command line: writes the file, fails clearly on bad input."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from moneytrail.cli import app
from moneytrail.workspace import Workspace
from tests.utils.report_fixtures import LEAD_ID, build_report_workspace


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Workspace:
    return build_report_workspace(Workspace(tmp_path_factory.mktemp("cli") / "ws"))


def test_report_writes_the_str(ws, tmp_path):
    out = tmp_path / "draft.json"
    result = CliRunner().invoke(
        app,
        [
            "report",
            LEAD_ID,
            "--workspace",
            str(ws.root),
            "--format",
            "str",
            "--out",
            str(out),
            "--reporting-entity",
            "Pacific Bank",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["reporting_entity"]["name"] == "Pacific Bank"
    assert len(doc["transactions"]) == 9


def test_report_rejects_an_unknown_format(ws, tmp_path):
    result = CliRunner().invoke(
        app,
        ["report", LEAD_ID, "--workspace", str(ws.root), "--format", "docx", "--out", str(tmp_path / "x")],
    )
    assert result.exit_code != 0
    assert "'--format' option must be one of" in str(result.exception)
    assert not (tmp_path / "x").exists()


def test_report_names_a_missing_lead(ws, tmp_path):
    result = CliRunner().invoke(
        app, ["report", "L4242", "--workspace", str(ws.root), "--out", str(tmp_path / "x.html")]
    )
    assert result.exit_code != 0
    assert "'L4242' is neither a lead" in str(result.exception)
