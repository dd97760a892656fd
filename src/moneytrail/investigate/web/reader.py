"""Read-only access to a workspace's tables for the web server.

One DuckDB engine per process (opened through :func:`moneytrail.engine.make_engine`); each server
thread queries through its own cursor, because one DuckDB connection must not be used by two threads
at once. Expensive answers are cached until a table of the workspace changes.

Pages about accounts need their transactions. They come from the *legs index* (:class:`LegsIndex`):
an uncompressed Arrow copy of the transactions, memory-mapped, with every transaction's two sides
(legs) sorted by account, so the legs of one account are found without a scan. The index lives in
the workspace's ``.cache`` folder, is built once per version of the transactions table, in the
background: the server answers at once, reading the Parquet file directly (slower) until the index
is ready.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from moneytrail.engine import make_engine
from moneytrail.engine.duckdb_engine import sql_literal
from moneytrail.errors import EngineError
from moneytrail.workspace import Workspace

log = logging.getLogger(__name__)

LEGS_CACHE = "workbench_legs"
# Bumped when the layout of the legs file changes, so an old file is rebuilt rather than misread.
LEGS_LAYOUT = 4
# The tables the workbench looks rows up in; those under MEMORY_ROWS rows are copied into memory.
MEMORY_TABLES = frozenset(
    {
        "parties",
        "accounts",
        "account_scores",
        "party_scores",
        "leads",
        "detector_hits",
        "resolved_entities",
        "links",
        "casino_sessions",
        "property_transfers",
    }
)
MEMORY_ROWS = 5_000_000
# Name of the per-request table holding the legs of the accounts a page asks about.
LEGS_SELECTION = "legs_selection"
# Columns of one leg: the account's side, then the transaction as the canonical table has it.
LEG_COLUMNS = (
    "account_id",
    "counterparty_id",
    "direction",
    "txn_id",
    "ts",
    "amount_cad",
    "channel",
    "country_src",
    "country_dst",
    "src_account_id",
    "dst_account_id",
    "amount",
    "currency",
    "cash_denomination",
    "memo",
    "source_id",
)

# The transactions' columns kept in the legs index; the low-cardinality ones dictionary-encoded.
TXN_COLUMNS = (
    "txn_id",
    "ts",
    "src_account_id",
    "dst_account_id",
    "amount",
    "currency",
    "amount_cad",
    "channel",
    "cash_denomination",
    "country_src",
    "country_dst",
    "memo",
    "source_id",
)
DICTIONARY_COLUMNS = ("currency", "channel", "country_src", "country_dst")
_TXN_TYPES = {
    "ts": pa.timestamp("us"),
    "amount": pa.float64(),
    "amount_cad": pa.float64(),
    "cash_denomination": pa.int64(),
}


def legs_sql(transactions: str = "transactions", account_ids: list[str] | None = None) -> str:
    """Each transaction twice, once from each account's side.

    Without ``account_ids``: all legs sorted by account (the index). With them: only those
    accounts' legs, in no particular order (the lookup used until the index is ready).
    """
    common = """txn_id, ts, COALESCE(amount_cad, amount) AS amount_cad, channel, country_src, country_dst,
                src_account_id, dst_account_id, amount, currency, cash_denomination, memo, source_id"""
    if account_ids is None:
        where_src = where_dst = ""
        order = "ORDER BY account_id, ts, txn_id"
    else:
        ids = "(" + ", ".join(sql_literal(a) for a in account_ids) + ")" if account_ids else "(NULL)"
        where_src, where_dst, order = f"WHERE src_account_id IN {ids}", f"WHERE dst_account_id IN {ids}", ""
    return f"""
        SELECT {", ".join(LEG_COLUMNS)}
        FROM (
            SELECT src_account_id AS account_id, dst_account_id AS counterparty_id, 'out' AS direction, {common}
            FROM {transactions} {where_src}
            UNION ALL
            SELECT dst_account_id AS account_id, src_account_id AS counterparty_id, 'in' AS direction, {common}
            FROM {transactions} {where_dst}
        ) AS legs
        {order}
    """


class Reader:
    """Runs the workbench's queries; ``open()`` registers the tables and starts the legs index."""

    def __init__(self, workspace: Workspace, *, threads: int | None = None, cache_size: int = 512):
        self.workspace = workspace
        self.threads = threads
        self.cache_size = cache_size
        self._engine = None
        self._local = threading.local()
        self._cache: OrderedDict[tuple, Any] = OrderedDict()
        self._pinned: dict[tuple, Any] = {}
        self._cache_lock = threading.Lock()
        self._version: tuple = ()
        self._version_checked = 0.0
        self._open_lock = threading.Lock()
        self._legs_lock = threading.Lock()
        self._memory: set[str] = set()
        self._lookups: dict[tuple[str, str], Lookup] = {}
        self._lookups_lock = threading.Lock()
        self._legs: LegsIndex | None = None
        self._has_transactions = False
        self._legs_target: Path | None = None
        self._legs_done = threading.Event()
        self.legs_error: str | None = None
        self.legs_seconds: float | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def open(self) -> Reader:
        options = {"threads": self.threads} if self.threads else {}
        self._engine = make_engine("duckdb", self.workspace, **options).open()
        self._prepare()
        return self

    def close(self) -> None:
        with self._legs_lock:
            self._legs_target = None  # a build still running will not install its result
        if self._engine is not None:
            self._engine.close()
            self._engine = None

    def wait_for_legs(self, timeout: float | None = None) -> bool:
        """Block until the legs index is in use (True) or ``timeout`` seconds passed (False)."""
        return self._legs_done.wait(timeout) and self._legs is not None

    @property
    def legs_ready(self) -> bool:
        return self._legs is not None

    def _prepare(self) -> None:
        """Register tables (again), copy the small ones into memory and open or start the legs index."""
        eng = self._engine
        for name in self._memory:
            # a view cannot replace a table of the same name
            eng.query(f'DROP TABLE IF EXISTS "{name}"', label=f"table {name}")
        self._memory = set()
        self._lookups = {}
        eng.refresh()
        self._version = self._table_version()
        # Parse each Parquet footer once, not on every request.
        eng.query("SET parquet_metadata_cache = true", label="the reader settings")
        eng.query("SET enable_progress_bar = false", label="the reader settings")
        for name in eng.tables:
            if name not in MEMORY_TABLES or self.workspace.row_count(name) > MEMORY_ROWS:
                continue
            # A lookup in memory costs microseconds instead of a Parquet decode.
            eng.query(f'DROP VIEW IF EXISTS "{name}"', label=f"table {name}")
            path = sql_literal(str(self.workspace.path(name)))
            eng.query(
                f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM read_parquet({path})',
                label=f"table {name}",
            )
            self._memory.add(name)
        self._has_transactions = eng.has_table("transactions")
        target = self._legs_path() if self._has_transactions else None
        with self._legs_lock:
            if target is not None and target == self._legs_target:
                return  # the same transactions: keep the index (or the build under way)
            self._legs_target, self._legs, self.legs_error = target, None, None
            self._legs_done = threading.Event()
            if target is None:
                self._legs_done.set()
                return
        if target.exists():
            try:
                self._install_legs(target)
                return
            except Exception as e:  # noqa: BLE001 - a damaged index is rebuilt
                log.warning("The legs index at %s cannot be read (%s); rebuilding it.", target, e)
                shutil.rmtree(target, ignore_errors=True)
        threading.Thread(
            target=self._build_legs, args=(target,), name="workbench-legs-index", daemon=True
        ).start()

    def _legs_path(self) -> Path:
        st = self.workspace.path("transactions").stat()
        name = f"{LEGS_CACHE}-v{LEGS_LAYOUT}-{st.st_size}-{int(st.st_mtime_ns)}"
        return self.workspace.root / ".cache" / name

    def _build_legs(self, target: Path) -> None:
        """Write the legs index, then start using it (runs on a thread of its own)."""
        t0 = time.perf_counter()
        try:
            LegsIndex.build(self.workspace.path("transactions"), target)
            for old in target.parent.glob(f"{LEGS_CACHE}-*"):
                if old != target and old.is_dir():
                    shutil.rmtree(old, ignore_errors=True)
            self._install_legs(target)
            self.legs_seconds = time.perf_counter() - t0
            log.info("The legs index is ready (%.1f s).", self.legs_seconds)
        except Exception as e:  # noqa: BLE001 - pages keep working from the Parquet file
            with self._legs_lock:
                if target == self._legs_target:
                    self.legs_error = f"Building the workbench's legs index failed: {str(e).splitlines()[0]}"
                    log.warning("%s", self.legs_error)
                    self._legs_done.set()

    def _install_legs(self, path: Path) -> None:
        index = LegsIndex.load(path)
        types = self._institution_types()
        index.types = sorted(set(types.values()) | {"other"})
        position = {t: i for i, t in enumerate(index.types)}
        other = position["other"]
        index.type_of = np.array(
            [position.get(types.get(k) or "other", other) for k in index.keys.to_pylist()], np.int16
        )
        with self._legs_lock:
            if path != self._legs_target:
                return
            self._legs = index
            self._legs_done.set()

    def legs_of(
        self,
        account_ids: list[str],
        columns: tuple[str, ...] = LEG_COLUMNS,
        txn_ids: list[str] | None = None,
    ) -> pa.Table:
        """The legs of the given accounts (:data:`LEG_COLUMNS`, or only ``columns``; only the
        transactions ``txn_ids`` when given): from the index, or a Parquet scan before it is ready."""
        index = self._legs
        if index is not None:
            return index.legs_of(account_ids, columns, txn_ids)
        legs = self._cursor().sql(legs_sql(account_ids=sorted(set(account_ids)))).to_arrow_table()
        if txn_ids is not None:
            legs = legs.filter(pc.is_in(legs.column("txn_id"), value_set=pa.array(txn_ids, pa.string())))
        return legs.select(list(columns))

    def transfers(self, account_ids: list[str]) -> Transfers:
        """The transactions touching the accounts, as arrays (for aggregating large networks)."""
        self._maybe_refresh()
        index = self._legs
        if index is not None:
            return index.transfers(account_ids)
        types = self.cached(("institution-types",), self._institution_types)
        return Transfers.from_legs(self.legs_of(account_ids), account_ids, types)

    def _institution_types(self) -> dict[str, str]:
        """Institution type of every account, read from the file (any thread, even mid-refresh)."""
        if not self.workspace.has("accounts"):
            return {}
        path = self.workspace.path("accounts")
        if "institution_type" not in pq.ParquetFile(path).schema_arrow.names:
            return {}
        t = pq.read_table(path, columns=["account_id", "institution_type"])
        t = t.filter(pc.is_valid(t.column("institution_type")))
        return dict(
            zip(t.column("account_id").to_pylist(), t.column("institution_type").to_pylist(), strict=True)
        )

    def lookup(self, table: str, column: str, keys: list[str]) -> list[dict]:
        """Rows of ``table`` whose ``column`` is one of ``keys``, from an in-memory index (no query).

        The index is built on first use and kept until the tables change; use it for the point
        lookups a page makes many of, where a query's fixed cost would dominate.
        """
        self._maybe_refresh()
        if not self.has(table):
            return []
        index = self._lookups.get((table, column))
        if index is None:
            with self._lookups_lock:
                index = self._lookups.get((table, column))
                if index is None:
                    data = self.query(f'SELECT * FROM "{table}"', label=f"table {table}")
                    index = Lookup(data, column)
                    self._lookups[(table, column)] = index
        return index.rows(keys)

    def _table_version(self) -> tuple:
        out = []
        for name in self.workspace.names("tables"):
            p: Path = self.workspace.path(name)
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
                        self._pinned.clear()

    # -- queries ---------------------------------------------------------------------------
    def has(self, name: str) -> bool:
        if name == "legs":
            return self._has_transactions
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
        try:
            selection = self.legs_of(legs_for)
        except Exception as e:  # noqa: BLE001 - DuckDB's error types vary
            raise EngineError(f"Reading the legs for {label} failed: {str(e).splitlines()[0]}") from e
        cur = self._cursor()
        cur.register(LEGS_SELECTION, selection)
        try:
            return self.query(sql, label=label).to_pylist()
        finally:
            cur.unregister(LEGS_SELECTION)

    def pin(self, key: tuple, value: Any) -> None:
        """Keep ``value`` as the answer for ``key`` until the tables change (never evicted)."""
        with self._cache_lock:
            self._pinned[key] = value

    def leg_count(self, account_ids: list[str]) -> int:
        """How many legs the accounts have (0 before the legs index is ready)."""
        index = self._legs
        if index is None:
            return 0
        codes = [index.codes[a] for a in set(account_ids) if a in index.codes]
        return int(sum(index.starts[c + 1] - index.starts[c] for c in codes))

    def cached(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per key until the workspace's tables change (LRU-bounded)."""
        self._maybe_refresh()
        with self._cache_lock:
            if key in self._pinned:
                return self._pinned[key]
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        value = compute()
        with self._cache_lock:
            self._cache[key] = value
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return value


class Lookup:
    """The rows of an Arrow table by the value of one column: sorted once, then sliced."""

    def __init__(self, table: pa.Table, column: str):
        if column not in table.column_names:  # an older table without the column: nothing matches
            table = table.slice(0, 0).append_column(column, pa.array([], pa.string()))
        values = table.column(column)
        order = pc.sort_indices(values)  # nulls last
        # One chunk: taking rows from many chunks would first concatenate them.
        self.table = table.combine_chunks()
        self.order = order.to_numpy()
        self.offsets = _run_offsets(values.take(order))

    def rows(self, keys: list[str]) -> list[dict]:
        spans = [self.offsets[k] for k in dict.fromkeys(keys) if k in self.offsets]
        if not spans:
            return []
        rows = np.concatenate([self.order[s : s + n] for s, n in spans])
        return self.table.take(pa.array(np.sort(rows))).to_pylist()


def _run_offsets(column: pa.ChunkedArray) -> dict[str, tuple[int, int]]:
    """(first row, row count) of each value in a sorted column (nulls last, left out)."""
    values = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    values = values.slice(0, len(values) - values.null_count)  # sorted with the nulls last
    n = len(values)
    if n == 0:
        return {}
    change = pc.not_equal(values.slice(1), values.slice(0, n - 1)).to_numpy(zero_copy_only=False)
    starts = np.concatenate(([0], np.flatnonzero(change) + 1))
    ends = np.concatenate((starts[1:], [n]))
    keys = pc.take(values, pa.array(starts)).to_pylist()
    return {k: (int(s), int(e - s)) for k, s, e in zip(keys, starts, ends, strict=True) if k is not None}


@dataclass
class Transfers:
    """Transactions as arrays, accounts as codes into ``keys`` (sorted), channels into ``channels``."""

    keys: pa.Array
    src: np.ndarray
    dst: np.ndarray
    value: np.ndarray
    ts: np.ndarray
    channel: np.ndarray
    channels: list[str]
    types: list[str]
    type_of: np.ndarray
    codes: dict[str, int]

    @classmethod
    def from_legs(cls, legs: pa.Table, account_ids: list[str], types: dict[str, str]) -> Transfers:
        """From a table of legs (:data:`LEG_COLUMNS`) of the accounts ``account_ids``."""
        members = pa.array(sorted(set(account_ids)), pa.string())
        out = pc.equal(legs.column("direction"), "out")
        keep = pc.or_(out, pc.invert(pc.is_in(legs.column("counterparty_id"), value_set=members)))
        legs = legs.filter(keep)
        src, dst = legs.column("src_account_id"), legs.column("dst_account_id")
        keys = pc.unique(pa.chunked_array([*src.chunks, *dst.chunks], pa.string()).combine_chunks())
        keys = keys.filter(pc.is_valid(keys))
        keys = pc.take(keys, pc.sort_indices(keys))
        channel = pc.fill_null(legs.column("channel").cast(pa.string()), "").combine_chunks()
        channel = channel.dictionary_encode()
        names = sorted(set(types.values()) | {"other"})
        type_of = np.array([names.index(types.get(k) or "other") for k in keys.to_pylist()], np.int16)
        return cls(
            keys=keys,
            src=pc.fill_null(pc.index_in(src, value_set=keys), -1).to_numpy().astype(np.int64),
            dst=pc.fill_null(pc.index_in(dst, value_set=keys), -1).to_numpy().astype(np.int64),
            value=pc.fill_null(legs.column("amount_cad"), 0.0).to_numpy(),
            ts=legs.column("ts").to_numpy(),
            channel=channel.indices.to_numpy().astype(np.int16),
            channels=channel.dictionary.to_pylist(),
            types=names,
            type_of=type_of,
            codes={k: i for i, k in enumerate(keys.to_pylist())},
        )


class LegsIndex:
    """The legs of every account without a scan: transactions in an Arrow file plus a sort order.

    On disk (one folder per version of the transactions table): ``transactions.arrow`` holds the
    transactions uncompressed, with the two account ids replaced by codes into ``accounts.arrow``
    (the sorted account ids and how many legs each has); ``order.npy`` lists the legs sorted by
    account, leg ``i < n`` being transaction ``i`` seen from its payer and ``n + i`` from its payee.
    """

    def __init__(self, txns: pa.Table, keys: pa.Array, counts: np.ndarray, order: np.ndarray):
        self.txns = txns
        self.keys = keys
        self.n = txns.num_rows
        self.order = order
        self.starts = np.concatenate(([0], np.cumsum(counts)))
        self.codes = {k: i for i, k in enumerate(keys.to_pylist())}
        # Zero-copy views of the memory-mapped columns the network view aggregates.
        self.src = _numpy(txns.column("src_code"))
        self.dst = _numpy(txns.column("dst_code"))
        self.value = _numpy(txns.column("value_cad"))
        self.ts = _numpy(txns.column("ts"))
        channel = txns.column("channel").combine_chunks()
        self.channels: list[str] = channel.dictionary.to_pylist()
        self.channel = pc.fill_null(channel.indices, -1).to_numpy().astype(np.int16)
        # Institution type of every account (a code into ``types``), set by the reader.
        self.types: list[str] = []
        self.type_of = np.zeros(len(keys), np.int16)

    def transfers(self, account_ids: list[str]) -> Transfers:
        """Every transaction touching the accounts, once (a transfer between two of them counts once)."""
        members = np.array(sorted({self.codes[a] for a in account_ids if a in self.codes}), np.int64)
        spans = [self.order[self.starts[c] : self.starts[c + 1]] for c in members]
        legs = np.concatenate(spans).astype(np.int64) if spans else np.zeros(0, np.int64)
        incoming = legs >= self.n
        rows = np.where(incoming, legs - self.n, legs)
        is_member = np.zeros(len(self.keys), bool)
        is_member[members] = True
        # A transfer between two members is kept once, from its payer's side.
        rows = rows[~incoming | ~is_member[np.where(incoming, self.src[rows], 0)]]
        return Transfers(
            keys=self.keys,
            src=self.src[rows].astype(np.int64),
            dst=self.dst[rows].astype(np.int64),
            value=self.value[rows],
            ts=self.ts[rows],
            channel=self.channel[rows],
            channels=self.channels,
            types=self.types,
            type_of=self.type_of,
            codes=self.codes,
        )

    @staticmethod
    def build(transactions: Path, target: Path) -> None:
        """Write the index of the Parquet file ``transactions`` to the folder ``target``."""
        pf = pq.ParquetFile(transactions)
        present = set(pf.schema_arrow.names)
        columns = [c for c in TXN_COLUMNS if c in present]
        dictionary = [c for c in (*DICTIONARY_COLUMNS, "src_account_id", "dst_account_id") if c in present]
        txns = pq.read_table(transactions, columns=columns, read_dictionary=dictionary).unify_dictionaries()
        for c in TXN_COLUMNS:
            if c not in present:
                txns = txns.append_column(c, pa.nulls(txns.num_rows, _TXN_TYPES.get(c, pa.string())))
        for c in DICTIONARY_COLUMNS:
            if not pa.types.is_dictionary(txns.schema.field(c).type):
                i = txns.schema.get_field_index(c)
                txns = txns.set_column(i, c, txns.column(c).dictionary_encode()).unify_dictionaries()
        src, dst = txns.column("src_account_id"), txns.column("dst_account_id")
        dicts = [ch.dictionary for col in (src, dst) for ch in col.chunks]
        keys = pc.unique(pa.concat_arrays(dicts)) if dicts else pa.array([], pa.string())
        keys = keys.filter(pc.is_valid(keys))
        keys = pc.take(keys, pc.sort_indices(keys))

        def codes(col: pa.ChunkedArray) -> np.ndarray:
            # -1 for an empty account id
            parts = [
                pc.fill_null(
                    pc.take(pc.fill_null(pc.index_in(ch.dictionary, value_set=keys), -1), ch.indices), -1
                )
                .to_numpy()
                .astype(np.int32)
                for ch in col.chunks
            ]
            return np.concatenate(parts) if parts else np.zeros(0, np.int32)

        src_codes, dst_codes = codes(src), codes(dst)
        txns = txns.drop_columns(["src_account_id", "dst_account_id"])
        # The amount every page sums: in CAD, else as written.
        value = pc.fill_null(pc.coalesce(txns.column("amount_cad"), txns.column("amount")), 0.0)
        txns = txns.append_column("value_cad", value)
        txns = txns.append_column("src_code", pa.array(src_codes)).append_column(
            "dst_code", pa.array(dst_codes)
        )
        both = np.concatenate((src_codes, dst_codes))
        valid = both >= 0
        index_type = np.int32 if len(both) < 2**31 else np.int64
        order = np.flatnonzero(valid)[np.argsort(both[valid], kind="stable")].astype(index_type)
        counts = np.bincount(both[valid], minlength=len(keys))

        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        tmp.mkdir(parents=True)
        try:
            _write_arrow(tmp / "transactions.arrow", txns)
            _write_arrow(
                tmp / "accounts.arrow", pa.table({"account_id": keys, "legs": pa.array(counts, pa.int64())})
            )
            np.save(tmp / "order.npy", order)
            tmp.replace(target)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> LegsIndex:
        txns = pa.ipc.open_file(pa.memory_map(str(folder / "transactions.arrow"), "r")).read_all()
        accounts = pa.ipc.open_file(pa.memory_map(str(folder / "accounts.arrow"), "r")).read_all()
        order = np.load(folder / "order.npy", mmap_mode="r")
        keys = accounts.column("account_id").combine_chunks()
        return cls(txns, keys, accounts.column("legs").to_numpy(), order)

    def legs_of(
        self,
        account_ids: list[str],
        columns: tuple[str, ...] = LEG_COLUMNS,
        txn_ids: list[str] | None = None,
    ) -> pa.Table:
        """The legs of the given accounts (only ``columns``; only ``txn_ids`` when given)."""
        spans = []
        for a in sorted(set(account_ids)):
            c = self.codes.get(a)
            if c is not None:
                spans.append(self.order[self.starts[c] : self.starts[c + 1]])
        legs = np.concatenate(spans).astype(np.int64) if spans else np.zeros(0, np.int64)
        incoming = legs >= self.n
        rows = np.where(incoming, legs - self.n, legs)
        if txn_ids is not None:
            wanted = pc.is_in(
                self.txns.column("txn_id").take(pa.array(rows)), value_set=pa.array(txn_ids, pa.string())
            )
            keep = np.asarray(wanted.to_numpy(zero_copy_only=False), bool)
            incoming, rows = incoming[keep], rows[keep]
        src, dst = self.src[rows], self.dst[rows]
        take = pa.array(rows)
        made = {
            "account_id": lambda: self._ids(np.where(incoming, dst, src)),
            "counterparty_id": lambda: self._ids(np.where(incoming, src, dst)),
            "direction": lambda: pc.if_else(pa.array(incoming), "in", "out"),
            "amount_cad": lambda: pa.array(self.value[rows]),
            "src_account_id": lambda: self._ids(src),
            "dst_account_id": lambda: self._ids(dst),
        }
        return pa.table({c: made[c]() if c in made else self.txns.column(c).take(take) for c in columns})

    def _ids(self, codes: np.ndarray) -> pa.Array:
        return self.keys.take(pa.array(codes, pa.int32(), mask=codes < 0))


def _numpy(column: pa.ChunkedArray) -> np.ndarray:
    return column.combine_chunks().to_numpy(zero_copy_only=False)


def _write_arrow(path: Path, table: pa.Table) -> None:
    # One record batch: taking rows from a table of many chunks would first concatenate them.
    table = table.combine_chunks()
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table, max_chunksize=max(1, table.num_rows))
