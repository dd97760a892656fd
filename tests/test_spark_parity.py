"""Engine parity: the same portable SQL, graph primitives and detectors on DuckDB and Spark.

One local Spark session serves the whole module (starting Spark costs seconds); every test here
is marked ``spark`` and grouped on one xdist worker.
"""

from __future__ import annotations

import datetime as dt
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from moneytrail.engine import make_engine
from moneytrail.errors import EngineError
from moneytrail.workspace import Workspace

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]


def _transactions() -> pa.Table:
    base = dt.datetime(2024, 3, 1, 9, 30)
    rows = []
    amounts = [9500.0, 2.675, 12_345_678.9, 1.005, 0.125, 9999.99, 250.0, 100_000.5, 7.5, None, 3300.0, 0.285]
    for i, amount in enumerate(amounts):
        rows.append(
            {
                "txn_id": f"t{i:02d}",
                "ts": base + dt.timedelta(days=i * 1.5, minutes=17 * i),
                "src": ["a1", "a1", "a2", "a3", "a1", "a2"][i % 6],
                "dst": ["b1", "b2", "b1", "b1", "b3", "a1"][i % 6],
                "amount": amount,
                "memo": [None, "cash", "wire 'x'", "", "é;ü", "casino"][i % 6],
            }
        )
    schema = pa.schema(
        [
            ("txn_id", pa.string()),
            ("ts", pa.timestamp("us")),
            ("src", pa.string()),
            ("dst", pa.string()),
            ("amount", pa.float64()),
            ("memo", pa.string()),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)


def _types(t: pa.Table) -> list[tuple[str, pa.DataType]]:
    """Column names and types. Nullability is left out: Spark records NOT NULL in the Parquet it
    writes for columns it knows are never null, DuckDB never does; values and types agree."""
    return [(f.name, f.type) for f in t.schema]


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Workspace:
    w = Workspace(tmp_path_factory.mktemp("parity") / "ws").ensure()
    w.write("txns", _transactions())
    edges = [("m3", "m1"), ("m1", "m4"), ("m4", "m2"), ("x", "y"), ("z", "z"), ("y", "w"), ("q", None)]
    w.write("edges", pa.table({"src": [a for a, _ in edges], "dst": [b for _, b in edges]}))
    return w


@pytest.fixture(scope="module")
def spark(ws):
    with make_engine("spark", ws, master="local[2]") as eng:
        yield eng


@pytest.fixture(scope="module")
def duck(ws):
    with make_engine("duckdb", ws) as eng:
        yield eng


# Representative portable queries: each must give identical Arrow tables (values and types).
PORTABLE_QUERIES = {
    "time_range_window": """
        SELECT txn_id, src,
               SUM(amount) OVER (PARTITION BY src ORDER BY ts
                                 RANGE BETWEEN INTERVAL 3 DAYS PRECEDING AND CURRENT ROW) AS sum_3d,
               COUNT(*) OVER (PARTITION BY src ORDER BY ts
                              RANGE BETWEEN INTERVAL '72 hours' PRECEDING AND CURRENT ROW) AS n_3d,
               LAG(txn_id) OVER (PARTITION BY src ORDER BY ts) AS prev_txn,
               ROW_NUMBER() OVER (PARTITION BY dst ORDER BY amount DESC NULLS LAST, txn_id) AS rank_in_dst
        FROM txns ORDER BY txn_id""",
    "string_aggregation": """
        SELECT src, string_agg(txn_id, ';' ORDER BY txn_id) AS ids,
               array_to_string(array_sort(array_agg(dst)), ';') AS dsts,
               array_length(array_agg(txn_id)) AS n_list, COUNT(DISTINCT dst) AS n_dst
        FROM txns GROUP BY src ORDER BY src""",
    "json_metrics": """
        SELECT src,
               '{"n":' || CAST(COUNT(*) AS VARCHAR)
               || ',"total":' || COALESCE(CAST(ROUND(CAST(SUM(amount) AS DOUBLE), 2) AS VARCHAR), 'null')
               || ',"mean":' || COALESCE(CAST(ROUND(AVG(amount), 2) AS VARCHAR), 'null') || '}' AS metrics
        FROM txns GROUP BY src ORDER BY src""",
    "rounding_and_printing": """
        SELECT txn_id, ROUND(CAST(amount AS DOUBLE), 2) AS r2, ROUND(amount / 3, 1) AS third,
               CAST(ROUND(CAST(amount AS DOUBLE), 2) AS VARCHAR) AS r2_text,
               CAST(ROUND(CAST(amount * 1000 AS DOUBLE), 0) AS VARCHAR) AS big_text,
               amount / NULLIF(amount - amount, 0) AS div_zero
        FROM txns ORDER BY txn_id""",
    "date_arithmetic": """
        SELECT txn_id, ts + INTERVAL 7 DAY AS plus_week, ts - INTERVAL 90 MINUTE AS minus_90m,
               CAST(ts AS DATE) AS day, date_trunc('day', ts) AS day_start, date_trunc('month', ts) AS month,
               EXTRACT(hour FROM ts) AS hour, dayofweek(ts) AS dow, isodow(ts) AS isodow, year(ts) AS year,
               date_diff('day', TIMESTAMP '2024-03-01 00:00:00', ts) AS days_in,
               date_diff('second', TIMESTAMP '2024-03-01 00:00:00', ts) AS secs_in,
               epoch(ts) AS epoch_s, CAST(epoch(ts) AS BIGINT) AS epoch_int, strftime(ts, '%Y-%m-%d') AS iso_day
        FROM txns ORDER BY txn_id""",
    "filters_and_conditionals": """
        SELECT txn_id, COALESCE(memo, '') AS memo, UPPER(memo) AS upper_memo, memo LIKE 'cas%' AS like_cas,
               regexp_matches(COALESCE(memo, ''), '^[a-z]+$') AS plain, md5(txn_id || '|' || src) AS digest,
               CASE WHEN amount >= 9000 THEN 'large' WHEN amount IS NULL THEN 'none' ELSE 'small' END AS size,
               GREATEST(amount, 100.0) AS at_least_100, LEAST(src, dst) AS lo, CAST(amount AS BIGINT) AS whole
        FROM txns WHERE ts >= TIMESTAMP '2024-03-02 00:00:00' OR memo IS NULL ORDER BY txn_id""",
    "aggregates_joins_qualify": """
        WITH per_src AS (
            SELECT src, COUNT(*) AS n, COUNT(*) FILTER (WHERE amount >= 9000) AS n_large,
                   CAST(SUM(CASE WHEN amount < 1 THEN 1 ELSE 0 END) AS BIGINT) AS n_tiny,
                   arg_max(txn_id, amount) AS top_txn, MIN(ts) AS first_ts, MAX(ts) AS last_ts
            FROM txns GROUP BY src HAVING COUNT(*) > 1
        )
        SELECT p.src, p.n, p.n_large, p.n_tiny, p.top_txn, p.first_ts, p.last_ts, t.dst AS top_dst,
               ROW_NUMBER() OVER (PARTITION BY t.dst ORDER BY p.n DESC) AS rank_in_dst
        FROM per_src p JOIN txns t ON t.txn_id = p.top_txn
        QUALIFY ROW_NUMBER() OVER (ORDER BY p.n DESC, p.src) <= 2
        ORDER BY p.src DESC""",
    "materialized_ctes": """
        WITH per_src AS MATERIALIZED (SELECT src, COUNT(*) AS n, SUM(amount) AS total FROM txns GROUP BY src),
        plain AS (SELECT src, n FROM per_src WHERE n > 1),
        ranked AS MATERIALIZED (
            SELECT t.txn_id, t.src, p.n, ROW_NUMBER() OVER (PARTITION BY t.src ORDER BY t.txn_id) AS k
            FROM txns t JOIN plain p ON p.src = t.src
        )
        SELECT r.txn_id, r.src, r.n, r.k, per_src.total
        FROM ranked r JOIN per_src ON per_src.src = r.src
        WHERE r.k <= (SELECT MAX(n) FROM per_src) ORDER BY r.txn_id""",
    "values_and_union": """
        SELECT * FROM (VALUES ('a1', 1), ('zz', 2)) AS v(account, k)
        UNION ALL SELECT DISTINCT src, 3 FROM txns ORDER BY account, k""",
}


@pytest.mark.parametrize("name", sorted(PORTABLE_QUERIES))
def test_portable_query_parity(name, duck, spark):
    sql = PORTABLE_QUERIES[name]
    expected = duck.query(sql, label=name)
    got = spark.query(sql, label=name)
    assert expected.num_rows > 0
    assert got.schema == expected.schema, f"{name}: types differ"
    assert got.to_pylist() == expected.to_pylist(), f"{name}: values differ"


def test_exact_rounding_matches_duckdb_on_many_values(spark, duck):
    """ROUND of a double gives DuckDB's values on Spark in both rewritten forms: written out for
    an expression cheap to repeat (``v``, ``v * 3``) and bound once for the rest (an average)."""
    import numpy as np

    rng = np.random.default_rng(5)
    ties = np.arange(-2000, 2000) / 200 + 0.0025  # many land on a half after scaling
    values = np.concatenate([np.round(rng.uniform(-1e5, 1e5, 2000), 3), rng.uniform(-10, 10, 2000), ties])
    data = pa.table({"i": np.arange(len(values)), "v": values})
    duck.register_arrow("round_values", data)
    spark.register_arrow("round_values", data)
    parts = []
    for d in (0, 1, 2, 3):
        parts += [f"ROUND(v, {d}) AS plain_{d}", f"ROUND(v * 3, {d}) AS times_{d}"]
    sql = f"SELECT i, {', '.join(parts)} FROM round_values ORDER BY i"
    # an average is bound once (SQL that is not cheap to repeat), over groups of one row each;
    # printed from magnitudes, as a negative value that rounds to zero prints "-0.0" in DuckDB only
    grouped = (
        "SELECT i, ROUND(AVG(v), 2) AS r, CAST(ROUND(AVG(ABS(v)), 2) AS VARCHAR) AS t "
        "FROM round_values GROUP BY i ORDER BY i"
    )
    for query in (sql, grouped):
        assert spark.query(query).to_pylist() == duck.query(query).to_pylist()


def test_a_statement_run_again_is_not_transpiled_again(spark, duck):
    from moneytrail.engine import spark_engine

    # a CTE read twice is computed as a stage of its own: its text must repeat too
    sql = """
        WITH a AS (SELECT src, amount FROM txns)
        SELECT x.src, ROUND(MAX(x.amount), 2) AS top, COUNT(*) AS n FROM a AS x JOIN a AS y ON x.src = y.src
        GROUP BY x.src ORDER BY x.src"""
    first = spark.query(sql)
    before = spark_engine._transpile.cache_info()
    assert spark.query(sql).equals(first)
    after = spark_engine._transpile.cache_info()
    assert after.misses == before.misses and after.hits >= before.hits + 2
    assert first.to_pylist() == duck.query(sql).to_pylist()


def test_write_table_keeps_order_and_types(ws, spark, duck):
    sql = "SELECT txn_id, ts, amount, amount > 1000 AS big FROM txns ORDER BY amount DESC NULLS LAST, txn_id"
    rows = spark.write_table("spark_out", sql)
    written = ws.read("spark_out")
    assert rows == written.num_rows == 12
    assert _types(written) == _types(duck.query(sql))
    assert written.column("txn_id").to_pylist() == duck.query(sql).column("txn_id").to_pylist()
    # the new table is registered, a single file, and no scratch output is left behind
    assert spark.scalar("SELECT COUNT(*) FROM spark_out") == 12
    assert ws.path("spark_out").is_file()
    assert not list((ws.root / ".tmp").glob("spark-out-*"))


def test_rewritten_table_is_reread(ws, spark):
    spark.write_table("spark_again", "SELECT 1 AS x")
    spark.write_table("spark_again", "SELECT 2 AS x UNION ALL SELECT 3 AS x ORDER BY x")
    assert spark.query("SELECT x FROM spark_again ORDER BY x").column("x").to_pylist() == [2, 3]


def test_empty_result_writes_schema(ws, spark):
    assert spark.write_table("spark_empty", "SELECT txn_id, amount FROM txns WHERE 1 = 0") == 0
    assert pq.read_schema(ws.path("spark_empty")).names == ["txn_id", "amount"]


def test_register_arrow_round_trips(spark):
    data = pa.table(
        {"k": ["x", None], "ts": pa.array([dt.datetime(2024, 1, 1, 12, 0, 0, 5), None], pa.timestamp("us"))}
    )
    spark.register_arrow("arrow_in", data)
    assert spark.query("SELECT * FROM arrow_in ORDER BY k NULLS LAST").equals(data)


def test_errors_name_the_label_and_keep_the_sql(spark):
    with pytest.raises(EngineError, match="spark engine failed on detector 'x'") as info:
        spark.query("SELECT no_such_column FROM txns", label="detector 'x'")
    assert info.value.sql == "SELECT no_such_column FROM txns"


def _held_rdds(spark) -> int:
    return len(spark.spark.sparkContext._jsc.sc().getRDDStorageInfo())


def test_materialize_holds_a_relation_until_released(ws, spark, duck):
    """A relation named like the runner's shared ones (Spark skips files starting with '_') is
    computed once, read like a table, and freed with nothing left in memory or on disk."""
    sql = "SELECT src, COUNT(*) AS n, SUM(amount) AS total FROM txns GROUP BY src"
    query = "SELECT * FROM _per_src ORDER BY src"
    before = _held_rdds(spark)
    assert spark.materialize("_per_src", sql) == duck.materialize("_per_src", sql) == 3
    assert _held_rdds(spark) == before + 1
    assert spark.query(query).equals(duck.query(query))
    spark.release("_per_src")
    duck.release("_per_src")
    with pytest.raises(EngineError):
        spark.query(query)
    assert _held_rdds(spark) == before
    assert not list((ws.root / ".tmp").glob("mt_relation_*"))


def test_connected_components_parity(duck, spark):
    sql = "SELECT src, dst FROM edges"
    expected = duck.connected_components(sql, method="memory")
    assert dict(zip(*expected.to_pydict().values(), strict=True)) == {
        "m1": "m1",
        "m2": "m1",
        "m3": "m1",
        "m4": "m1",
        "w": "w",
        "x": "w",
        "y": "w",
        "z": "z",
    }
    assert spark.connected_components(sql).equals(expected)
    assert not list((spark.workspace.root / ".tmp").glob("_mt_graph_*"))


def test_k_hop_parity(duck, spark):
    sql = "SELECT src, dst FROM edges"
    for directed in (False, True):
        expected = duck.k_hop(sql, "SELECT 'm1' AS seed", 2, directed=directed)
        assert spark.k_hop(sql, "SELECT 'm1' AS seed", 2, directed=directed).equals(expected)
    assert duck.k_hop(sql, "SELECT 'm1' AS seed", 2, directed=True).to_pylist() == [
        {"node": "m1", "hops": 0},
        {"node": "m2", "hops": 2},
        {"node": "m4", "hops": 1},
    ]


# The whole catalogue is compared by default (about five CPU minutes on a local Spark with 2 cores).
# MONEYTRAIL_QUICK_PARITY=1 compares only these fast detectors while developing: between them they
# use time-range windows, string aggregation of evidence, JSON metrics, joins across tables,
# resolved persons and a graph motif.
PARITY_DETECTORS = [
    "casino_cash_delivery",
    "casino_foreign_vip_cash",
    "casino_minimal_play",
    "casino_third_party_cheque",
    "chemical_counterparty",
    "mirror_swap",
    "fan_out",
]


@pytest.fixture(scope="module")
def tiny_world(tmp_path_factory) -> Workspace:
    simulate = pytest.importorskip("moneytrail.simulate").simulate
    ingest = pytest.importorskip("moneytrail.ingest.pipeline").ingest
    root = tmp_path_factory.mktemp("tiny")
    simulate("tiny", seed=1, out=root / "world")
    ws = Workspace(root / "ws").ensure()
    ingest(root / "world", "canonical", ws, progress=False)
    return ws


def _hits(engine, only: list[str] | None) -> pa.Table:
    from moneytrail.detect.runner import run_detectors

    run_detectors(engine, only=only)
    return engine.workspace.read("detector_hits")


def test_materialized_stages_leave_no_scratch(ws, spark):
    sql = PORTABLE_QUERIES["materialized_ctes"]
    before = _held_rdds(spark)
    assert spark.query(sql).num_rows == 12
    assert _held_rdds(spark) == before  # checkpoints and persisted CTEs are freed
    assert not list((ws.root / ".tmp").glob("_mt_stage_*"))
    assert not [v for v in spark.spark.catalog.listTables() if v.name.startswith("_mt_stage_")]


def test_detector_hits_parity_on_tiny_world(tiny_world, spark):
    """The whole catalogue (or, with MONEYTRAIL_QUICK_PARITY=1, a fast subset) gives identical
    ``detector_hits`` on both engines. The ``spark`` fixture owns the Spark context; the tiny
    world's engine shares it."""
    pytest.importorskip("moneytrail.detect.runner")
    only = PARITY_DETECTORS if os.environ.get("MONEYTRAIL_QUICK_PARITY") else None
    with make_engine("duckdb", tiny_world) as duck_tiny:
        expected = _hits(duck_tiny, only)
    with make_engine("spark", tiny_world, master="local[2]") as spark_tiny:
        got = _hits(spark_tiny, only)
    assert expected.num_rows > 100
    fired = set(expected.column("detector_id").to_pylist())
    if only:  # every chosen detector fires on the tiny world, so each is really compared
        assert fired == set(only)
    else:  # the tiny world holds every indicator: nearly the whole catalogue is really compared
        assert len(fired) >= 30
    assert _types(got) == _types(expected)
    for name in expected.column_names:
        assert got.column(name).to_pylist() == expected.column(name).to_pylist(), f"column {name} differs"


SCORE_TABLES = ["account_features", "account_scores", "party_scores", "transaction_scores", "leads"]


def test_scoring_parity_on_tiny_world(tiny_world, spark, tmp_path):
    """Scoring computes its features through the engine: on Spark it writes the same tables as on
    DuckDB, value for value. Trained models are used because that path runs every scoring query
    (account and transaction features, signals, hit roll-ups, leads and their evidence); without a
    model only the scorer differs, and it is plain Python over the same features.

    Equality is exact, with no tolerance: every feature is exact on both engines (money summed in
    cents, shares on a fixed grid), so LightGBM sees identical inputs."""
    from moneytrail.detect.runner import run_detectors
    from moneytrail.score.pipeline import score_workspace
    from moneytrail.score.train import train_models

    model = tmp_path / "model.json"
    with make_engine("duckdb", tiny_world) as duck_tiny:
        run_detectors(duck_tiny, only=PARITY_DETECTORS)
    train_models(tiny_world, model, folds=2, n_estimators=30)
    with make_engine("duckdb", tiny_world) as duck_tiny:
        score_workspace(duck_tiny, tiny_world, model_path=model, progress=False)
    expected = {name: tiny_world.read(name) for name in SCORE_TABLES}
    with make_engine("spark", tiny_world, master="local[2]") as spark_tiny:
        score_workspace(spark_tiny, tiny_world, model_path=model, progress=False)
    accounts = expected["account_scores"]
    assert 0 < sum(accounts.column("alert").to_pylist()) < accounts.num_rows
    assert accounts.column("typologies").null_count < accounts.num_rows  # detector hits are scored
    assert expected["leads"].num_rows > 0
    for name in SCORE_TABLES:
        got = tiny_world.read(name)
        assert _types(got) == _types(expected[name]), f"{name}: types differ"
        for column in expected[name].column_names:
            assert got.column(column).to_pylist() == expected[name].column(column).to_pylist(), (
                f"{name}.{column} differs"
            )
