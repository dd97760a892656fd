"""Relations the runner computes once per run and shares between detectors, and the fan detectors
that read them."""

from __future__ import annotations

import json

import pytest

from moneytrail.detect.catalog import load_catalog
from moneytrail.detect.runner import (
    detector_rows,
    register_resolved_parties,
    run_detectors,
    shared_inputs,
    shared_relations_read,
)
from moneytrail.detect.sql import EDGES, PAIRS, shared_relation_sql
from moneytrail.engine import duckdb_engine, make_engine
from moneytrail.engine.base import Engine
from moneytrail.engine.duckdb_engine import DuckDBEngine, decoded_size
from moneytrail.errors import EngineError
from tests.utils.detect_worlds import txn, write_tables

pytestmark = pytest.mark.duckdb


def hits(ws, det_id: str, rows: list[dict], **params) -> dict[str, dict]:
    """One detector's hits on ``rows``, by entity id."""
    write_tables(ws, {"transactions": rows})
    with make_engine("duckdb", ws) as eng:
        register_resolved_parties(eng)
        return {
            r["entity_id"]: r for r in detector_rows(eng, load_catalog()[det_id], params or None).to_pylist()
        }


def evidence(hit: dict) -> set[str]:
    return set(hit["evidence_txn_ids"].split(";"))


def test_shared_relations_read_are_found_by_name():
    assert shared_relations_read(f"SELECT * FROM {PAIRS} p JOIN {EDGES} e ON e.src = p.src") == (EDGES, PAIRS)
    assert shared_relations_read("WITH edges AS (SELECT * FROM transactions) SELECT * FROM edges") == ()


def test_pairs_read_shared_edges_only_when_provided():
    assert f"FROM {EDGES}" in shared_relation_sql(PAIRS, provided=(EDGES,))
    assert "FROM transactions" in shared_relation_sql(PAIRS)


def _busy_world() -> list[dict]:
    rows = [txn(f"i{i}", f"s{i}", "hub", 500, 24 * i) for i in range(6)]
    rows += [txn(f"o{i}", "hub", f"r{i}", 400, 24 * i + 200) for i in range(6)]
    rows += [txn(f"x{i}", "a", "b", 10, i) for i in range(3)]
    return rows


def test_runner_computes_each_shared_relation_once_then_releases_it(workspace):
    write_tables(workspace, {"transactions": _busy_world()})
    with make_engine("duckdb", workspace) as eng:
        result = run_detectors(eng, only="fan_in,fan_out,gather_scatter", write=False)
        shared = {r.name: r for r in result.shared}
        # gather_scatter may follow relations of more than two transactions into the edges; the
        # three detectors read the transactions, which are cached first and let go at the end
        assert list(shared) == ["transactions", EDGES, PAIRS]
        assert shared["transactions"].cached and shared[EDGES].cached is None
        assert not _temporary(eng)
        assert shared[PAIRS].rows == 13  # 6 senders, 6 receivers and one repeated pair
        for name in (EDGES, PAIRS):
            with pytest.raises(EngineError, match=name):
                eng.query(f"SELECT COUNT(*) FROM {name}")
    assert {r.detector_id: r.hits for r in result.runs} == {"fan_in": 1, "fan_out": 1, "gather_scatter": 1}


def test_runner_computes_nothing_for_detectors_that_read_no_shared_relation(workspace):
    write_tables(workspace, {"transactions": _busy_world()})
    with make_engine("duckdb", workspace) as eng:
        # one reader of the transactions: reading the Parquet once is cheaper than caching it
        result = run_detectors(eng, only="cash_structuring", write=False)
    assert result.shared == []


def _temporary(eng) -> set[str]:
    """The temporary tables and views of a DuckDB engine."""
    return {r[0] for r in eng.con.sql("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()}


def test_duckdb_caches_a_table_until_let_go_or_registered_again(workspace):
    write_tables(workspace, {"transactions": _busy_world()})
    with make_engine("duckdb", workspace) as eng:
        before = eng.query("SELECT * FROM transactions ORDER BY txn_id")
        assert eng.cache_table("transactions") and _temporary(eng) == {"transactions"}
        assert eng.query("SELECT * FROM transactions ORDER BY txn_id").equals(before)
        eng.uncache_table("transactions")
        assert not _temporary(eng)
        assert eng.scalar("SELECT COUNT(*) FROM transactions") == 15
        # a table written again while cached is read afresh, never from the stale copy
        assert eng.cache_table("transactions")
        eng.write_table("transactions", "SELECT * FROM transactions WHERE src_account_id = 'a'")
        assert not _temporary(eng) and eng.scalar("SELECT COUNT(*) FROM transactions") == 3
        assert not eng.cache_table("no_such_table")


def test_duckdb_declines_a_table_too_big_for_its_share_of_memory(workspace, monkeypatch):
    write_tables(workspace, {"transactions": _busy_world()})
    # 15 rows of 14 columns: 15 * (10 strings * 16 + 4 * 8) bytes decoded
    assert decoded_size(workspace.path("transactions")) == 15 * 192
    with make_engine("duckdb", workspace, memory_limit="1GB") as eng:
        # DuckDB reports its limit rounded (953.6 MiB): stay clear of the boundary
        monkeypatch.setattr(duckdb_engine, "CACHE_SHARE", 0.9 * 15 * 192 / 1e9)
        assert not eng.cache_table("transactions") and not _temporary(eng)
        monkeypatch.setattr(duckdb_engine, "CACHE_SHARE", 1.1 * 15 * 192 / 1e9)
        assert eng.cache_table("transactions")
        eng.uncache_table("transactions")
        monkeypatch.setattr(duckdb_engine, "CACHE_SHARE", 1e-9)
        result = run_detectors(eng, only="fan_in,fan_out", write=False)
    assert [(r.name, r.cached) for r in result.shared if r.cached is not None] == [("transactions", False)]
    assert {r.detector_id: r.hits for r in result.runs} == {"fan_in": 1, "fan_out": 1}


class _ParquetCheckpoints(DuckDBEngine):
    """DuckDB running the engine-neutral default (what every engine inherits)."""

    _define_view = Engine._define_view
    _materialize = Engine._materialize
    _release = Engine._release


def test_default_materialize_is_a_parquet_checkpoint_removed_on_release(workspace):
    write_tables(workspace, {"transactions": _busy_world()})
    with _ParquetCheckpoints(workspace).open() as eng:
        # without views, a lazy relation is stored all the same
        assert eng.materialize(EDGES, shared_relation_sql(EDGES), lazy=True) == 15
        assert eng.materialize(PAIRS, shared_relation_sql(PAIRS, (EDGES,))) == 13
        files = sorted((workspace.root / ".tmp").rglob("*.parquet"))
        assert len(files) == 2 and not eng.has_table(PAIRS)
        assert eng.scalar(f"SELECT n FROM {PAIRS} WHERE src = 'a'") == 3
        for name in (EDGES, PAIRS):
            eng.release(name)
            with pytest.raises(EngineError):
                eng.query(f"SELECT * FROM {name}")
        assert not any(f.exists() for f in files)


def test_duckdb_materialize_holds_a_table_or_defines_a_view(workspace):
    write_tables(workspace, {"transactions": _busy_world()})
    with make_engine("duckdb", workspace) as eng:
        assert eng.materialize(EDGES, shared_relation_sql(EDGES), lazy=True) is None
        assert eng.materialize(PAIRS, shared_relation_sql(PAIRS, (EDGES,))) == 13
        assert eng.scalar(f"SELECT SUM(n) FROM {PAIRS}") == eng.scalar(f"SELECT COUNT(*) FROM {EDGES}") == 15
        kinds = dict(eng.con.sql("SELECT table_name, table_type FROM information_schema.tables").fetchall())
        assert kinds[EDGES] == "VIEW" and kinds[PAIRS] == "LOCAL TEMPORARY"
        eng.release(EDGES)
        eng.release(PAIRS)
        names = {r[0] for r in eng.con.sql("SELECT table_name FROM information_schema.tables").fetchall()}
        assert not names & {EDGES, PAIRS}


def test_fan_in_hub_whose_senders_span_more_than_a_window_counts_its_busiest_window(workspace):
    # "slow": a burst of six senders in six days, then three stragglers months apart (the window
    # slides); "quick": five senders within ten days (one window holds them all)
    rows = [txn(f"b{i}", f"s{i}", "slow", 500, 24 * i) for i in range(6)]
    rows += [txn(f"l{i}", f"t{i}", "slow", 500, 24 * (100 + 100 * i)) for i in range(3)]
    rows += [txn(f"q{i}", f"u{i}", "quick", 500, 48 * i) for i in range(5)]
    got = hits(workspace, "fan_in", rows, window_days=30)
    assert sorted(got) == ["quick", "slow"]
    assert json.loads(got["slow"]["metrics"])["counterparties"] == 6
    assert evidence(got["slow"]) == {f"b{i}" for i in range(6)}  # stragglers are in no qualifying window
    assert json.loads(got["quick"]["metrics"]) == {"counterparties": 5, "transactions": 5, "total_cad": 2500}
    assert evidence(got["quick"]) == {f"q{i}" for i in range(5)}


def test_fan_in_evidence_holds_every_transaction_of_a_counted_relation(workspace):
    rows = [txn(f"t{i}", f"s{i}", "hub", 500, 24 * i) for i in range(5)]
    rows += [txn("twice-1", "s0", "hub", 100, 200), txn("thrice-1", "s1", "hub", 100, 201)]
    rows += [txn("thrice-2", "s1", "hub", 100, 202)]
    # at most two transactions per sender: s1 (three) no longer counts, s0's two both show
    two = hits(workspace, "fan_in", rows, min_counterparties=4)["hub"]
    assert evidence(two) == {"t0", "twice-1", "t2", "t3", "t4"}
    assert json.loads(two["metrics"]) == {"counterparties": 4, "transactions": 5, "total_cad": 2100}
    # up to three: the middle transaction of s1 comes from the edges
    three = hits(workspace, "fan_in", rows, min_counterparties=4, max_txns_per_counterparty=3)["hub"]
    assert evidence(three) == {f"t{i}" for i in range(5)} | {"twice-1", "thrice-1", "thrice-2"}
    assert json.loads(three["metrics"])["transactions"] == 8


def test_gather_scatter_evidence_and_totals_cover_repeated_relations(workspace):
    rows = [txn(f"i{i}", f"p{i}", "H", 1000, 24 * i) for i in range(3)]
    rows += [txn(f"o{i}-{j}", "H", f"q{i}", 300, 24 * (4 + i) + j) for i in range(3) for j in range(3)]
    got = hits(workspace, "gather_scatter", rows)["H"]
    assert evidence(got) == {r["txn_id"] for r in rows}
    assert json.loads(got["metrics"]) == {
        "payers": 3,
        "payees": 3,
        "gathered_cad": 3000,
        "scattered_cad": 2700,
    }


def test_a_relation_is_computed_once_even_when_another_builds_on_it_later(workspace):
    write_tables(workspace, {"transactions": _busy_world()})
    edges_only = f"SELECT COUNT(*) AS c FROM {EDGES}"
    pairs_only = f"SELECT COUNT(*) AS c FROM {PAIRS}"
    with make_engine("duckdb", workspace) as eng:
        # edges are read first and released before the pairs are needed: the pairs do not bring
        # them back
        with shared_inputs(eng, [edges_only, pairs_only, pairs_only]) as shared:
            for i, sql in enumerate([edges_only, pairs_only, pairs_only]):
                shared.before(i)
                assert eng.scalar(sql) in (15, 13)
                shared.done(i)
                assert shared.live == ([] if i != 1 else [PAIRS])
        assert [r.name for r in shared.runs] == [EDGES, PAIRS]
