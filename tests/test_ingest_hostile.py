"""Hostile input: each broken file or row gets the promised behaviour.

File-level problems (truncated gzip, wrong delimiter, a header missing a column) are one clear
error and write nothing; row-level problems (bad amounts, dates, encodings, duplicate ids, a huge
line) go to the quarantine with their line and reason, and ``read == loaded + quarantined``.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from moneytrail.errors import InputFileError
from moneytrail.ingest import ingest, pipeline
from moneytrail.workspace import Workspace

pytestmark = pytest.mark.duckdb

ACCOUNTS = (
    "acct_id,dsply_nm,type,acct_rptng_crncy,first_name,last_name\n1,C_1,I,USD,Ann,Lee\n2,C_2,I,USD,Bo,Wu\n"
)
TX_HEADER = "tran_id,orig_acct,bene_acct,tx_type,base_amt,tran_timestamp\n"


def tx_line(i: int, amount: str = "10.00", ts: str = "2017-01-01T00:00:00Z", orig: str = "1") -> str:
    return f"{i},{orig},2,TRANSFER,{amount},{ts}\n"


def amlsim_folder(tmp_path: Path, body: str | bytes, name: str = "transactions.csv") -> Path:
    folder = tmp_path / "amlsim"
    folder.mkdir(exist_ok=True)
    (folder / "accounts.csv").write_text(ACCOUNTS)
    data = body if isinstance(body, bytes) else body.encode()
    (folder / name).write_bytes(data)
    return folder


def run(folder: Path, tmp_path: Path, fmt: str = "amlsim"):
    ws = Workspace(tmp_path / "ws")
    return ws, ingest(folder, fmt, ws, progress=False)


def quarantine(ws: Workspace, name: str = "transactions") -> list[dict]:
    return ws.read(name, "quarantine").to_pylist()


def assert_balanced(report) -> None:
    for c in [*report.tables.values(), *report.truth.values()]:
        assert c.read == c.loaded + c.quarantined


def assert_nothing_written(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    assert ws.names("tables") == [] and ws.names("quarantine") == [] and ws.names("truth") == []


# -- file-level problems ------------------------------------------------------------------------
def test_truncated_gzip_is_a_file_error_and_writes_nothing(tmp_path):
    body = TX_HEADER + "".join(tx_line(i, amount=f"{i}.25") for i in range(1, 40_000))
    packed = gzip.compress(body.encode())
    folder = amlsim_folder(tmp_path, packed[: len(packed) // 2], "transactions.csv.gz")
    with pytest.raises(InputFileError, match=r"transactions\.csv\.gz cannot be read"):
        run(folder, tmp_path)
    assert_nothing_written(tmp_path)


def test_wrong_delimiter_is_a_file_error_naming_the_column(tmp_path):
    folder = amlsim_folder(tmp_path, TX_HEADER.replace(",", ";") + tx_line(1).replace(",", ";"))
    with pytest.raises(InputFileError, match=r"has no column 'tran_id'.*comma-separated"):
        run(folder, tmp_path)
    assert_nothing_written(tmp_path)


def test_header_missing_a_column_is_a_file_error(tmp_path):
    folder = amlsim_folder(tmp_path, TX_HEADER.replace(",base_amt", "") + "1,1,2,TRANSFER,2017-01-01\n")
    with pytest.raises(InputFileError, match=r"transactions\.csv has no column 'base_amt'"):
        run(folder, tmp_path)
    assert_nothing_written(tmp_path)


def test_missing_file_and_unknown_format_are_clear(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputFileError, match="has no transactions.csv"):
        run(tmp_path / "empty", tmp_path)
    with pytest.raises(InputFileError, match="Cannot recognise the format"):
        run(tmp_path / "empty", tmp_path, fmt="auto")


# -- row-level problems -------------------------------------------------------------------------
def test_bad_amounts_and_dates_are_quarantined_with_line_and_reason(tmp_path):
    body = (
        TX_HEADER
        + tx_line(1)
        + tx_line(2, amount="1e309")
        + tx_line(3, amount="-5")
        + tx_line(4, amount="NaN")
        + tx_line(5, amount='"12,50"')
        + tx_line(6, ts="2017-13-45")
        + tx_line(7)
    )
    ws, report = run(amlsim_folder(tmp_path, body), tmp_path)
    assert_balanced(report)
    assert report.tables["transactions"].loaded == 2
    got = {r["line"]: r["reason"] for r in quarantine(ws)}
    # Reasons name the AMLSim column, not only the canonical one.
    assert got == {
        3: "column 'base_amt' is not a finite amount: '1e309'",
        4: "column 'base_amt' is a negative amount: '-5'",
        5: "column 'base_amt' is not a finite amount: 'NaN'",
        6: "column 'base_amt' is not a number: '12,50'",
        7: "column 'tran_timestamp' is not a valid date and time: '2017-13-45'",
    }
    raw = {r["line"]: r["raw"] for r in quarantine(ws)}
    assert raw[4] == "3,1,2,TRANSFER,-5,2017-01-01T00:00:00Z"
    assert [r["source_id"] for r in ws.read("transactions").to_pylist()] == ["1", "7"]


def test_duplicate_ids_keep_the_first_and_quarantine_the_rest(tmp_path):
    body = TX_HEADER + tx_line(1) + tx_line(2) + tx_line(1, amount="99") + tx_line(1, amount="98")
    ws, report = run(amlsim_folder(tmp_path, body), tmp_path)
    assert_balanced(report)
    assert ws.read("transactions").column("amount").to_pylist() == [10.0, 10.0]
    q = quarantine(ws)
    assert [r["line"] for r in q] == [4, 5]
    assert q[0]["reason"].startswith("duplicate txn_id 'amlsim:1' (first seen on line 2 of")


def test_non_utf8_bytes_quarantine_the_line_and_later_lines_keep_their_numbers(tmp_path):
    body = (
        (TX_HEADER + tx_line(1)).encode()
        + b"2,1,2,TRANSFER,5.00,2017-01-01\xff\xfe\n"
        + (tx_line(3, amount="-1") + tx_line(4)).encode()
    )
    ws, report = run(amlsim_folder(tmp_path, body), tmp_path)
    assert_balanced(report)
    q = {r["line"]: r["reason"] for r in quarantine(ws)}
    assert q[3] == "the line is not valid UTF-8 text"
    assert q[4].startswith("column 'base_amt' is a negative amount")  # line 4, not 3: numbers stay right
    assert report.tables["transactions"].loaded == 2


def test_a_10_mb_line_is_quarantined_and_the_rest_loads(tmp_path):
    huge = "9,1,2,TRANSFER,5.00," + "x" * (10 * 2**20) + "\n"
    body = TX_HEADER + tx_line(1) + huge + tx_line(2)
    ws, report = run(amlsim_folder(tmp_path, body), tmp_path)
    assert_balanced(report)
    (row,) = quarantine(ws)
    assert row["line"] == 3 and "longer than" in row["reason"]
    assert len(row["raw"]) <= 10_000
    assert ws.read("transactions").column("source_id").to_pylist() == ["1", "2"]


def test_wrong_field_count_is_quarantined(tmp_path):
    body = TX_HEADER + tx_line(1) + "2,1,2\n" + "3,1,2,TRANSFER,1,2017-01-01,extra\n" + tx_line(4)
    ws, report = run(amlsim_folder(tmp_path, body), tmp_path)
    assert_balanced(report)
    q = {r["line"]: r["reason"] for r in quarantine(ws)}
    assert q == {
        3: "the line has 3 fields but the header has 6",
        4: "the line has 7 fields but the header has 6",
    }


def test_tide_ids_stay_edge_row_indexes_after_a_rejected_line(tmp_path):
    folder = tmp_path / "tide"
    folder.mkdir()
    (folder / "generated_nodes.csv").write_text(
        "node_id,node_type,name,currency\n"
        "individual_1,NodeType.INDIVIDUAL,Ann,\naccount_1,NodeType.ACCOUNT,,EUR\naccount_2,NodeType.ACCOUNT,,GBP\n"
    )
    (folder / "generated_edges.csv").write_bytes(
        b"src,dest,edge_type,amount,currency,timestamp,transaction_type\n"
        b"individual_1,account_1,ownership,,,,\n"
        b"account_1,account_2,transaction,5.0,EUR,2025-01-01 00:00:00,TransactionType.PAYMENT\n"
        b"account_1,account_2,transaction,\xff,EUR,2025-01-01,TransactionType.PAYMENT\n"
        b"account_2,account_1,transaction,7.5,GBP,2025-01-02 00:00:00,TransactionType.TRANSFER\n"
        b"account_2,account_1,transfer,1.0,GBP,2025-01-03 00:00:00,TransactionType.TRANSFER\n"
    )
    ws, report = run(folder, tmp_path, fmt="auto")
    assert report.format == "tide"
    assert_balanced(report)
    tx = ws.read("transactions").to_pylist()
    assert [(r["source_id"], r["amount"]) for r in tx] == [("1", 5.0), ("3", 7.5)]
    q = {r["line"]: r["reason"] for r in quarantine(ws)}
    assert q == {
        4: "the line is not valid UTF-8 text",
        6: "column 'edge_type' must be transaction or ownership; got 'transfer'",
    }
    acc = {r["account_id"]: r["holder_party_id"] for r in ws.read("accounts").to_pylist()}
    assert acc == {"tide:account_1": "tide:individual_1", "tide:account_2": None}


@pytest.mark.parametrize("fast_path", [True, False], ids=["unchanged-input", "merged"])
def test_amlsim_reingest_changes_no_table_or_truth(tmp_path, monkeypatch, fast_path):
    import hashlib

    if not fast_path:
        # The merge route, which a re-ingest takes when another ingest came in between.
        monkeypatch.setattr(pipeline, "unchanged_since", lambda *args: None)

    body = "tran_id,orig_acct,bene_acct,tx_type,base_amt,tran_timestamp,is_sar,alert_id\n"
    body += "1,1,2,TRANSFER,10.00,2017-01-01T00:00:00Z,False,-1\n2,2,3,TRANSFER,20.00,2017-01-02T00:00:00Z,True,7\n"
    folder = amlsim_folder(tmp_path, body)
    ws, first = run(folder, tmp_path)
    assert first.tables["accounts"].placeholders == 1  # account 3 is never described: external
    digest = {
        (area, n): hashlib.sha256(ws.path(n, area).read_bytes()).hexdigest()
        for area in ("tables", "truth")
        for n in ws.names(area)
    }
    assert ("truth", "transaction_labels") in digest
    second = ingest(folder, "amlsim", ws, progress=False)
    again = {
        (area, n): hashlib.sha256(ws.path(n, area).read_bytes()).hexdigest()
        for area in ("tables", "truth")
        for n in ws.names(area)
    }
    assert again == digest
    assert second.unchanged == fast_path
    assert second.tables["accounts"].placeholders == 0 and second.tables["transactions"].loaded == 2
    labels = ws.read("transaction_labels", "truth").to_pylist()
    assert [(r["txn_id"], r["is_laundering"], r["network_id"]) for r in labels] == [
        ("amlsim:1", False, None),
        ("amlsim:2", True, "7"),
    ]
