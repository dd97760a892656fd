"""The default engine: embedded DuckDB, reading the workspace's Parquet in place."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa

from moneytrail.engine.base import Engine
from moneytrail.settings import get_settings

# DuckDB's memory limit when neither the ``memory_limit`` option nor MONEYTRAIL_MEMORY_LIMIT is
# set. DuckDB's own default (80% of the machine) lets one run take most of a shared machine; with
# a limit, joins, aggregates and sorts that outgrow it spill to the temp directory instead.
DEFAULT_MEMORY_LIMIT = "5GB"
# The share of the memory limit that cached workspace tables may take together (by the estimate
# of :func:`decoded_size`); the rest is the queries'. A cached table that meets memory pressure
# is spilled like any other data, so the share bounds the cost, not correctness.
CACHE_SHARE = 0.5
# Binary and decimal units of DuckDB's memory figures ("4.6 GiB", "500.0 MiB", "5GB").
_UNITS = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}
_UNITS.update({"KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12})
# Bytes a value of each Parquet physical type takes in DuckDB's columns: strings are 16 (inline
# up to 12 bytes, a pointer beyond), booleans 1, 32-bit values 4, the rest 8.
_DECODED_WIDTH = {"BYTE_ARRAY": 16, "FIXED_LEN_BYTE_ARRAY": 16, "BOOLEAN": 1, "INT32": 4, "FLOAT": 4}


def sql_literal(value: str) -> str:
    """Quote a string as a SQL literal."""
    return "'" + str(value).replace("'", "''") + "'"


def parse_bytes(text: str) -> float:
    """Bytes in a DuckDB memory figure such as ``"4.6 GiB"`` or ``"5GB"``.

    >>> parse_bytes("4.5 GiB") == 4.5 * 2**30, parse_bytes("5GB")
    (True, 5000000000.0)
    """
    number, unit = re.fullmatch(r"\s*([\d.]+)\s*([A-Za-z]+)\s*", text).groups()
    return float(number) * _UNITS[unit]


def decoded_size(path: Path) -> int | None:
    """An estimate of the bytes a Parquet file takes once decoded into DuckDB's columns (None for
    a folder of files)."""
    if not path.is_file():
        return None
    import pyarrow.parquet as pq

    meta = pq.read_metadata(path)
    width = sum(_DECODED_WIDTH.get(meta.schema.column(i).physical_type, 8) for i in range(meta.num_columns))
    return meta.num_rows * width


class DuckDBEngine(Engine):
    """Runs portable SQL on an in-process DuckDB connection.

    Options: ``threads`` and ``memory_limit`` (DuckDB settings; default the ``threads`` and
    ``memory_limit`` settings, then all cores and :data:`DEFAULT_MEMORY_LIMIT`), ``temp_directory``
    for out-of-core work (defaults to the workspace's ``.tmp`` folder).

    A cached table (:meth:`~moneytrail.engine.base.Engine.cache_table`) is a temporary table of
    the same name, which DuckDB finds before the view of the Parquet file; tables are cached while
    their estimated size fits in :data:`CACHE_SHARE` of the memory limit.
    """

    name = "duckdb"
    # Graphs up to this many edges go to igraph in memory (much faster than iterating in SQL).
    in_memory_graph_limit = 50_000_000

    @property
    def memory_limit(self) -> tuple[str, str]:
        """The memory limit this engine sets, and where it comes from: ``"option"``, the
        ``MONEYTRAIL_MEMORY_LIMIT`` setting or ``"default"``."""
        if self.options.get("memory_limit"):
            return str(self.options["memory_limit"]), "option"
        if configured := get_settings().memory_limit:
            return configured, "MONEYTRAIL_MEMORY_LIMIT"
        return DEFAULT_MEMORY_LIMIT, "default"

    @property
    def temp_directory(self) -> Path:
        """Where DuckDB spills what outgrows the memory limit."""
        return Path(self.options.get("temp_directory") or (self.workspace.root / ".tmp"))

    def _connect(self) -> None:
        self.con = duckdb.connect(":memory:")
        self._views: set[str] = set()  # relations materialised lazily, as views
        self._cache_sizes: dict[str, int] = {}  # cached workspace tables, by estimated size
        settings = get_settings()
        threads = self.options.get("threads") or settings.threads
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self.con.execute(f"SET memory_limit = {sql_literal(self.memory_limit[0])}")
        self.con.execute(f"SET temp_directory = {sql_literal(str(self.temp_directory))}")
        # Kept on: tables written without ORDER BY keep their row order, so the same input gives
        # byte-identical output (at some cost in memory on large results).
        self.con.execute("SET preserve_insertion_order = true")
        # Progress is shown by moneytrail (rich, on stderr); DuckDB's own bar would print to stdout.
        self.con.execute("SET enable_progress_bar = false")

    def _register_parquet(self, name: str, path: Path) -> None:
        self.con.execute(
            f'CREATE OR REPLACE VIEW "{name}" AS SELECT * FROM read_parquet({sql_literal(str(path))})'
        )

    def _register_arrow(self, name: str, data: pa.Table) -> None:
        self.con.register(name, data)

    def _execute(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()

    def _copy_to_parquet(self, sql: str, path: Path) -> int:
        self.con.execute(f"COPY ({sql}) TO {sql_literal(str(path))} (FORMAT parquet, COMPRESSION zstd)")
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows

    def _unregister(self, name: str) -> None:
        self.con.execute(f'DROP VIEW IF EXISTS "{name}"')

    @contextmanager
    def any_row_order(self) -> Iterator[None]:
        # Insertion order is kept by default (see _connect); letting it go saves work in scans,
        # aggregates and windows (about 6% of the detector catalogue's CPU).
        self.con.execute("SET preserve_insertion_order = false")
        try:
            yield
        finally:
            self.con.execute("SET preserve_insertion_order = true")

    def _cache(self, name: str, path: Path) -> bool:
        size = decoded_size(path)
        limit = self.con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        if size is None or sum(self._cache_sizes.values()) + size > CACHE_SHARE * parse_bytes(limit):
            return False
        self.con.execute(f'CREATE OR REPLACE TEMP TABLE "{name}" AS SELECT * FROM main."{name}"')
        self._cache_sizes[name] = size
        return True

    def _uncache(self, name: str) -> None:
        self._cache_sizes.pop(name, None)
        self.con.execute(f'DROP TABLE IF EXISTS temp."{name}"')

    def _define_view(self, name: str, sql: str) -> bool:
        self.con.execute(f'CREATE OR REPLACE TEMP VIEW "{name}" AS {sql}')
        self._views.add(name)
        return True

    def _materialize(self, name: str, sql: str) -> tuple[int, Path | None]:
        # A temporary table holds the decoded columns; DuckDB's buffer manager spills it to
        # temp_directory when it outgrows memory_limit, so any size still completes.
        try:
            self.con.execute(f'CREATE TEMP TABLE "{name}" AS {sql}')
        except Exception:
            self.con.execute(f'DROP TABLE IF EXISTS "{name}"')
            raise
        return self.con.execute(f'SELECT COUNT(*) FROM "{name}"').fetchall()[0][0], None

    def _release(self, name: str, held: Path | None) -> None:
        kind = "VIEW" if name in self._views else "TABLE"
        self._views.discard(name)
        self.con.execute(f'DROP {kind} IF EXISTS "{name}"')

    def close(self) -> None:
        con = getattr(self, "con", None)
        if con is not None:
            con.close()
            self.con = None
