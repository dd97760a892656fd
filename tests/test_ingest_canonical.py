"""Ingest of canonical folders: validation, quarantine, placeholders, truth, idempotence, CLI."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from moneytrail.cli import app
from moneytrail.errors import InputFileError, StrictModeError
from moneytrail.ingest import ingest, pipeline
from moneytrail.workspace import Workspace

pytestmark = pytest.mark.duckdb

TRANSACTIONS = """\
txn_id,ts,src_account_id,dst_account_id,amount,currency,channel,memo,source,source_id
t1,2020-01-01T10:00:00Z,a1,a2,100.5,CAD,wire,"rent, january",bank,t1
t2,2020-01-02,a1,a9,20,USD,eft,,bank,t2
t3,2020-01-03 12:00:00+02:00,a2,a1,7,eur,cash,,bank,t3
"""
ACCOUNTS = """\
account_id,holder_party_id,institution,institution_type,currency,source,source_id
a1,p1,RBC,bank,CAD,bank,a1
a2,p2,TD,bank,CAD,bank,a2
"""
PARTIES = """\
party_id,kind,name,source,source_id
p1,person,Li Wei,bank,p1
"""


def write_folder(folder: Path, **files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name.replace("__", ".")).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def world(tmp_path: Path) -> Path:
    return write_folder(
        tmp_path / "world",
        transactions__csv=TRANSACTIONS,
        accounts__csv=ACCOUNTS,
        parties__csv=PARTIES,
    )


def rows(ws: Workspace, name: str, area: str = "tables") -> list[dict]:
    return ws.read(name, area).to_pylist()


def test_canonical_folder_loads_typed_rows(world, workspace):
    report = ingest(world, "canonical", workspace, progress=False)
    tx = {r["txn_id"]: r for r in rows(workspace, "transactions")}
    assert list(tx) == ["t1", "t2", "t3"]  # file order kept
    assert tx["t1"]["memo"] == "rent, january"
    assert tx["t1"]["amount"] == 100.5 and tx["t1"]["amount_cad"] == 100.5
    # An offset is honoured: 12:00 at +02:00 is 10:00 UTC; lower-case currency codes are accepted.
    assert tx["t3"]["ts"].hour == 10 and tx["t3"]["currency"] == "EUR"
    assert tx["t2"]["amount_cad"] == pytest.approx(20 * 1.37)
    c = report.tables["transactions"]
    assert (c.read, c.loaded, c.quarantined) == (3, 3, 0)
    assert workspace.read("transactions").schema.field("ts").type == pa.timestamp("us")


def test_unknown_counterparties_become_external_placeholders(world, workspace):
    report = ingest(world, "canonical", workspace, progress=False)
    acc = {r["account_id"]: r for r in rows(workspace, "accounts")}
    assert acc["a9"]["is_external"] is True and acc["a9"]["source"] == "bank"
    assert acc["a1"]["is_external"] is None
    parties = {r["party_id"]: r for r in rows(workspace, "parties")}
    assert parties["p2"]["kind"] == "unknown"  # the holder of a2 is never described
    assert report.tables["accounts"].placeholders == 1
    assert report.tables["parties"].placeholders == 1


@pytest.mark.parametrize("fast_path", [True, False], ids=["unchanged-input", "merged"])
def test_reingest_changes_nothing(world, workspace, monkeypatch, fast_path):
    if not fast_path:
        # The merge route, which a re-ingest takes when another ingest came in between.
        monkeypatch.setattr(pipeline, "unchanged_since", lambda *args: None)
    ingest(world, "canonical", workspace, progress=False)
    digest = {n: hashlib.sha256(workspace.path(n).read_bytes()).hexdigest() for n in workspace.names()}
    second = ingest(world, "canonical", workspace, progress=False)
    assert second.unchanged == fast_path
    again = {n: hashlib.sha256(workspace.path(n).read_bytes()).hexdigest() for n in workspace.names()}
    assert again == digest
    assert second.tables["accounts"].placeholders == 0
    assert workspace.row_count("transactions") == 3


def test_reingest_replaces_rows_by_source_id_and_keeps_other_sources(world, workspace, tmp_path):
    ingest(world, "canonical", workspace, progress=False)
    other = write_folder(
        tmp_path / "other",
        transactions__csv="txn_id,ts,src_account_id,dst_account_id,amount,currency,channel,source,source_id\n"
        "c1,2020-02-01,a1,a2,5,CAD,cash,casino,c1\n",
    )
    ingest(other, "canonical", workspace, progress=False)
    changed = write_folder(tmp_path / "changed", transactions__csv=TRANSACTIONS.replace("100.5", "200"))
    ingest(changed, "canonical", workspace, progress=False)
    tx = {r["txn_id"]: r["amount"] for r in rows(workspace, "transactions")}
    assert tx == {"c1": 5.0, "t1": 200.0, "t2": 20.0, "t3": 7.0}


def test_truth_subfolder_goes_to_the_truth_area(world, workspace):
    (world / "truth").mkdir()
    pq.write_table(
        pa.table({"txn_id": ["t1", "t2"], "is_laundering": [True, False], "source": ["sim", "sim"]}),
        world / "truth" / "transaction_labels.parquet",
    )
    report = ingest(world, "canonical", workspace, progress=False)
    labels = rows(workspace, "transaction_labels", "truth")
    assert [(r["txn_id"], r["is_laundering"]) for r in labels] == [("t1", True), ("t2", False)]
    assert report.truth["transaction_labels"].loaded == 2
    assert "transaction_labels" not in workspace.names("tables")


def test_parquet_tables_are_validated_too(tmp_path, workspace):
    folder = tmp_path / "pq"
    folder.mkdir()
    pq.write_table(
        pa.table(
            {
                "account_id": ["a1", "a2", "a1"],
                "currency": ["CAD", "ZZZ", "CAD"],
                "source": ["s", "s", "s"],
                "source_id": ["a1", "a2", "a1b"],
            }
        ),
        folder / "accounts.parquet",
    )
    report = ingest(folder, "canonical", workspace, progress=False)
    assert report.tables["accounts"].loaded == 1
    q = rows(workspace, "accounts", "quarantine")
    assert [r["line"] for r in q] == [2, 3]  # Parquet "lines" are 1-based row numbers
    assert q[0]["reason"] == "column 'currency' is not a known ISO 4217 currency code: 'ZZZ'"
    assert q[1]["reason"].startswith("duplicate account_id 'a1' (first seen on line 1 of")


def test_missing_required_column_is_a_file_error_and_writes_nothing(tmp_path):
    folder = write_folder(tmp_path / "bad", transactions__csv=TRANSACTIONS.replace("amount,", "amt,"))
    ws = Workspace(tmp_path / "ws")
    with pytest.raises(InputFileError, match=r"transactions\.csv has no column 'amount'"):
        ingest(folder, "canonical", ws, progress=False)
    assert not ws.root.exists() or ws.names() == []


def test_strict_fails_on_quarantined_rows_and_keeps_tables(world, workspace):
    ingest(world, "canonical", workspace, progress=False)
    before = workspace.path("transactions").read_bytes()
    (world / "transactions.csv").write_text(TRANSACTIONS + "t4,2020-01-04,a1,a2,-1,CAD,wire,,bank,t4\n")
    with pytest.raises(StrictModeError, match="1 row"):
        ingest(world, "canonical", workspace, strict=True, progress=False)
    assert workspace.path("transactions").read_bytes() == before
    assert workspace.row_count("transactions", "quarantine") == 1


def test_cli_prints_counts_and_exits_2_on_a_file_error(world, tmp_path):
    from moneytrail.cli import main  # noqa: F401 - the module registers the command

    runner = CliRunner()
    ws = tmp_path / "ws"
    ok = runner.invoke(app, ["ingest", str(world), "--format", "canonical", "--workspace", str(ws)])
    assert ok.exit_code == 0, ok.output
    assert "transactions" in ok.output and "placeholders" in ok.output
    manifest = json.loads(next((ws / "runs").glob("*.json")).read_text())
    assert manifest["counts"]["transactions.loaded"] == 3 and manifest["inputs"][0]["sha256"]


def test_cli_error_is_one_sentence_with_exit_code_2(tmp_path):
    import subprocess
    import sys

    folder = write_folder(tmp_path / "bad", transactions__csv="txn_id;ts;amount\n1;2;3\n")
    ws = tmp_path / "ws"
    code = "from moneytrail.cli import main; main()"
    out = subprocess.run(
        [sys.executable, "-c", code, "ingest", str(folder), "--format", "canonical", "--workspace", str(ws)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    assert "has no column" in out.stderr and "comma-separated" in out.stderr
    assert "Traceback" not in out.stderr
    assert not (ws / "tables").exists()
