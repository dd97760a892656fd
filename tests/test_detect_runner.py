"""The runner and the command line: skipped detectors, determinism, screening rows, evaluation."""

from __future__ import annotations

import io
import json

import pyarrow.parquet as pq
import pytest
from rich.console import Console
from typer.testing import CliRunner

from moneytrail.cli import app
from moneytrail.detect.evaluate import evaluate_detectors
from moneytrail.detect.runner import run_detectors
from moneytrail.engine import make_engine
from moneytrail.schema import table
from tests.utils.detect_worlds import conform, txn, write_tables

pytestmark = pytest.mark.duckdb


def _world(ws) -> None:
    rows = [txn(f"t{i}", f"s{i}", "hub", 500, 24 * i) for i in range(6)]
    rows.append(txn("x", "a", "b", 10, 1))
    write_tables(ws, {"transactions": rows})
    labels = [
        {
            "txn_id": r["txn_id"],
            "is_laundering": r["txn_id"] != "x",
            "indicator_ids": "G1" if r["txn_id"] != "x" else None,
            "typology": "fan_in",
            "source": "test",
        }
        for r in rows
    ]
    write_tables(ws, {"transaction_labels": labels}, area="truth")


def test_missing_tables_are_skipped_and_listed(workspace):
    _world(workspace)
    with make_engine("duckdb", workspace) as eng:
        result = run_detectors(eng, only="fan_in,casino_refining,private_lender")
    skipped = {r.detector_id: r.skipped for r in result.skipped}
    assert skipped == {
        "casino_refining": "no table casino_sessions, accounts",
        "private_lender": "no table property_transfers",
    }
    assert workspace.row_count("detector_hits") == 1


def test_output_is_deterministic_and_conforms(workspace):
    _world(workspace)
    outs = []
    for _ in range(2):
        with make_engine("duckdb", workspace) as eng:
            run_detectors(eng, only="fan_in,fan_out")
        outs.append(pq.read_table(workspace.path("detector_hits")))
    assert outs[0].equals(outs[1])
    assert outs[0].schema.names == table("detector_hits").column_names
    assert outs[0].column("hit_id")[0].as_py() and len(outs[0].column("hit_id")[0].as_py()) == 32


def test_screening_hits_are_included_unchanged(workspace):
    _world(workspace)
    screening = [
        {
            "hit_id": "w1",
            "detector_id": "screening",
            "indicator_ids": "W1",
            "entity_kind": "party",
            "entity_id": "p9",
            "severity": 0.9,
        }
    ]
    workspace.write(
        "screening_hits", conform("detector_hits", __import__("pyarrow").Table.from_pylist(screening))
    )
    with make_engine("duckdb", workspace) as eng:
        result = run_detectors(eng, only="fan_in")
    assert result.screening_rows == 1
    ids = pq.read_table(workspace.path("detector_hits")).column("hit_id").to_pylist()
    assert "w1" in ids and len(ids) == 2


def test_evaluate_reports_precision_and_recall(workspace):
    _world(workspace)
    with make_engine("duckdb", workspace) as eng:
        run_detectors(eng, only="fan_in")
    m = evaluate_detectors(workspace)
    assert m["detectors"]["fan_in"]["precision"] == 1.0
    assert m["indicators"]["G1"]["recall"] == 1.0 and m["indicators"]["G1"]["records"] == 6


def test_cli_detect_and_evaluate(workspace):
    _world(workspace)
    runner = CliRunner()
    res = runner.invoke(app, ["detect", "--workspace", str(workspace.root), "--only", "fan_in", "--no-score"])
    assert res.exit_code == 0, res.output
    assert "fan_in" in res.output and workspace.has("detector_hits")
    res = runner.invoke(app, ["evaluate", "--workspace", str(workspace.root), "--detectors", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["indicators"]["G1"]["recall"] == 1.0


def test_cli_rejects_unknown_detector(workspace):
    _world(workspace)
    res = CliRunner().invoke(
        app, ["detect", "--workspace", str(workspace.root), "--only", "nope", "--no-score"]
    )
    assert res.exit_code != 0


def test_runs_report_wall_and_cpu_seconds(workspace):
    _world(workspace)
    with make_engine("duckdb", workspace) as eng:
        result = run_detectors(eng, only="fan_in,private_lender", write=False)
    ran, skipped = result.runs[0], result.runs[1]
    assert ran.detector_id == "fan_in" and ran.seconds > 0 and ran.cpu_seconds > 0
    assert skipped.skipped and skipped.seconds == 0 and skipped.cpu_seconds == 0


def test_a_line_per_detector_when_not_on_a_terminal(workspace):
    _world(workspace)
    out = io.StringIO()
    with make_engine("duckdb", workspace) as eng:
        run_detectors(eng, only="fan_in,fan_out", write=False, console=Console(file=out))
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("detect fan_in: 1 hits in ") and lines[1].startswith(
        "detect fan_out: 0 hits in "
    )
    # on a terminal the progress bar says it instead
    tty = io.StringIO()
    with make_engine("duckdb", workspace) as eng:
        run_detectors(eng, only="fan_in", write=False, console=Console(file=tty, force_terminal=True))
    assert "detect fan_in: 1 hits" not in tty.getvalue()


def test_detectors_run_without_kept_row_order_and_the_engine_keeps_it_afterwards(workspace, monkeypatch):
    _world(workspace)
    seen = []
    with make_engine("duckdb", workspace) as eng:
        query = eng.query

        def spy(sql, label=None):
            seen.append(
                eng.con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()[0][0]
            )
            return query(sql, label=label)

        monkeypatch.setattr(eng, "query", spy)
        run_detectors(eng, only="fan_in,fan_out")
        after = eng.con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()[0][0]
    # every detector query ran with the order let go; tables written later keep their order
    assert seen and not any(seen)
    assert after is True
