"""The single pass (validate and write while reading) and its way back to the staged route."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from moneytrail.errors import StrictModeError
from moneytrail.ingest import ingest, pipeline, stream
from moneytrail.ingest.formats import amlsim
from moneytrail.ingest.parquet import BATCH_ROWS, BatchWriter
from moneytrail.ingest.stream import KeyOrder
from moneytrail.workspace import Workspace

pytestmark = pytest.mark.duckdb

ACCOUNTS = "acct_id,dsply_nm,type,acct_rptng_crncy\n1,C_1,I,USD\n2,C_2,I,USD\n"
HEADER = "tran_id,orig_acct,bene_acct,tx_type,base_amt,tran_timestamp,is_sar,alert_id\n"


def folder_with(tmp_path: Path, rows: list[str], name: str = "amlsim") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "accounts.csv").write_text(ACCOUNTS)
    (folder / "transactions.csv").write_text(HEADER + "".join(rows))
    return folder


def row(i: int | str, amount: str = "10.50", sar: str = "false", alert: str = "-1") -> str:
    return f"{i},1,3,TRANSFER,{amount},2017-01-0{int(str(i)[-1]) % 9 + 1}T00:00:00Z,{sar},{alert}\n"


def run(folder: Path, ws_path: Path, **kw):
    ws = Workspace(ws_path)
    report = ingest(folder, "amlsim", ws, progress=False, **kw)
    steps = json.loads(report.manifest_path.read_text())["durations_s"]
    return ws, report, steps


def staged_only(monkeypatch) -> None:
    """Make every single pass give up, so that tables take the staged route."""

    def give_up(*args, **kwargs):
        raise stream.GiveUp("forced by the test")

    monkeypatch.setattr(pipeline, "stream", give_up)


def files(ws: Workspace) -> dict[str, bytes]:
    return {
        f"{area}/{name}": ws.path(name, area).read_bytes()
        for area in ("tables", "truth")
        for name in ws.names(area)
    }


def test_single_pass_writes_the_same_bytes_as_the_staged_route(tmp_path, monkeypatch):
    rows = [row(i, sar="true" if i % 7 == 0 else "false", alert=str(i % 3)) for i in range(1, 400)]
    folder = folder_with(tmp_path, rows)
    ws1, report, steps = run(folder, tmp_path / "ws1")
    assert "stream transactions" in steps
    ws2, _, _ = run(folder, tmp_path / "ws2")
    staged_only(monkeypatch)
    ws3, _, steps3 = run(folder, tmp_path / "ws3")
    assert "stream transactions" not in steps3
    assert files(ws1) == files(ws2) == files(ws3)
    assert set(files(ws1)) == {
        "tables/accounts",
        "tables/parties",
        "tables/transactions",
        "truth/transaction_labels",
    }
    # Labels are in file order and never in the canonical table.
    labels = ws1.read("transaction_labels", "truth")
    assert labels.column("txn_id").to_pylist() == [f"amlsim:{i}" for i in range(1, 400)]
    assert labels.column("is_laundering").to_pylist() == [i % 7 == 0 for i in range(1, 400)]
    assert "is_sar" not in ws1.read("transactions").column_names
    # Placeholders for the account no row describes, and no hidden file left behind.
    assert report.tables["accounts"].placeholders == 1
    assert not [p for p in (tmp_path / "ws1").rglob(".*.tmp")]


def test_bad_rows_keep_their_lines_in_a_single_pass(tmp_path):
    rows = [row(i) for i in range(1, 50)]
    rows[9] = row(10, amount="-5")
    rows[29] = row(30, amount="abc")
    folder = folder_with(tmp_path, rows)
    ws, report, steps = run(folder, tmp_path / "ws")
    assert "stream transactions" in steps
    tx = report.tables["transactions"]
    assert (tx.read, tx.loaded, tx.quarantined) == (49, 47, 2)
    assert report.truth["transaction_labels"].loaded == 47
    bad = {r["line"]: (r["reason"], r["raw"]) for r in ws.read("transactions", "quarantine").to_pylist()}
    assert bad == {
        11: ("column 'base_amt' is a negative amount: '-5'", row(10, amount="-5").strip()),
        31: ("column 'base_amt' is not a number: 'abc'", row(30, amount="abc").strip()),
    }
    ids = ws.read("transactions").column("source_id").to_pylist()
    assert ids == [str(i) for i in range(1, 50) if i not in (10, 30)]


def test_keys_out_of_order_are_still_checked_exactly(tmp_path):
    # Not increasing: the hashes of the keys are grouped; all distinct, so the pass stands.
    folder = folder_with(tmp_path, [row(i) for i in (5, 3, 9, 1, 10, 2)])
    ws, report, _ = run(folder, tmp_path / "ws")
    assert report.tables["transactions"].quarantined == 0
    assert ws.read("transactions").column("source_id").to_pylist() == ["5", "3", "9", "1", "10", "2"]
    # A repeated key sends the table to the staged route, which keeps the first.
    folder = folder_with(tmp_path, [row(i) for i in (5, 3, 9, 3, 10)], "dups")
    ws, report, _ = run(folder, tmp_path / "ws-dups")
    tx = report.tables["transactions"]
    assert (tx.read, tx.loaded, tx.quarantined) == (5, 4, 1)
    (dup,) = ws.read("transactions", "quarantine").to_pylist()
    assert dup["line"] == 5 and dup["reason"].startswith("duplicate txn_id 'amlsim:3' (first seen on line 3")
    assert report.truth["transaction_labels"].loaded == 4
    assert not [p for p in (tmp_path / "ws-dups").rglob(".*.tmp")]


def test_many_bad_rows_and_unreadable_lines_take_the_staged_route(tmp_path, monkeypatch):
    monkeypatch.setattr(stream, "MAX_BAD_ROWS", 1)
    rows = [row(i) for i in range(1, 8)]
    rows[1] = row(2, amount="-1")
    rows[4] = row(5, amount="x")
    folder = folder_with(tmp_path, rows)
    ws, report, _ = run(folder, tmp_path / "ws")
    assert sorted(r["line"] for r in ws.read("transactions", "quarantine").to_pylist()) == [3, 6]
    # A line the reader cannot split: positions are no longer lines, so the table is staged.
    monkeypatch.setattr(stream, "MAX_BAD_ROWS", 100)
    rows = [row(i) for i in range(1, 8)]
    rows[2] = "3,1,3\n"
    rows[5] = row(6, amount="-2")
    folder = folder_with(tmp_path, rows, "rejects")
    ws, report, _ = run(folder, tmp_path / "ws-rejects")
    bad = {r["line"]: r["reason"] for r in ws.read("transactions", "quarantine").to_pylist()}
    assert bad == {
        4: "the line has 3 fields but the header has 8",
        7: "column 'base_amt' is a negative amount: '-2'",
    }
    tx = report.tables["transactions"]
    assert (tx.read, tx.loaded, tx.quarantined) == (7, 5, 2)


def test_strict_failure_leaves_no_table_and_no_file_from_the_single_pass(tmp_path):
    folder = folder_with(tmp_path, [row(1), row(2, amount="NaN")])
    with pytest.raises(StrictModeError):
        run(folder, tmp_path / "ws", strict=True)
    ws = Workspace(tmp_path / "ws")
    assert ws.names("tables") == [] and ws.names("truth") == []
    assert not [p for p in (tmp_path / "ws").rglob(".*.tmp")]


def test_key_order_proves_distinct_keys_only_when_they_strictly_increase():
    def increasing(*batches: list[str]) -> bool:
        order = KeyOrder()
        for keys in batches:
            order.add(pa.array(keys))
        return order.ok

    assert increasing(["a:1", "a:2"], ["a:10", "a:11"], [])
    assert not increasing(["a:1", "a:10", "a:2"])
    assert not increasing(["a:1", "a:2"], ["a:2"])
    assert not increasing(["b"], ["a"])
    assert not increasing(["a", None])


def test_prefixes_and_copies_are_added_to_their_columns_only_and_nulls_stay_null():
    batch = pa.RecordBatch.from_pydict({"id": ["0", "1", None, "22"], "other": ["a", "b", "c", "d"]})
    done = stream.with_prefixes(batch.slice(1), {"id": "amlsim:"})
    assert done.to_pydict() == {"id": ["amlsim:1", None, "amlsim:22"], "other": ["b", "c", "d"]}
    assert done.schema == batch.schema
    assert stream.with_prefixes(batch, {}) is batch
    # A copy takes the other column's text before any prefix is added.
    copied = stream.with_prefixes(stream.with_copies(batch, {"txn_id": "id"}), {"txn_id": "amlsim:"})
    assert copied.column("txn_id").to_pylist() == ["amlsim:0", "amlsim:1", None, "amlsim:22"]
    assert copied.column("id").to_pylist() == ["0", "1", None, "22"]


def test_batch_writer_row_groups_do_not_depend_on_the_batches(tmp_path):
    rows = BATCH_ROWS + 1000
    data = pa.table({"id": pa.array([f"id:{i}" for i in range(rows)]), "kind": pa.array(["x"] * rows)})
    written = []
    for size in (1000, 70_000, rows):
        path = tmp_path / f"by-{size}.parquet"
        with BatchWriter(path, data.schema) as out:
            for batch in data.to_batches(max_chunksize=size):
                out.write(batch)
        assert out.rows == rows
        written.append(path.read_bytes())
    assert written[0] == written[1] == written[2]
    meta = pq.ParquetFile(tmp_path / "by-1000.parquet").metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [BATCH_ROWS, 1000]


def test_constant_columns_handed_over_as_dictionaries_give_the_same_file(tmp_path):
    # A row group of one row keeps the column plain; a larger one dictionary-encodes it.
    for rows in (1, BATCH_ROWS + 10):
        data = pa.table(
            {
                "id": pa.array([f"id:{i}" for i in range(rows)]),
                "source": pa.repeat(pa.scalar("amlsim"), rows),
                "memo": pa.nulls(rows, pa.string()),
            }
        )
        written = []
        for constants in ({}, {"source": pa.scalar("amlsim"), "memo": pa.scalar(None, pa.string())}):
            path = tmp_path / f"{rows}-{len(constants)}.parquet"
            with BatchWriter(path, data.schema, constants=constants) as out:
                for batch in data.to_batches(max_chunksize=70_000):
                    out.write(batch)
            written.append(path.read_bytes())
        # The large row group takes the dictionary route (the null column never does).
        assert sorted(out._as_dictionary) == (["source"] if rows > 1 else [])
        assert written[0] == written[1]
        back = pq.read_table(tmp_path / f"{rows}-2.parquet")
        assert back.schema == data.schema and back.equals(data)


def test_background_writer_writes_the_same_file_and_raises_its_errors(tmp_path):
    rows = 2 * BATCH_ROWS + 10
    data = pa.table({"id": pa.array([f"id:{i}" for i in range(rows)]), "n": pa.array(range(rows))})
    written = []
    for background in (False, True):
        path = tmp_path / f"background-{background}.parquet"
        with BatchWriter(path, data.schema, background=background) as out:
            for batch in data.to_batches(max_chunksize=50_000):
                out.write(batch)
        written.append(path.read_bytes())
    assert written[0] == written[1]
    # The file cannot be created: the error happens on the writer's thread and reaches close().
    out = BatchWriter(tmp_path / "missing" / "x.parquet", data.schema, background=True)
    out.write(data.to_batches()[0].slice(0, 10))
    with pytest.raises(OSError):
        out.close()
    out.abort()


def test_an_amlsim_ingest_does_not_import_pandas(tmp_path):
    # Importing pandas costs seconds of CPU when bytecode is not cached; the ingest needs none of it.
    rows = [row(i, sar="true" if i == 4 else "false") for i in range(1, 30)]
    rows[5] = row(6, amount="-5")
    folder = folder_with(tmp_path, rows)
    code = (
        "import sys\n"
        "from moneytrail.ingest import ingest\n"
        f"report = ingest({str(folder)!r}, 'amlsim', {str(tmp_path / 'ws')!r}, progress=False)\n"
        "assert report.tables['transactions'].quarantined == 1, report.tables\n"
        "assert report.truth['transaction_labels'].loaded == 28, report.truth\n"
        "print('pandas' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


@pytest.mark.slow
def test_a_large_file_read_in_parallel_keeps_its_order_in_a_single_pass(tmp_path):
    # About 45 MB: DuckDB's CSV reader splits it between threads, and the single pass relies on
    # the Arrow batches coming back in file order (for lines, and for the labels beside the rows).
    rows = 700_000
    bad = {10: "-5", 250_123: "NaN", 512_345: "abc", 699_999: "-1"}
    folder = tmp_path / "amlsim"
    folder.mkdir()
    (folder / "accounts.csv").write_text(ACCOUNTS)
    amount = "CASE i " + " ".join(f"WHEN {i} THEN '{v}'" for i, v in bad.items()) + " ELSE '10.50' END"
    duckdb.sql(
        f"""COPY (SELECT i AS tran_id, 1 AS orig_acct, 2 AS bene_acct, 'TRANSFER' AS tx_type,
                  {amount} AS base_amt, '2017-01-01T00:00:00Z' AS tran_timestamp,
                  i % 1000 = 7 AS is_sar, i % 1000 AS alert_id,
                  'padding to make the lines longer than usual' AS note
            FROM range({rows}) t(i) ORDER BY i) TO '{folder / "transactions.csv"}' (HEADER)"""
    )
    ws, report, steps = run(folder, tmp_path / "ws")
    assert "stream transactions" in steps
    counts = report.tables["transactions"]
    assert (counts.read, counts.loaded, counts.quarantined) == (rows, rows - 4, 4)
    lines = {r["line"]: r["reason"] for r in ws.read("transactions", "quarantine").to_pylist()}
    assert lines == {
        12: "column 'base_amt' is a negative amount: '-5'",
        250_125: "column 'base_amt' is not a finite amount: 'NaN'",
        512_347: "column 'base_amt' is not a number: 'abc'",
        700_001: "column 'base_amt' is a negative amount: '-1'",
    }
    expected = [i for i in range(rows) if i not in bad]
    assert ws.read("transactions").column("source_id").to_pylist() == [str(i) for i in expected]
    labels = ws.read("transaction_labels", "truth")
    assert labels.column("txn_id").to_pylist() == [f"amlsim:{i}" for i in expected]
    assert labels.column("is_laundering").to_pylist() == [i % 1000 == 7 for i in expected]
    assert labels.column("network_id").to_pylist() == [str(i % 1000) for i in expected]


def test_a_query_that_may_reorder_rows_is_not_streamed(tmp_path, monkeypatch):
    # DuckDB plans an IN list as a join, which need not keep the rows' order: the pass refuses it,
    # and the staged route gives the same tables.
    monkeypatch.setattr(amlsim, "TRUE_SQL", "(lower(trim({v})) IN ('true', 't', 'yes', 'y', '1'))")
    rows = [row(i, sar="true" if i % 5 == 0 else "false") for i in range(1, 60)]
    rows[9] = row(10, amount="-5")
    folder = folder_with(tmp_path, rows)
    ws, report, steps = run(folder, tmp_path / "ws")
    assert "stream transactions (given up)" in steps and "stream transactions" not in steps
    assert [r["line"] for r in ws.read("transactions", "quarantine").to_pylist()] == [11]
    labels = ws.read("transaction_labels", "truth")
    expected = [i for i in range(1, 60) if i != 10]
    assert labels.column("txn_id").to_pylist() == [f"amlsim:{i}" for i in expected]
    assert labels.column("is_laundering").to_pylist() == [i % 5 == 0 for i in expected]


def test_labels_come_straight_from_the_loaded_batches(tmp_path, monkeypatch):
    # The labels mapping only renames the transactions' own columns: the pass takes them from each
    # batch (no query per batch), and a batch missing a required value sends it to the staged route.
    rows = [row(i, sar="true" if i % 4 == 0 else "false", alert=str(i % 3 or -1)) for i in range(1, 40)]
    folder = folder_with(tmp_path, rows)
    built = []
    original = stream.LoadedProjection.of

    def spy(*args):
        projection = original(*args)
        built.append(projection)
        return projection

    monkeypatch.setattr(stream.LoadedProjection, "of", spy)
    ws, report, steps = run(folder, tmp_path / "ws")
    assert "stream transactions" in steps
    assert [p.table for p in built] == ["transaction_labels"]
    labels = ws.read("transaction_labels", "truth")
    assert labels.column("is_laundering").to_pylist() == [i % 4 == 0 for i in range(1, 40)]
    assert labels.column("network_id").to_pylist() == [
        None if i % 3 == 0 else str(i % 3) for i in range(1, 40)
    ]
    assert set(labels.column("source").to_pylist()) == {"amlsim"}
    batch = pa.RecordBatch.from_pydict({"txn_id": ["amlsim:1", None], "x_is_laundering": [True, False]})
    with pytest.raises(stream.GiveUp):
        built[0].batch(batch)


def test_only_bad_line_far_past_the_first_batch(tmp_path, monkeypatch):
    # Small batches, so that the bad line comes many batches after the first one.
    monkeypatch.setattr(stream, "BATCH_ROWS", 500)
    n = 5000
    rows = [row(i, sar="true" if i % 9 == 0 else "false") for i in range(1, n + 1)]
    # A bad value: the pass quarantines it and goes on.
    values = list(rows)
    values[n - 7] = row(n - 6, amount="1e309")
    ws, report, steps = run(folder_with(tmp_path, values, "value"), tmp_path / "ws-value")
    assert "stream transactions" in steps
    (bad,) = ws.read("transactions", "quarantine").to_pylist()
    assert (bad["line"], bad["reason"]) == (n - 5, "column 'base_amt' is not a finite amount: '1e309'")
    # A line the reader cannot split: the pass gets to the end, then the staged route takes over.
    split = list(rows)
    split[n - 7] = f"{n - 6},1,3\n"
    ws2, report2, steps2 = run(folder_with(tmp_path, split, "split"), tmp_path / "ws-split")
    assert "stream transactions (given up)" in steps2 and "stream transactions" not in steps2
    (bad,) = ws2.read("transactions", "quarantine").to_pylist()
    assert (bad["line"], bad["reason"]) == (n - 5, "the line has 3 fields but the header has 8")
    tx = report2.tables["transactions"]
    assert (tx.read, tx.loaded, tx.quarantined) == (n, n - 1, 1)
    # Both give the same tables: every row but the bad one, in file order, labels beside them.
    assert files(ws) == files(ws2)
    expected = [i for i in range(1, n + 1) if i != n - 6]
    assert ws2.read("transactions").column("source_id").to_pylist() == [str(i) for i in expected]
    labels = ws2.read("transaction_labels", "truth")
    assert labels.column("is_laundering").to_pylist() == [i % 9 == 0 for i in expected]
    assert not [p for p in tmp_path.rglob(".*.tmp")]


def test_statistics_only_where_readers_filter(tmp_path):
    ws, _, _ = run(folder_with(tmp_path, [row(i) for i in range(1, 20)]), tmp_path / "ws")
    group = pq.ParquetFile(ws.path("transactions")).metadata.row_group(0)
    stats = {group.column(i).path_in_schema: group.column(i).is_stats_set for i in range(group.num_columns)}
    assert stats["txn_id"] and stats["ts"] and stats["amount"] and stats["amount_cad"]
    assert not stats["src_account_id"] and not stats["currency"] and not stats["source_id"]


def test_a_canonical_parquet_file_streams_with_row_numbers_as_lines(tmp_path, monkeypatch):
    # A Parquet input is read in order too: a large one must not be staged (and spilled) whole.
    monkeypatch.setattr(stream, "BATCH_ROWS", 500)
    n = 3000
    amounts = [10.5] * n
    amounts[2] = -5.0
    amounts[n - 10] = float("nan")
    folder = tmp_path / "canonical"
    folder.mkdir()
    pq.write_table(
        pa.table(
            {
                "txn_id": [f"t{i}" for i in range(n)],
                "ts": ["2020-01-01T10:00:00Z"] * n,
                "src_account_id": ["a1"] * n,
                "dst_account_id": ["a2"] * n,
                "amount": amounts,
                "currency": ["CAD"] * n,
                "channel": ["wire"] * n,
                "source": ["bank"] * n,
                "source_id": [f"t{i}" for i in range(n)],
            }
        ),
        folder / "transactions.parquet",
        row_group_size=700,
    )

    def ingest_to(name: str):
        ws = Workspace(tmp_path / name)
        report = ingest(folder, "canonical", ws, progress=False)
        return ws, report, json.loads(report.manifest_path.read_text())["durations_s"]

    ws, report, steps = ingest_to("ws-stream")
    assert "stream transactions" in steps
    tx = report.tables["transactions"]
    assert (tx.read, tx.loaded, tx.quarantined) == (n, n - 2, 2)
    # A Parquet row's "line" is its 1-based row number, as on the staged route.
    bad = {r["line"]: r["reason"] for r in ws.read("transactions", "quarantine").to_pylist()}
    assert sorted(bad) == [3, n - 9]
    assert "negative" in bad[3]
    expected = [f"t{i}" for i in range(n) if i not in (2, n - 10)]
    assert ws.read("transactions").column("txn_id").to_pylist() == expected
    staged_only(monkeypatch)
    ws2, _, steps2 = ingest_to("ws-staged")
    assert "stream transactions" not in steps2
    assert ws.read("transactions").equals(ws2.read("transactions"))
    quarantined = [ws_.read("transactions", "quarantine").drop_columns(["run_id"]) for ws_ in (ws, ws2)]
    assert quarantined[0].equals(quarantined[1])


def test_placeholders_come_from_the_ids_the_single_pass_gathered(tmp_path, monkeypatch):
    # Small batches, merged every two, so that the distinct ids are gathered across many batches.
    monkeypatch.setattr(stream, "BATCH_ROWS", 500)
    monkeypatch.setattr(stream.DistinctValues, "MERGE_EVERY", 2)
    n = 4000

    def line(i: int, dst: int, amount: str = "10.50") -> str:
        return f"{i},{i % 5},{dst},TRANSFER,{amount},2017-01-01T00:00:00Z,false,-1\n"

    rows = [line(i, 100 + i % 37) for i in range(1, n + 1)]
    # The only row that refers to account 999 is bad: no placeholder for it.
    rows[98] = line(99, 999, amount="-1")
    folder = folder_with(tmp_path, rows)
    seen = []
    original = pipeline.merge.placeholder_sql

    def spy(target, refs, *args):
        seen.append((target.name, refs))
        return original(target, refs, *args)

    monkeypatch.setattr(pipeline.merge, "placeholder_sql", spy)
    ws, report, steps = run(folder, tmp_path / "ws")
    assert "stream transactions" in steps
    assert seen[0] == (
        "accounts",
        [
            ("distinct_transactions_src_account_id", "src_account_id"),
            ("distinct_transactions_dst_account_id", "dst_account_id"),
        ],
    )
    # Accounts 1 and 2 are described; 0, 3, 4 and 100 to 136 are referenced only.
    assert report.tables["accounts"].placeholders == 3 + 37
    accounts = ws.read("accounts").column("account_id").to_pylist()
    assert "amlsim:999" not in accounts and "amlsim:136" in accounts and "amlsim:0" in accounts
    # The staged route, which reads the loaded rows, gives the same tables.
    staged_only(monkeypatch)
    ws2, _, _ = run(folder, tmp_path / "ws2")
    assert files(ws) == files(ws2)
