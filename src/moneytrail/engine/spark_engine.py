"""The Spark engine: the same portable SQL on Apache Spark, locally (``local[*]``) or on a cluster.

Portable SQL (DuckDB's dialect) is transpiled once per query by :func:`to_spark_sql`; results come
back as Arrow with the same types the DuckDB engine gives (:func:`normalize_arrow`). Tables are
the workspace's Parquet files, read in place, so a cluster's workers must see the workspace at the
same path (a shared mount).
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
from sqlglot import exp

from moneytrail.engine.base import PORTABLE_DIALECT, Engine
from moneytrail.errors import ConfigError
from moneytrail.settings import get_settings

# Spark conf for a single machine: few shuffle partitions (the default 200 makes small queries
# slow), UTC so timestamps never shift, NTZ timestamps so they match DuckDB's TIMESTAMP, non-ANSI
# arithmetic so x/0 is NULL as in DuckDB, and microsecond Parquet timestamps (not INT96).
_BASE_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.ansi.enabled": "false",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.parquet.compression.codec": "zstd",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.execution.arrow.pyspark.fallback.enabled": "false",
    "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
}
# A local session runs many short queries on small partitions, where compiling (Spark's generated
# code, the JVM's optimising JIT) costs more CPU than it saves: whole-stage code generation off,
# the JVM's quick compiler only, and a single-threaded collector. About half the CPU of the defaults
# on a sample of detectors over the tiny world; a cluster keeps Spark's defaults.
_LOCAL_CONF = {
    "spark.sql.codegen.wholeStage": "false",
    "spark.driver.memory": "2g",
}
_LOCAL_JAVA_OPTS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
# Spark's own logging: errors only, on stderr (its default chatters about native libraries).
_LOG4J = """rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""
_RUNTIME_CONF = (
    "spark.sql.session.timeZone",
    "spark.sql.timestampType",
    "spark.sql.ansi.enabled",
    "spark.sql.parquet.outputTimestampType",
    "spark.sql.parquet.compression.codec",
    "spark.sql.execution.arrow.pyspark.enabled",
    "spark.sql.execution.arrow.pyspark.fallback.enabled",
    "spark.sql.shuffle.partitions",
)


def to_spark_sql(sql: str, schema: dict[str, dict[str, str]] | None = None) -> str:
    """Transpile one portable (DuckDB-dialect) query to Spark SQL.

    sqlglot does the work; this is the single place for fixes where its Spark output means
    something other than DuckDB does. With ``schema`` (table -> column -> SQL type) the query is
    first qualified and its expressions typed, so the fixes below that depend on a value being
    floating-point also apply to plain DOUBLE columns; without it (or if sqlglot cannot qualify
    the query) only visibly floating expressions count: a cast to DOUBLE, a division, an average,
    ``epoch``, and sums, products, ``LEAST``/``GREATEST``/``COALESCE``/``CASE`` with such an
    operand. Typing is skipped when no rewrite needs it (every ROUND and integer CAST over
    columns is visibly floating): it is most of the transpile time.
    Each fix rewrites one node of the parsed tree:

    * date parts (``extract``, ``year``, ``hour``, ...) are cast to BIGINT, DuckDB's type for them
      (Spark gives INT);
    * ``dayofweek`` counts from Sunday = 0 as DuckDB does (Spark counts from 1), and ``isodow``
      from Monday = 1 (sqlglot's Spark spelling is off by one);
    * ``epoch(ts)`` is fractional seconds as a DOUBLE (sqlglot emits ``unix_timestamp``, whole
      seconds as BIGINT);
    * ``len(list(...))`` of an aggregated list and ``array_length`` become ``size`` cast to
      BIGINT (sqlglot emits ``length``, which Spark applies to strings only);
    * ``round(x, d)`` of a visibly floating ``x`` (a cast to DOUBLE, a division or an average)
      rounds the exact binary value half away from zero as DuckDB does; Spark rounds the
      shortest decimal spelling, so ``round(2.675, 2)`` would be 2.68 there and 2.67 in DuckDB;
    * ``CAST(round(x, d) AS VARCHAR)`` of such an ``x`` prints plain decimals as DuckDB does
      (Spark switches to ``1.2345E7`` from ten million up);
    * ``CAST(x AS BIGINT)`` (or another integer type) of such an ``x`` rounds half to even as
      DuckDB does (Spark truncates);
    * ``row_number``, ``rank``, ``dense_rank`` and ``ntile`` windows are BIGINT as in DuckDB;
    * ``QUALIFY`` beside a ``*`` select list is refused with a clear error: sqlglot's rewrite for
      Spark would leak its helper column through the star;
    * typing folds names to lower case, so the result's columns are given back their own spelling
      (``AS hit_C`` stays ``hit_C``, as in DuckDB).
    """
    tree = sqlglot.parse_one(sql, read=PORTABLE_DIALECT)
    if schema and _needs_types(tree):
        tree = _typed(tree, schema)
    for select in tree.find_all(exp.Select):
        if select.args.get("qualify") and any(
            isinstance(p, exp.Star) or p.is_star for p in select.expressions
        ):
            raise ValueError(
                "QUALIFY with a '*' select list does not transpile to Spark; list the columns instead."
            )
    # Children first, so a rewritten node sees its already-rewritten arguments.
    for node in reversed(list(tree.dfs())):
        parent, key, index = node.parent, node.arg_key, node.index
        new = _fix_node(node)  # may adopt ``node`` as its child, so note its place first
        if new is not node:
            if node is tree:
                tree = new
            else:
                parent.set(key, new, index)
    return tree.sql(dialect="spark")


_DATE_PARTS = (
    exp.Extract,
    exp.Year,
    exp.Quarter,
    exp.Month,
    exp.Week,
    exp.Day,
    exp.DayOfYear,
    exp.DayOfMonth,
    exp.Hour,
    exp.Minute,
    exp.Second,
)
_ARRAY_MAKERS = (exp.ArrayAgg, exp.Array, exp.ArraySort, exp.ArrayDistinct, exp.ArrayConcat, exp.Split)
_FLOAT_TYPES = (exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT)
_INT_TYPES = (
    exp.DataType.Type.TINYINT,
    exp.DataType.Type.SMALLINT,
    exp.DataType.Type.INT,
    exp.DataType.Type.BIGINT,
)
_RANKINGS = (exp.RowNumber, exp.Rank, exp.DenseRank, exp.Ntile)
_TEXT_TYPES = (exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT, exp.DataType.Type.CHAR)
_ROUND_DIGITS = "moneytrail_round_digits"
# Veltkamp's splitter for doubles: 2**27 + 1.
_SPLITTER = 134217729.0


def _typed(tree: exp.Expression, schema: dict[str, dict[str, str]]) -> exp.Expression:
    """The query qualified and annotated with types, or unchanged if sqlglot cannot do it."""
    from sqlglot.optimizer.annotate_types import annotate_types
    from sqlglot.optimizer.qualify import qualify

    try:
        typed = qualify(tree.copy(), schema=schema, dialect=PORTABLE_DIALECT, quote_identifiers=False)
        typed = annotate_types(typed, schema=schema, dialect=PORTABLE_DIALECT)
    except Exception:  # sqlglot cannot resolve every query; the untyped fixes still apply
        return tree
    # Qualifying folds every name to lower case (DuckDB matches names case-insensitively); give
    # the result's columns back their own spelling: the query's aliases, else the tables' names.
    spelling = {c.lower(): c for columns in schema.values() for c in columns}
    spelling.update({s.alias_or_name.lower(): s.alias_or_name for s in tree.selects if s.alias_or_name})
    for select in typed.selects:
        name = spelling.get(select.alias_or_name.lower())
        if isinstance(select, exp.Alias) and name and name != select.alias:
            select.set("alias", exp.to_identifier(name))
    return typed


def arrow_sql_type(t: pa.DataType) -> str | None:
    """The SQL type name sqlglot needs to type a column of Arrow type ``t`` (None if unknown)."""
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "VARCHAR"
    if pa.types.is_floating(t):
        return "DOUBLE" if t.bit_width == 64 else "FLOAT"
    if pa.types.is_integer(t):
        return {8: "TINYINT", 16: "SMALLINT", 32: "INT", 64: "BIGINT"}[t.bit_width]
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if pa.types.is_timestamp(t):
        return "TIMESTAMP"
    if pa.types.is_date(t):
        return "DATE"
    if pa.types.is_decimal(t):
        return f"DECIMAL({t.precision}, {t.scale})"
    return None


# Spark type names (``DataType.typeName()``) to the SQL types sqlglot needs to type expressions.
_SPARK_SQL_TYPES = {
    "string": "VARCHAR",
    "double": "DOUBLE",
    "float": "FLOAT",
    "long": "BIGINT",
    "integer": "INT",
    "short": "SMALLINT",
    "byte": "TINYINT",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP",
    "timestamp_ntz": "TIMESTAMP",
    "date": "DATE",
}


def _spark_sql_type(t) -> str | None:
    if t.typeName() == "decimal":
        return f"DECIMAL({t.precision}, {t.scale})"
    return _SPARK_SQL_TYPES.get(t.typeName())


def _schema_of(arrow_schema: pa.Schema) -> dict[str, str]:
    return {f.name: sql for f in arrow_schema if (sql := arrow_sql_type(f.type))}


def _spark(template: str, **args: exp.Expression) -> exp.Expression:
    """Parse a Spark SQL template, substituting ``:name`` placeholders with expressions."""
    tree = _parsed_template(template).copy()
    if not args:
        return tree
    # a placeholder may occur several times: each occurrence gets its own copy of the expression
    return tree.transform(
        lambda n: args[n.name].copy() if isinstance(n, exp.Placeholder) and n.name in args else n,
        copy=False,
    )


@functools.lru_cache(maxsize=64)
def _parsed_template(template: str) -> exp.Expression:
    # A template (the exact rounding one is long) is parsed once per process, not once per use.
    return sqlglot.parse_one(template, read="spark")


def _is_floating(node: exp.Expression) -> bool:
    if isinstance(node, exp.Paren):
        return _is_floating(node.this)
    if node.type is not None and node.type.this is not exp.DataType.Type.UNKNOWN:
        return node.type.this in _FLOAT_TYPES
    if isinstance(node, exp.Cast):
        return node.to.this in _FLOAT_TYPES
    if isinstance(node, exp.Div | exp.Avg | exp.TimeToUnix) or node.meta.get(_ROUND_DIGITS) is not None:
        return True
    # a DOUBLE operand makes the result DOUBLE (decimals and integers are promoted to it)
    if isinstance(node, _FLOAT_SPREADING):
        return any(_is_floating(a) for a in _operands(node))
    return False


_FLOAT_SPREADING = (
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Mod,
    exp.Neg,
    exp.Abs,
    exp.Greatest,
    exp.Least,
    exp.Coalesce,
    exp.Nullif,
    exp.Case,
    exp.If,
    exp.Sum,
    exp.Min,
    exp.Max,
)


def _operands(node: exp.Expression) -> list[exp.Expression]:
    """The value-carrying arguments of ``node`` (a CASE's results, not its conditions)."""
    if isinstance(node, exp.Case):
        return [i.args["true"] for i in node.args.get("ifs", [])] + [
            d for d in [node.args.get("default")] if d is not None
        ]
    if isinstance(node, exp.If):
        return [a for a in (node.args.get("true"), node.args.get("false")) if a is not None]
    return [a for a in node.iter_expressions() if not isinstance(a, exp.DataType)]


def _needs_types(tree: exp.Expression) -> bool:
    """Whether a rewrite depends on a column's type: a ROUND or integer CAST over columns whose
    floating-point nature the expression does not show. Typing costs most of the transpile time."""
    for node in tree.find_all(exp.Round, exp.Cast):
        if isinstance(node, exp.Cast) and node.to.this not in _INT_TYPES:
            continue
        if not _is_floating(node.this) and node.this.find(exp.Column) is not None:
            return True
    return False


def _double(value: float) -> str:
    return f"CAST('{value!r}' AS DOUBLE)"


def _split(value: float) -> tuple[float, float]:
    t = value * _SPLITTER
    hi = t - (t - value)
    return hi, value - hi


def _let(name: str, value: str, body: str) -> str:
    """Bind ``value`` to lambda variable ``name`` in ``body`` (Spark has no LET; a one-element
    TRANSFORM evaluates the expression once and keeps the SQL short)."""
    return f"ELEMENT_AT(TRANSFORM(ARRAY({value}), {name} -> {body}), 1)"


def exact_round_sql(digits: int, *, inline: bool = False) -> str:
    """Spark SQL rounding double ``:x`` to ``digits`` places as DuckDB does (exact value, ties away from 0).

    ``p = x * 10^d`` is rounded by the hardware; only when ``p`` lands exactly on a half does the
    rounding error matter, and Dekker's exact product tells on which side of the half the true
    ``x * 10^d`` lies. With ``inline`` (for an ``x`` that is cheap to repeat, such as a column)
    ``x`` is written out at each use, so a row that is not a tie is rounded without building
    arrays; otherwise ``x`` is bound once (:func:`_let`). Both give the same values.
    """
    c = 10.0**digits
    c_hi, c_lo = _split(c)
    v = "CAST(:x AS DOUBLE)" if inline else "_mt_v"
    p = f"({v} * {_double(c)})"
    t = "_mt_t" if inline else "_mt_v"  # x as a variable in the tie branch
    hi = f"({t} * {_double(_SPLITTER)} - ({t} * {_double(_SPLITTER)} - {t}))"
    terms = [f"(_mt_h * {_double(c_hi)} - {t} * {_double(c)})", f"({t} - _mt_h) * {_double(c_hi)}"]
    if c_lo:
        terms[1:1] = [f"_mt_h * {_double(c_lo)}"]
        terms.append(f"({t} - _mt_h) * {_double(c_lo)}")
    err = "(" + " + ".join(terms) + ")"
    up = f"CASE WHEN {err} > 0 OR ({err} = 0 AND {t} > 0) THEN 1 ELSE 0 END"
    tie = _let("_mt_h", hi, up)
    if inline:  # the tie branch (rare) binds x, so its long error term names x only by a variable
        tie = _let(t, v, tie)
    # Below 1e15 ``p - FLOOR(p)`` is exact; Spark's own ROUND of a double goes through a decimal
    # and costs far more per row.
    frac = f"({p} - FLOOR({p}))"
    body = (
        f"CASE WHEN {v} IS NULL OR ISNAN({v}) OR ABS({p}) >= 1e15 THEN {v} "
        f"ELSE (FLOOR({p}) + CASE WHEN {frac} > 0.5 THEN 1 WHEN {frac} < 0.5 THEN 0 ELSE {tie} END) "
        f"/ {_double(c)} END"
    )
    return body if inline else _let("_mt_v", "CAST(:x AS DOUBLE)", body)


def decimal_text_sql(digits: int) -> str:
    """Spark SQL printing double ``:x`` (already rounded to ``digits``) as DuckDB prints it."""
    dot = " || '.'" if digits == 0 else ""
    text = (
        f"REGEXP_REPLACE(REGEXP_REPLACE(CAST(CAST(_mt_r AS DECIMAL(38, {digits})) AS STRING){dot}, "
        "'0+$', ''), '[.]$', '.0')"
    )
    return _let("_mt_r", ":x", f"CASE WHEN ISNAN(_mt_r) THEN CAST(_mt_r AS STRING) ELSE {text} END")


# Expressions that cost about as much as reading a column: they may be written out several times.
_CHEAP = (
    exp.Column,
    exp.Identifier,
    exp.Literal,
    exp.Cast,
    exp.DataType,
    exp.Paren,
    exp.Coalesce,
    exp.Neg,
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Div,
    exp.Nullif,
    exp.Least,
    exp.Greatest,
    exp.Abs,
)


def _cheap_to_repeat(node: exp.Expression) -> bool:
    """Whether ``node`` is plain arithmetic over columns and literals, small enough to repeat."""
    nodes = list(node.walk())
    return len(nodes) <= 16 and all(isinstance(n, _CHEAP) for n in nodes)


def _round_digits(node: exp.Round) -> int | None:
    d = node.args.get("decimals")
    if d is None:
        return 0
    if isinstance(d, exp.Literal) and not d.is_string and d.this.isdigit():
        return int(d.this)
    return None


def _fix_node(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.DayOfWeek):
        return _spark("CAST(DAYOFWEEK(:x) - 1 AS BIGINT)", x=node.this)
    if isinstance(node, exp.DayOfWeekIso):
        return _spark("CAST(WEEKDAY(:x) + 1 AS BIGINT)", x=node.this)
    if isinstance(node, exp.TimeToUnix):
        return _spark("CAST(UNIX_MICROS(CAST(:x AS TIMESTAMP_LTZ)) AS DOUBLE) / 1000000", x=node.this)
    if isinstance(node, _DATE_PARTS):
        return exp.Cast(this=node, to=exp.DataType.build("BIGINT"))
    if isinstance(node, exp.ArraySize) or (
        isinstance(node, exp.Length) and isinstance(node.this, _ARRAY_MAKERS)
    ):
        return _spark("CAST(SIZE(:x) AS BIGINT)", x=node.this)
    if isinstance(node, exp.Window) and isinstance(node.this, _RANKINGS):
        return exp.Cast(this=node, to=exp.DataType.build("BIGINT"))
    if isinstance(node, exp.Cast) and node.to.this in _INT_TYPES and _is_floating(node.this):
        return exp.Cast(this=exp.Anonymous(this="BROUND", expressions=[node.this]), to=node.to)
    if isinstance(node, exp.Round) and _is_floating(node.this):
        digits = _round_digits(node)
        if digits is not None:
            inline = _cheap_to_repeat(node.this)
            out = exp.Paren(this=_spark(exact_round_sql(digits, inline=inline), x=node.this))
            out.meta[_ROUND_DIGITS] = digits
            return out
    if (
        isinstance(node, exp.Cast)
        and node.to.this in _TEXT_TYPES
        and node.this.meta.get(_ROUND_DIGITS) is not None
    ):
        digits = node.this.meta[_ROUND_DIGITS]
        return _spark(decimal_text_sql(digits), x=node.this)
    return node


def materialized_stages(
    sql: str, prefix: str, *, repeated: bool = False
) -> tuple[list[tuple[str, str, bool]], str]:
    """Split the CTEs marked ``MATERIALIZED`` out of a portable query, in order of definition.

    Returns ``[(view, stage_sql, marked), ...]`` and the rest of the query, all portable SQL:
    each stage is one CTE (with the plain CTEs before it that it may use) to be computed on its
    own and registered as ``view`` (``prefix`` + a number); the rest reads those views in place of
    the CTEs. With ``repeated``, CTEs used more than once are split out too (``marked`` false).
    DuckDB honours ``MATERIALIZED`` itself and computes a CTE used twice once; Spark inlines every
    CTE at every use, so a query that builds on the same CTE many times (the levels of a path
    search, a join read by three later steps) grows a plan that recomputes it again and again.
    A query with nothing to split comes back unchanged.

    >>> materialized_stages("WITH a AS MATERIALIZED (SELECT 1 AS x) SELECT a.x FROM a", "v")
    ([('v0', 'SELECT * FROM (SELECT 1 AS x) AS _mt_stage', True)], 'SELECT a.x FROM v0 AS a')
    """
    tree = sqlglot.parse_one(sql, read=PORTABLE_DIALECT)
    stages: list[tuple[str, str, bool]] = []
    for with_ in list(tree.find_all(exp.With)):
        marked = [c for c in with_.expressions if c.args.get("materialized")]
        if with_.find_ancestor(exp.CTE) is not None or with_.root() is not tree:
            if marked:
                raise ValueError(
                    "A MATERIALIZED common table expression inside another one is not supported."
                )
            continue  # inside a CTE: it goes with that CTE
        scope = with_.parent
        renames: dict[str, str] = {}
        kept: list[exp.CTE] = []
        ctes = list(with_.expressions)
        for n, cte in enumerate(ctes):
            _rename_tables(cte.this, renames)
            uses = sum(_uses(c.this, cte.alias) for c in ctes[n + 1 :]) + sum(
                _uses(part, cte.alias) for part in scope.iter_expressions() if part is not with_
            )
            is_marked = bool(cte.args.get("materialized"))
            if not (is_marked or (repeated and uses > 1)):
                kept.append(cte)
                continue
            view = f"{prefix}{len(stages)}"
            body = exp.select("*").from_(
                exp.Subquery(this=cte.this.copy(), alias=exp.TableAlias(this=exp.to_identifier("_mt_stage")))
            )
            for earlier in kept:
                body = body.with_(earlier.alias, as_=earlier.this.copy())
            stages.append((view, body.sql(dialect=PORTABLE_DIALECT), is_marked))
            renames[cte.alias] = view
            cte.pop()
        for part in scope.iter_expressions():
            if part is not with_:
                _rename_tables(part, renames)
        if not with_.expressions:
            with_.pop()
    return (stages, tree.sql(dialect=PORTABLE_DIALECT)) if stages else ([], sql)


@functools.lru_cache(maxsize=1024)
def _transpile(sql: str, schema: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]) -> str:
    return to_spark_sql(sql, {name: dict(columns) for name, columns in schema})


@functools.lru_cache(maxsize=1024)
def _stages(sql: str, prefix: str) -> tuple[tuple[tuple[str, str, bool], ...], str]:
    stages, rest = materialized_stages(sql, prefix, repeated=True)
    return tuple(stages), rest


def _uses(node: exp.Expression, name: str) -> int:
    """How often ``node`` reads the CTE ``name`` (a nested CTE of the same name hides it)."""
    return sum(
        1
        for t in node.find_all(exp.Table)
        if not t.args.get("db") and t.name == name and not _hidden(t, name, node)
    )


def _hidden(table: exp.Table, name: str, stop: exp.Expression) -> bool:
    node = table.parent
    while node is not None and node is not stop.parent:
        w = node.args.get("with_") if isinstance(node, exp.Query) else None
        if w is not None and any(c.alias == name for c in w.expressions):
            return True
        node = node.parent
    return False


def _rename_tables(node: exp.Expression, renames: dict[str, str]) -> None:
    if not renames:
        return
    for table in list(node.find_all(exp.Table)):
        name = table.name
        if not table.args.get("db") and name in renames and not _hidden(table, name, node):
            if not table.alias:  # ``a.x`` must still find the columns of ``a``
                table.set("alias", exp.TableAlias(this=exp.to_identifier(name)))
            table.set("this", exp.to_identifier(renames[name]))


def normalize_arrow(table: pa.Table) -> pa.Table:
    """Give a Spark result the Arrow types the DuckDB engine gives for the same query.

    Timestamps become microsecond timestamps without a time zone (UTC wall time), large strings
    and binaries their plain forms. Everything else already matches.
    """
    fields = []
    changed = False
    for f in table.schema:
        t = _normal_type(f.type)
        changed |= t != f.type
        # DuckDB marks every result column nullable; Spark marks literals and counts not-null.
        changed |= not f.nullable
        fields.append(pa.field(f.name, t, True))
    return table.cast(pa.schema(fields)) if changed else table


def _normal_type(t: pa.DataType) -> pa.DataType:
    if pa.types.is_timestamp(t):
        return pa.timestamp("us")
    if pa.types.is_large_string(t):
        return pa.string()
    if pa.types.is_large_binary(t):
        return pa.binary()
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return pa.list_(_normal_type(t.value_type))
    return t


class SparkEngine(Engine):
    """Runs portable SQL on a Spark session.

    Options: ``master`` (default ``settings.spark_master``, normally ``local[*]``; a cluster URL
    such as ``spark://host:7077`` also works), ``shuffle_partitions`` (default 4 on a local
    master, 200 on a cluster), ``driver_memory`` (e.g. ``"4g"``, local only), ``conf`` (a dict of
    extra Spark settings).

    Several engines in one process share one SparkContext: the first one started owns it and
    stops it on :meth:`close`; the others get their own session (their own temporary views).
    """

    name = "spark"

    # -- connection --------------------------------------------------------------------------
    def _connect(self) -> None:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        # PySpark logs every failed query with a full Java stack; the engine re-raises with one
        # sentence instead, so keep those loggers quiet.
        for logger in ("SQLQueryContextLogger", "DataFrameQueryContextLogger", "py4j"):
            logging.getLogger(logger).setLevel(logging.CRITICAL)
        from pyspark.sql import SparkSession

        if not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
            raise ConfigError(
                "The Spark engine needs Java 17 or newer and no 'java' was found on the PATH; "
                "run `make setup` or install openjdk-17-jre-headless."
            )
        self._owns_context = False
        active = SparkSession.getActiveSession()
        if active is not None:
            self.spark = active.newSession()
        else:
            self.spark = self._builder(SparkSession).getOrCreate()
            self._owns_context = True
            self.spark.sparkContext.setLogLevel("ERROR")
        for key in _RUNTIME_CONF:
            self.spark.conf.set(key, self._conf()[key])
        self._views: set[str] = set()
        # DataFrames held by ``materialize`` until ``release``.
        self._held: dict[str, object] = {}
        # Column types of the registered tables, so the transpile step can type expressions.
        self._schemas: dict[str, dict[str, str]] = {}
        self._stage_depth = 0

    @property
    def master(self) -> str:
        return self.options.get("master") or get_settings().spark_master

    @property
    def _is_local(self) -> bool:
        return self.master.startswith("local")

    def _conf(self) -> dict[str, str]:
        local = self._is_local
        conf = dict(_BASE_CONF)
        if local:
            conf.update(_LOCAL_CONF)
        conf["spark.sql.shuffle.partitions"] = str(
            self.options.get("shuffle_partitions") or (_local_cores(self.master) if local else 200)
        )
        tmp = self.workspace.root.resolve() / ".tmp"
        conf["spark.local.dir"] = str(tmp / "spark-local")
        conf["spark.sql.warehouse.dir"] = str(tmp / "spark-warehouse")
        java_opts = (
            f"-Duser.timezone=UTC -Djava.io.tmpdir={tmp / 'spark-local'} "
            f"-Dlog4j2.configurationFile={tmp / 'spark-local' / 'log4j2.properties'}"
        )
        if local:
            java_opts += " " + _LOCAL_JAVA_OPTS
        conf["spark.driver.extraJavaOptions"] = java_opts
        if self.options.get("driver_memory"):
            conf["spark.driver.memory"] = str(self.options["driver_memory"])
        conf.update({k: str(v) for k, v in (self.options.get("conf") or {}).items()})
        return conf

    def _builder(self, session_cls):
        local_dir = self.workspace.root / ".tmp" / "spark-local"
        local_dir.mkdir(parents=True, exist_ok=True)
        (local_dir / "log4j2.properties").write_text(_LOG4J, encoding="utf-8")
        builder = session_cls.builder.master(self.master).appName("moneytrail")
        for key, value in self._conf().items():
            builder = builder.config(key, value)
        return builder

    # -- the engine contract -----------------------------------------------------------------
    def _register_parquet(self, name: str, path: Path) -> None:
        p = str(Path(path).resolve())
        # A table rewritten in place keeps its path; drop Spark's cached listing of the old file.
        self.spark.catalog.refreshByPath(p)
        self.spark.read.parquet(p).createOrReplaceTempView(name)
        self._views.add(name)
        self._schemas[name] = _schema_of(pq.read_schema(p))

    def _register_arrow(self, name: str, data: pa.Table) -> None:
        # PySpark reads an Arrow table's record batches only up to the first empty one, so a table
        # concatenated from parts (some empty) would silently lose rows: give it one chunk.
        self.spark.createDataFrame(data.combine_chunks()).createOrReplaceTempView(name)
        self._views.add(name)
        self._schemas[name] = _schema_of(data.schema)

    def dataframe(self, sql: str):
        """The Spark DataFrame for a portable query, with DuckDB-compatible column types.

        The query must not mark CTEs ``MATERIALIZED`` (use :meth:`staged`, which computes them).
        """
        df = self.spark.sql(self._spark_text(sql))
        return _normalize_dataframe(df)

    def _spark_text(self, sql: str) -> str:
        """:func:`to_spark_sql` of ``sql``, remembered per statement text and the column types of
        the tables it names (a statement run again, such as a graph round, is not transpiled again)."""
        lowered = sql.lower()
        schema = tuple(
            (name, tuple(columns.items()))
            for name, columns in sorted(self._schemas.items())
            if name.lower() in lowered
        )
        return _transpile(sql, schema)

    @contextmanager
    def staged(self, sql: str) -> Iterator:
        """The DataFrame of ``sql``, its repeated and ``MATERIALIZED`` CTEs computed once each.

        A ``MATERIALIZED`` CTE is computed on its own and its plan cut there (see :meth:`_hold`),
        so a search over many levels stays a chain of small queries; a CTE used more than once is
        persisted (memory, then disk) and reused. Both are released on exit. See
        :func:`materialized_stages`.
        """
        from pyspark import StorageLevel

        # Stage names depend only on the nesting depth, so a statement run again gives the same
        # texts and its transpiled SQL is reused (:meth:`_spark_text`).
        stages, rest = _stages(sql, f"_mt_stage_{self._stage_depth + 1}_")
        scratch = self.workspace.root / ".tmp" / f"_mt_stage_{uuid.uuid4().hex[:8]}"
        held = []
        self._stage_depth += 1
        try:
            for view, stage_sql, marked in stages:
                df = self.dataframe(stage_sql)
                df = self._hold(df, scratch / view) if marked else df.persist(StorageLevel.MEMORY_AND_DISK)
                held.append(df)
                self._register_dataframe(view, df)
            yield self.dataframe(rest)
        finally:
            for view, _, _ in stages:
                if view in self._views:
                    self._unregister(view)
            for df in held:
                _free(df)
            shutil.rmtree(scratch, ignore_errors=True)
            self._stage_depth -= 1

    def _hold(self, df, folder: Path):
        """``df`` computed now, as a DataFrame whose plan starts from the result.

        On a local master the result stays in Spark's block manager (memory, spilling to local
        disk): a local checkpoint costs one job, where a Parquet round trip costs a write job, a
        commit, a listing and a read. On a cluster it is written as Parquet under ``folder``
        (every worker must be able to read it back, and a lost executor must not lose it).
        """
        if self._is_local:
            return df.localCheckpoint(eager=True)
        out = str(folder.resolve())
        df.write.mode("overwrite").parquet(out)
        return self.spark.read.parquet(out)

    def _register_dataframe(self, name: str, df) -> None:
        df.createOrReplaceTempView(name)
        self._views.add(name)
        self._schemas[name] = {f.name: t for f in df.schema.fields if (t := _spark_sql_type(f.dataType))}

    def _materialize(self, name: str, sql: str) -> tuple[int, Path | None]:
        # Spark skips files whose names start with '_' or '.', so the default Parquet checkpoint
        # would hide relations named like '_pairs'; the result is held as in ``staged`` instead.
        folder = self.workspace.root / ".tmp" / f"mt_relation_{uuid.uuid4().hex[:8]}"
        try:
            with self.staged(sql) as df:
                held = self._hold(df, folder / "data")
            rows = held.count()
        except Exception:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        self._register_dataframe(name, held)
        self._held[name] = held
        return rows, folder

    def _release(self, name: str, held: Path | None) -> None:
        df = self._held.pop(name, None)
        if df is not None:
            _free(df)
        super()._release(name, held)

    def _execute(self, sql: str) -> pa.Table:
        with self.staged(sql) as df:
            return normalize_arrow(df.toArrow())

    def _copy_to_parquet(self, sql: str, path: Path) -> int:
        out_dir = self.workspace.root / ".tmp" / f"spark-out-{uuid.uuid4().hex}"
        try:
            with self.staged(sql) as df:
                # coalesce (not repartition) keeps an ORDER BY's order: partitions are concatenated.
                df.coalesce(1).write.mode("overwrite").parquet(str(out_dir.resolve()))
            parts = sorted(out_dir.glob("part-*.parquet"))
            if len(parts) != 1:
                raise RuntimeError(f"Spark wrote {len(parts)} Parquet parts to {out_dir}, expected one")
            shutil.move(str(parts[0]), str(path))
        finally:
            shutil.rmtree(out_dir, ignore_errors=True)
        return pq.ParquetFile(path).metadata.num_rows

    def _unregister(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)
        self._views.discard(name)
        self._schemas.pop(name, None)

    def close(self) -> None:
        spark = getattr(self, "spark", None)
        if spark is None:
            return
        for view in getattr(self, "_views", ()):
            spark.catalog.dropTempView(view)
        if self._owns_context:
            spark.stop()
        self.spark = None


def _local_cores(master: str) -> int:
    """Worker threads of a ``local``, ``local[N]`` or ``local[*]`` master (at least 2)."""
    inside = master.partition("[")[2].partition("]")[0].partition(",")[0]
    cores = int(inside) if inside.isdigit() else (os.cpu_count() or 2) if inside == "*" else 1
    return max(cores, 2)


def _free(df) -> None:
    """Drop what a persisted or locally checkpointed DataFrame keeps in Spark's block manager.

    ``unpersist`` frees a persisted DataFrame, but a local checkpoint's blocks belong to the RDD
    under its plan, which only the JVM side can reach.
    """
    plan = df._jdf.queryExecution().logical()
    if plan.getClass().getSimpleName() == "LogicalRDD":
        plan.rdd().unpersist(False)
    else:
        df.unpersist()


def _normalize_dataframe(df):
    """Cast Spark-only types to the ones DuckDB produces (time-zoned timestamps to wall time)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import TimestampType

    if not any(isinstance(f.dataType, TimestampType) for f in df.schema.fields):
        return df
    cols = [
        F.col(f"`{f.name}`").cast("timestamp_ntz").alias(f.name)
        if isinstance(f.dataType, TimestampType)
        else F.col(f"`{f.name}`")
        for f in df.schema.fields
    ]
    return df.select(*cols)
