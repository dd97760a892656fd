import multiprocessing as mp
import os
import signal
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from moneytrail.engine import make_engine
from moneytrail.errors import ConfigError, EngineError
from moneytrail.workspace import RunManifest, Workspace


def _slow_writer(root: str) -> None:
    ws = Workspace(root)
    with ws.writing("t") as tmp, pq.ParquetWriter(tmp, pa.schema([("x", pa.int64())])) as w:
        for i in range(10_000):
            w.write_table(pa.table({"x": list(range(i * 100, i * 100 + 100))}))
            time.sleep(0.001)


def test_killed_write_leaves_previous_table(workspace):
    original = pa.table({"x": [1, 2, 3]})
    workspace.write("t", original)
    p = mp.get_context("spawn").Process(target=_slow_writer, args=(str(workspace.root),))
    p.start()
    time.sleep(1.5)
    os.kill(p.pid, signal.SIGKILL)
    p.join()
    assert workspace.read("t").equals(original)
    assert workspace.names() == ["t"]  # the half-written file is hidden


def test_failed_write_block_leaves_previous_table(workspace):
    workspace.write("t", pa.table({"x": [1]}))
    with pytest.raises(RuntimeError), workspace.writing("t") as tmp:
        tmp.write_bytes(b"garbage")
        raise RuntimeError("boom")
    assert workspace.read("t").column("x").to_pylist() == [1]


def test_manifest_records_inputs_and_outputs(workspace, tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("a\n1\n")
    m = RunManifest(stage="ingest", options={"format": "canonical"})
    m.add_input(src)
    m.outputs["transactions"] = 1
    workspace.write_manifest(m.finish())
    (saved,) = workspace.manifests("ingest")
    import hashlib

    assert saved["inputs"][0]["sha256"] == hashlib.sha256(b"a\n1\n").hexdigest()
    assert len(saved["inputs"][0]["sha256"]) == 64
    assert saved["outputs"] == {"transactions": 1}
    assert saved["status"] == "ok" and "duckdb" in saved["versions"]


def test_engine_sees_tables_and_writes_atomically(workspace):
    workspace.write("transactions", pa.table({"amount": [1.0, 2.0, 3.5]}))
    with make_engine("duckdb", workspace) as eng:
        assert eng.scalar("SELECT sum(amount) FROM transactions") == 6.5
        n = eng.write_table("big", "SELECT amount * 2 AS a FROM transactions WHERE amount > 1")
        assert n == 2
        assert eng.scalar("SELECT sum(a) FROM big") == 11.0
    assert workspace.read("big").num_rows == 2


def test_engine_error_names_the_label_and_keeps_the_sql(workspace):
    with make_engine("duckdb", workspace) as eng, pytest.raises(EngineError) as info:
        eng.query("SELECT * FROM missing_table", label="detector X1")
    assert "detector X1" in str(info.value)
    assert info.value.sql == "SELECT * FROM missing_table"


def test_unknown_engine_is_one_sentence(workspace):
    with pytest.raises(ConfigError, match="must be one of 'duckdb', 'spark'. Got 'postgres' instead"):
        make_engine("postgres", workspace)


def test_truth_is_invisible_unless_asked(workspace):
    workspace.write("transaction_labels", pa.table({"txn_id": ["a"]}), area="truth")
    with make_engine("duckdb", workspace) as eng:
        assert not eng.has_table("truth_transaction_labels")
    with make_engine("duckdb", workspace, include_truth=True) as eng:
        assert eng.scalar("SELECT count(*) FROM truth_transaction_labels") == 1
