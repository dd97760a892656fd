"""The fast paths of the ingest: parallel reads with exact line numbers, and the Parquet writer."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from moneytrail.ingest import ingest
from moneytrail.ingest.parquet import write_parquet
from moneytrail.workspace import Workspace

pytestmark = pytest.mark.duckdb

ACCOUNTS = "acct_id,dsply_nm,type,acct_rptng_crncy\n1,C_1,I,USD\n2,C_2,I,USD\n"


@pytest.mark.slow
def test_line_numbers_stay_exact_when_a_large_file_is_read_in_parallel(tmp_path):
    # About 45 MB: DuckDB's CSV reader splits it between threads.
    rows = 700_000
    bad = {10: "-5", 250_123: "NaN", 512_345: "abc", 699_999: "-1"}
    folder = tmp_path / "amlsim"
    folder.mkdir()
    (folder / "accounts.csv").write_text(ACCOUNTS)
    amount = "CASE i " + " ".join(f"WHEN {i} THEN '{v}'" for i, v in bad.items()) + " ELSE '10.50' END"
    # Record 600,000 repeats the id of record 5.
    tran_id = "CASE WHEN i = 600000 THEN 5 ELSE i END"
    duckdb.sql(
        f"""COPY (SELECT {tran_id} AS tran_id, 1 AS orig_acct, 2 AS bene_acct, 'TRANSFER' AS tx_type,
                  {amount} AS base_amt, '2017-01-01T00:00:00Z' AS tran_timestamp,
                  'padding to make the lines longer than usual' AS note
            FROM range({rows}) t(i) ORDER BY i) TO '{folder / "transactions.csv"}' (HEADER)"""
    )
    ws = Workspace(tmp_path / "ws")
    report = ingest(folder, "amlsim", ws, progress=False)
    counts = report.tables["transactions"]
    assert (counts.read, counts.loaded, counts.quarantined) == (rows, rows - 5, 5)
    # Record i (0-based) is on line i + 2.
    lines = {r["line"]: r["reason"] for r in ws.read("transactions", "quarantine").to_pylist()}
    assert sorted(lines) == sorted([*(i + 2 for i in bad), 600_002])
    assert lines[512_347] == "column 'base_amt' is not a number: 'abc'"
    assert lines[600_002].startswith("duplicate txn_id 'amlsim:5' (first seen on line 7 of")
    ids = ws.read("transactions").column("source_id").to_pylist()
    expected = [str(i) for i in range(rows) if i not in bad and i != 600_000]
    assert ids == expected


def test_write_parquet_streams_rows_with_their_types(tmp_path):
    con = duckdb.connect()
    con.execute(
        """CREATE TABLE t AS SELECT 'id:' || i AS txn_id, 'USD' AS currency, i * 1.5::DOUBLE AS amount,
                  TIMESTAMP '2020-01-01' + INTERVAL (i) SECOND AS ts, i % 2 = 0 AS flag
           FROM range(300000) r(i)"""
    )
    con.execute("SELECT count(*) FROM t").fetchone()  # an unfinished result must not get in the way
    path = tmp_path / "t.parquet"
    assert write_parquet(con, "SELECT * FROM t ORDER BY amount", path) == 300_000
    got = pq.read_table(path)
    assert [(f.name, f.type) for f in got.schema] == [
        ("txn_id", pa.string()),
        ("currency", pa.string()),
        ("amount", pa.float64()),
        ("ts", pa.timestamp("us")),
        ("flag", pa.bool_()),
    ]
    assert got.column("txn_id").to_pylist()[:2] == ["id:0", "id:1"]
    meta = pq.ParquetFile(path).metadata
    assert meta.num_row_groups > 1
    encodings = {meta.schema.column(j).name: meta.row_group(0).column(j).encodings for j in range(5)}
    # Repetitive columns are dictionary-encoded, unique ones are not.
    assert "RLE_DICTIONARY" in encodings["currency"]
    assert "RLE_DICTIONARY" not in encodings["txn_id"]


def test_write_parquet_writes_an_empty_result_with_its_columns(tmp_path):
    con = duckdb.connect()
    path = tmp_path / "empty.parquet"
    assert write_parquet(con, "SELECT 'a' AS name, 1.5 AS amount WHERE false", path) == 0
    got = pq.read_table(path)
    assert got.num_rows == 0 and got.column_names == ["name", "amount"]


def test_label_columns_left_empty_keep_their_declared_types(tmp_path: Path):
    folder = tmp_path / "amlsim"
    folder.mkdir()
    (folder / "accounts.csv").write_text(ACCOUNTS)
    (folder / "transactions.csv").write_text(
        "tran_id,orig_acct,bene_acct,tx_type,base_amt,tran_timestamp,is_sar,alert_id\n"
        "1,1,2,TRANSFER,10.00,2017-01-01T00:00:00Z,true,7\n"
    )
    ws = Workspace(tmp_path / "ws")
    ingest(folder, "amlsim", ws, progress=False)
    schema = ws.read("transaction_labels", "truth").schema
    # No alert file: the typology is NULL, but still a string column.
    assert schema.field("typology").type == pa.string()
    assert schema.field("is_laundering").type == pa.bool_()


def test_amlsim_with_several_currencies_keeps_lines_and_order(tmp_path: Path):
    # Two reporting currencies: each transaction takes its paying account's, through a join, so
    # the transactions file is read with numbered lines rather than in parallel.
    folder = tmp_path / "amlsim"
    folder.mkdir()
    (folder / "accounts.csv").write_text(
        "acct_id,dsply_nm,type,acct_rptng_crncy\n1,C_1,I,USD\n2,C_2,I,EUR\n3,C_3,I,EUR\n"
    )
    (folder / "transactions.csv").write_text(
        "tran_id,orig_acct,bene_acct,tx_type,base_amt,tran_timestamp\n"
        "1,2,1,TRANSFER,10.00,2017-01-01T00:00:00Z\n"
        "2,1,2,TRANSFER,-3,2017-01-01T00:00:00Z\n"
        "3,1,3,TRANSFER,5.00,2017-01-02T00:00:00Z\n"
        "4,3,1,TRANSFER,7.00,2017-01-03T00:00:00Z\n"
    )
    ws = Workspace(tmp_path / "ws")
    ingest(folder, "amlsim", ws, progress=False)
    tx = ws.read("transactions").to_pylist()
    assert [(r["source_id"], r["currency"]) for r in tx] == [("1", "EUR"), ("3", "USD"), ("4", "EUR")]
    (bad,) = ws.read("transactions", "quarantine").to_pylist()
    assert (bad["line"], bad["reason"]) == (3, "column 'base_amt' is a negative amount: '-3'")
    accounts = ws.read("accounts").column("source_id").to_pylist()
    assert accounts == ["1", "2", "3"]


def test_tide_edges_are_read_once_and_keep_their_row_indexes(tmp_path: Path):
    # Three mappings read the edges (holders, transactions, links): the file is read once, in
    # parallel, and the rows' positions give the lines and the transaction ids.
    folder = tmp_path / "tide"
    folder.mkdir()
    (folder / "generated_nodes.csv").write_text(
        "node_id,node_type,name,currency\n"
        "individual_1,NodeType.INDIVIDUAL,Ann,\nbusiness_1,NodeType.BUSINESS,Co,\n"
        "account_1,NodeType.ACCOUNT,,EUR\naccount_2,NodeType.ACCOUNT,,GBP\n"
    )
    edges = ["individual_1,account_1,ownership,,,,,", "individual_1,business_1,ownership,,,,,40"]
    edges += [
        f"account_1,account_2,transaction,{'-3' if i == 500 else i},EUR,2025-01-01 00:00:00,TransactionType.PAYMENT,"
        for i in range(1000)
    ]
    (folder / "generated_edges.csv").write_text(
        "src,dest,edge_type,amount,currency,timestamp,transaction_type,ownership_percentage\n"
        + "\n".join(edges)
        + "\n"
    )
    ws = Workspace(tmp_path / "ws")
    report = ingest(folder, "tide", ws, progress=False)
    steps = json.loads(report.manifest_path.read_text())["durations_s"]
    assert "read files" in steps
    tx = ws.read("transactions").column("source_id").to_pylist()
    assert tx == [str(i + 2) for i in range(1000) if i != 500]
    (bad,) = ws.read("transactions", "quarantine").to_pylist()
    assert (bad["line"], bad["reason"]) == (504, "column 'amount' is a negative amount: '-3'")
    (link,) = ws.read("links").to_pylist()
    assert (link["party_a"], link["party_b"], link["weight"]) == ("tide:individual_1", "tide:business_1", 0.4)
    holders = {r["account_id"]: r["holder_party_id"] for r in ws.read("accounts").to_pylist()}
    assert holders["tide:account_1"] == "tide:individual_1"
