"""Read-only access to a workspace's tables for the web server.

One DuckDB engine per process (opened through :func:`moneytrail.engine.make_engine`); each server
thread queries through its own cursor, because one DuckDB connection must not be used by two threads
at once. Expensive answers are cached until a table of the workspace changes.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from moneytrail.engine import make_engine
from moneytrail.engine.duckdb_engine import sql_literal
from moneytrail.errors import EngineError
from moneytrail.workspace import Workspace

# Transactions re-sorted by account so a lookup of one account reads a few row groups, not all.
LEGS_CACHE = "workbench_legs"
# Tables read in place from Parquet; every other table under MEMORY_ROWS rows is held in memory.
IN_PLACE = frozenset({"transactions", "legs"})
# Name of the per-request table holding the legs of the accounts a page asks about.
LEGS_SELECTION = "legs_selection"
MEMORY_ROWS = 5_000_000


def legs_sql(transactions: str = "transactions") -> str:
    """Each transaction twice, once from each account's side, sorted by account."""
    return f"""
        SELECT account_id, counterparty_id, direction, txn_id, ts, amount_cad, channel,
               country_src, country_dst
        FROM (
            SELECT src_account_id AS account_id, dst_account_id AS counterparty_id, 'out' AS direction,
                   txn_id, ts, COALESCE(amount_cad, amount) AS amount_cad, channel, country_src, country_dst
            FROM {transactions}
            UNION ALL
            SELECT dst_account_id AS account_id, src_account_id AS counterparty_id, 'in' AS direction,
                   txn_id, ts, COALESCE(amount_cad, amount) AS amount_cad, channel, country_src, country_dst
            FROM {transactions}
        ) AS legs
        ORDER BY account_id, ts, txn_id
    """


class Reader:
    """Runs the workbench's queries; ``open()`` registers the tables and builds the legs cache."""

    def __init__(self, workspace: Workspace, *, threads: int | None = None, cache_size: int = 512):
        self.workspace = workspace
        self.threads = threads
        self.cache_size = cache_size
        self._engine = None
        self._local = threading.local()
        self._cache: OrderedDict[tuple, Any] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._version: tuple = ()
        self._version_checked = 0.0
        self._open_lock = threading.Lock()
        self._memory: set[str] = set()
        self._legs: pa.Table | None = None
        self._offsets: dict[str, tuple[int, int]] = {}
        self._registered_legs = False

    # -- lifecycle -------------------------------------------------------------------------
    def open(self) -> Reader:
        options = {"threads": self.threads} if self.threads else {}
        self._engine = make_engine("duckdb", self.workspace, **options).open()
        self._prepare()
        return self

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None

    def _prepare(self) -> None:
        """Register tables (again) and build the sorted legs file when transactions changed."""
        eng = self._engine
        for name in self._memory:
            # a view cannot replace a table of the same name
            eng.query(f'DROP TABLE IF EXISTS "{name}"', label=f"table {name}")
        self._memory = set()
        eng.refresh()
        self._version = self._table_version()
        # Parse each Parquet footer once, not on every request.
        eng.query("SET parquet_metadata_cache = true", label="the reader settings")
        eng.query("SET enable_progress_bar = false", label="the reader settings")
        for name in eng.tables:
            if name in IN_PLACE or self.workspace.row_count(name) > MEMORY_ROWS:
                continue
            # Small tables (parties, accounts, scores, leads, hits) are copied into memory: a lookup
            # then costs microseconds instead of a Parquet decode.
            eng.query(f'DROP VIEW IF EXISTS "{name}"', label=f"table {name}")
            path = sql_literal(str(self.workspace.path(name)))
            eng.query(
                f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM read_parquet({path})',
                label=f"table {name}",
            )
            self._memory.add(name)
        if not eng.has_table("transactions"):
            return
        src = self.workspace.path("transactions")
        cache_dir = self.workspace.root / ".cache"
        cache_dir.mkdir(parents=True, exist_ok=True)
        st = src.stat()
        target = cache_dir / f"{LEGS_CACHE}-{st.st_size}-{int(st.st_mtime_ns)}.arrow"
        if not target.exists():
            for old in cache_dir.glob(f"{LEGS_CACHE}-*"):
                old.unlink(missing_ok=True)
            tmp = target.with_suffix(".tmp")
            try:
                batches = eng.con.sql(legs_sql()).to_arrow_reader(200_000)
            except Exception as e:  # name the step once, like Engine.query does
                raise EngineError(
                    f"Building the workbench's legs cache failed: {str(e).splitlines()[0]}"
                ) from e
            with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, batches.schema) as writer:
                for batch in batches:
                    writer.write_batch(batch)
            tmp.replace(target)
        # Memory-mapped and uncompressed: the pages of the accounts asked for are all that is read.
        self._legs = pa.ipc.open_file(pa.memory_map(str(target), "r")).read_all()
        self._offsets = _run_offsets(self._legs.column("account_id"))
        eng.register_arrow("legs", self._legs)
        self._registered_legs = True

    def legs_of(self, account_ids: list[str]) -> pa.Table:
        """The legs of the given accounts (a zero-copy slice of the sorted legs)."""
        parts = []
        for a in sorted(set(account_ids)):
            span = self._offsets.get(a)
            if span is not None:
                parts.append(self._legs.slice(span[0], span[1]))
        if not parts:
            return self._legs.slice(0, 0)
        return pa.concat_tables(parts)

    def _table_version(self) -> tuple:
        out = []
        for area in ("tables",):
            for name in self.workspace.names(area):
                p: Path = self.workspace.path(name, area)
                try:
                    out.append((name, p.stat().st_mtime_ns))
                except FileNotFoundError:
                    continue
        return tuple(out)

    def _maybe_refresh(self) -> None:
        # Another stage may rewrite tables while the server runs; look at most every 5 seconds.
        now = time.monotonic()
        if now - self._version_checked < 5:
            return
        self._version_checked = now
        version = self._table_version()
        if version != self._version:
            with self._open_lock:
                if version != self._version:
                    self._prepare()
                    self._local = threading.local()
                    with self._cache_lock:
                        self._cache.clear()

    # -- queries ---------------------------------------------------------------------------
    def has(self, name: str) -> bool:
        if name == "legs":
            return self._registered_legs
        return self._engine is not None and self._engine.has_table(name)

    def _cursor(self):
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._engine.con.cursor()
            self._local.cursor = cur
        return cur

    def query(self, sql: str, *, label: str = "query") -> pa.Table:
        """Run one query on this thread's cursor."""
        self._maybe_refresh()
        try:
            return self._cursor().sql(sql).to_arrow_table()
        except Exception as e:  # DuckDB's error types vary; name the query once here
            raise EngineError(
                f"The workbench query for {label} failed: {str(e).splitlines()[0]}", sql=sql
            ) from e

    def rows(self, sql: str, *, label: str = "query", legs_for: list[str] | None = None) -> list[dict]:
        """Rows of ``sql``; with ``legs_for``, the table ``legs_selection`` holds those accounts' legs."""
        if legs_for is None:
            return self.query(sql, label=label).to_pylist()
        self._maybe_refresh()
        cur = self._cursor()
        cur.register(LEGS_SELECTION, self.legs_of(legs_for))
        try:
            return self.query(sql, label=label).to_pylist()
        finally:
            cur.unregister(LEGS_SELECTION)

    def cached(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per key until the workspace's tables change (LRU-bounded)."""
        self._maybe_refresh()
        with self._cache_lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        value = compute()
        with self._cache_lock:
            self._cache[key] = value
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return value


def _run_offsets(column: pa.ChunkedArray) -> dict[str, tuple[int, int]]:
    """(first row, row count) of each value in a sorted column."""
    import numpy as np
    import pyarrow.compute as pc

    values = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    n = len(values)
    if n == 0:
        return {}
    change = pc.not_equal(values.slice(1), values.slice(0, n - 1)).to_numpy(zero_copy_only=False)
    starts = np.concatenate(([0], np.flatnonzero(change) + 1))
    ends = np.concatenate((starts[1:], [n]))
    keys = pc.take(values, pa.array(starts)).to_pylist()
    return {k: (int(s), int(e - s)) for k, s, e in zip(keys, starts, ends, strict=True) if k is not None}
