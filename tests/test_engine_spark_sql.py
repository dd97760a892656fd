"""The portable-SQL-to-Spark transpile step and type normalisation (no Spark session needed)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from moneytrail.engine.spark_engine import normalize_arrow, to_spark_sql

pytestmark = pytest.mark.duckdb


def test_date_parts_are_bigint_like_duckdb():
    out = to_spark_sql("SELECT extract(hour FROM ts), year(ts), hour(ts) FROM t")
    assert out == (
        "SELECT CAST(EXTRACT(HOUR FROM ts) AS BIGINT), CAST(YEAR(ts) AS BIGINT), CAST(HOUR(ts) AS BIGINT) FROM t"
    )


def test_day_of_week_counts_like_duckdb():
    out = to_spark_sql("SELECT dayofweek(ts), isodow(ts) FROM t")
    assert out == "SELECT CAST(DAYOFWEEK(ts) - 1 AS BIGINT), CAST(WEEKDAY(ts) + 1 AS BIGINT) FROM t"


def test_epoch_keeps_fractional_seconds():
    out = to_spark_sql("SELECT epoch(ts) FROM t")
    assert out == "SELECT CAST(UNIX_MICROS(CAST(ts AS TIMESTAMP_LTZ)) AS DOUBLE) / 1000000 FROM t"


def test_length_of_aggregated_list_is_size_but_string_length_stays():
    out = to_spark_sql("SELECT len(list(x)), len(name), array_length(l) FROM t")
    assert out == "SELECT CAST(SIZE(COLLECT_LIST(x)) AS BIGINT), LENGTH(name), CAST(SIZE(l) AS BIGINT) FROM t"


def test_fixes_apply_inside_subqueries_and_filters():
    out = to_spark_sql("SELECT * FROM (SELECT hour(ts) AS h FROM t) s WHERE h > 3 AND year(ts) = 2024")
    assert out.count("CAST(") == 2 and "CAST(CAST(" not in out


def test_round_is_rewritten_only_for_visible_doubles():
    out = to_spark_sql(
        "SELECT round(CAST(a AS DOUBLE), 2), round(a / b, 1), round(avg(a)), round(a, 2) FROM t"
    )
    assert out.count(") < 0.5 THEN 0 ELSE") == 3
    assert out.endswith("ROUND(a, 2) FROM t")


def test_printed_round_is_plain_decimal():
    out = to_spark_sql("SELECT CAST(round(CAST(a AS DOUBLE), 2) AS VARCHAR) FROM t")
    assert "CAST(_mt_r AS DECIMAL(38, 2))" in out
    # a string cast of anything else is left to Spark
    assert to_spark_sql("SELECT CAST(a AS VARCHAR) FROM t") == "SELECT CAST(a AS STRING) FROM t"


def _reference_round(v: float, digits: int) -> float:
    """The algorithm exact_round_sql writes in SQL, in Python (same IEEE doubles)."""
    import math

    from moneytrail.engine.spark_engine import _split

    c = 10.0**digits
    p = v * c
    if abs(p) >= 1e15:
        return v
    f = math.floor(p)
    if p - f == 0.5:
        (hv, lv), (hc, lc) = _split(v), _split(c)
        err = ((hv * hc - p) + hv * lc + lv * hc) + lv * lc
        return (f + (1 if err > 0 or (err == 0 and v > 0) else 0)) / c
    return round(p) / c


def test_exact_round_algorithm_matches_duckdb():
    import duckdb
    import numpy as np

    rng = np.random.default_rng(3)
    values = np.concatenate(
        [np.round(rng.uniform(-1e5, 1e5, 3000), 3), rng.uniform(-10, 10, 3000), np.arange(0, 5, 0.005)]
    )
    con = duckdb.connect()
    con.register("v", pa.table({"v": values}))
    for digits in (0, 1, 2, 3):
        duck = con.sql(f"SELECT round(v, {digits}) FROM v").to_arrow_table().column(0).to_pylist()
        assert duck == [_reference_round(float(v), digits) for v in values]


def test_normalize_arrow_gives_duckdb_types():
    spark_like = pa.table(
        {
            "ts": pa.array([dt.datetime(2024, 1, 1, 12)], pa.timestamp("us", tz="UTC")),
            "s": pa.array(["x"], pa.large_string()),
            "n": pa.array([1], pa.int64()),
        },
        schema=pa.schema(
            [
                pa.field("ts", pa.timestamp("us", tz="UTC")),
                pa.field("s", pa.large_string()),
                pa.field("n", pa.int64(), nullable=False),
            ]
        ),
    )
    out = normalize_arrow(spark_like)
    assert out.schema == pa.schema([("ts", pa.timestamp("us")), ("s", pa.string()), ("n", pa.int64())])
    assert out.column("ts")[0].as_py() == dt.datetime(2024, 1, 1, 12)


def test_materialized_ctes_become_stages_in_order():
    from moneytrail.engine.spark_engine import materialized_stages

    sql = """
        SELECT * FROM (
            WITH e AS (SELECT * FROM t), a AS MATERIALIZED (SELECT x FROM e),
                 b AS (SELECT a.x FROM a JOIN e ON e.x = a.x), c AS MATERIALIZED (SELECT x FROM b)
            SELECT c.x FROM c JOIN a ON a.x = c.x
        ) AS core"""
    stages, rest = materialized_stages(sql, "v")
    assert stages == [
        ("v0", "WITH e AS (SELECT * FROM t) SELECT * FROM (SELECT x FROM e) AS _mt_stage", True),
        (
            "v1",
            "WITH e AS (SELECT * FROM t), b AS (SELECT a.x FROM v0 AS a JOIN e ON e.x = a.x) "
            "SELECT * FROM (SELECT x FROM b) AS _mt_stage",
            True,
        ),
    ]
    # the rest reads the stages under the CTEs' names, so qualified columns still resolve
    assert rest.endswith("SELECT c.x FROM v1 AS c JOIN v0 AS a ON a.x = c.x) AS core")
    assert "MATERIALIZED" not in rest


def test_query_without_materialized_ctes_is_untouched():
    from moneytrail.engine.spark_engine import materialized_stages

    sql = "WITH a AS (SELECT 1 AS x) SELECT x FROM a"
    assert materialized_stages(sql, "v") == ([], sql)
    assert materialized_stages(sql, "v", repeated=True) == ([], sql)


def test_repeated_ctes_become_stages_but_a_hiding_cte_is_left_alone():
    from moneytrail.engine.spark_engine import materialized_stages

    sql = (
        "WITH e AS (SELECT * FROM t), once AS (SELECT x FROM e) "
        "SELECT * FROM once JOIN e ON TRUE JOIN (WITH e AS (SELECT 2 AS y) SELECT y FROM e) AS z ON TRUE"
    )
    stages, rest = materialized_stages(sql, "v", repeated=True)
    assert stages == [("v0", "SELECT * FROM (SELECT * FROM t) AS _mt_stage", False)]
    assert rest == (
        "WITH once AS (SELECT x FROM v0 AS e) SELECT * FROM once JOIN v0 AS e ON TRUE "
        "JOIN (WITH e AS (SELECT 2 AS y) SELECT y FROM e) AS z ON TRUE"
    )


def test_local_sessions_favour_short_queries(workspace):
    from moneytrail.engine.spark_engine import SparkEngine

    local = SparkEngine(workspace, master="local[3]")._conf()
    assert local["spark.sql.shuffle.partitions"] == "3"
    assert local["spark.sql.codegen.wholeStage"] == "false"
    assert "-XX:TieredStopAtLevel=1" in local["spark.driver.extraJavaOptions"]
    cluster = SparkEngine(workspace, master="spark://host:7077")._conf()
    assert cluster["spark.sql.shuffle.partitions"] == "200"
    assert "spark.sql.codegen.wholeStage" not in cluster
    assert "TieredStopAtLevel" not in cluster["spark.driver.extraJavaOptions"]


def test_typing_only_when_a_rewrite_needs_a_column_type():
    schema = {"t": {"a": "DOUBLE", "n": "BIGINT"}}
    # visibly floating: no typing needed, the query keeps its own spelling
    out = to_spark_sql("SELECT ROUND(0.7 * LEAST(1.0, CAST(n AS DOUBLE)), 4) AS s FROM t", schema)
    assert ") < 0.5 THEN 0 ELSE" in out and "t.n" not in out
    # a plain DOUBLE column is only known from the schema: typed, and still rewritten
    out = to_spark_sql("SELECT ROUND(a, 2) AS r, CAST(a AS BIGINT) AS w FROM t", schema)
    assert ") < 0.5 THEN 0 ELSE" in out and "BROUND" in out
    # an integer column is left to Spark's own ROUND
    assert ") < 0.5 THEN 0 ELSE" not in to_spark_sql("SELECT ROUND(n, 2) AS r FROM t", schema)
