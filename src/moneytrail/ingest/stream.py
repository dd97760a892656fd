"""The single pass: a table validated while DuckDB reads its file, and written as the rows arrive.

The general route (see :mod:`moneytrail.ingest.pipeline`) stages every row in a DuckDB table and
writes the tables from there. A table that needs nothing from other rows skips the staging when

- one positional mapping fills it (a plain projection of one CSV file, read in parallel);
- the workspace does not have the table yet, so nothing is merged;
- no placeholder can land in it (no loaded table refers to it);
- every derived mapping that reads its loaded rows is a plain projection of them (labels kept
  aside from the same file, no join) into a table the workspace does not have either.

One query then reads the file, converts and checks every value and gives a bad row its reason
(the validation SQL of the general route), and pyarrow writes the valid rows from DuckDB's Arrow
batches while DuckDB reads on. Columns with one value on every row are not read from DuckDB
(:class:`Constants`), nor a column with the same text as another (``Mapping.copies``), and columns
whose values share a prefix (``Mapping.prefixes``) come without it, which Arrow adds to each batch's
valid rows. The derived tables come from the same batches: a projection of the loaded
rows' own columns (:class:`LoadedProjection`) takes them as they are, any other derived mapping
runs its query on each batch. A record's line is its position + 2 in a CSV file, + 1 in a Parquet file (DuckDB keeps file order); the
rare bad rows are kept for the quarantine.

The work overlaps: DuckDB reads up to ``READ_AHEAD`` ahead on its threads, this thread splits
each batch, each output file is encoded on a thread of its own and the derived queries run on
another (:class:`~moneytrail.ingest.parquet.Lane`: in order, a bounded queue). Arrays
are built from buffers and Arrow compute functions, never from Python values, which would make
pyarrow import pandas.

Keys that strictly increase in file order (most exports number their rows) are distinct, which
:class:`KeyOrder` checks batch by batch; only when they do not is the written file read back
to compare 64-bit hashes of its keys (no column of a batch is kept past its write: an array
imported from DuckDB holds the memory of its whole batch). The pass gives up (:class:`GiveUp`), and the pipeline
stages the table the general way, when two of those hashes are equal (the general route tells a
duplicate from a hash collision), when more than ``MAX_BAD_ROWS`` rows fail or when a
projection's row lacks a required value. The pipeline also falls back when the CSV reader
rejected lines, since positions are then no longer lines.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from moneytrail.ingest.formats import Mapping
from moneytrail.ingest.parquet import BATCH_ROWS, BatchWriter, Lane, statistics_columns
from moneytrail.ingest.sources import ident, sql_literal
from moneytrail.ingest.validate import absent_columns, checks_sql, mapping_stage_sql, typed_sql
from moneytrail.schema import table
from moneytrail.workspace import Workspace

# Past this many bad rows (each holding up to 10,000 characters of raw text) the single pass stops
# holding them in memory and the table is staged instead.
MAX_BAD_ROWS = 10_000
# Physical operators that hand every row on, in the order they get it: all the file's query may
# have, since a record's line is its position. Anything else (a hash join, which DuckDB also makes
# of an ``IN (...)`` list, an aggregate, a window) may reorder rows.
IN_FILE_ORDER = frozenset({"READ_CSV", "READ_PARQUET", "PROJECTION"})
# A derived mapping's rows carry their lines, so it may drop rows, not reorder them.
IN_BATCH_ORDER = frozenset({"PYTHON_ARROW_SCAN", "ARROW_SCAN", "PROJECTION", "FILTER"})
# What DuckDB may read ahead of the batches being validated and written.
READ_AHEAD = "256MB"
BAD_SCHEMA = pa.schema([("_line", pa.int64()), ("_raw", pa.string()), ("_reason", pa.string())])


class GiveUp(Exception):
    """The single pass cannot give exact results for this input; nothing it wrote is kept."""


@dataclass
class Streamed:
    """A table written by the single pass: its file beside the table's, and its counts."""

    table: str
    path: Path
    # The input file the table's rows come from.
    file: str
    read: int = 0
    loaded: int = 0
    bad: list[pa.RecordBatch] = field(default_factory=list)
    # Columns whose distinct values among the loaded rows the pass gathered (see DistinctValues):
    # a table of the column and ``source``, one row per distinct pair.
    distinct: dict[str, pa.Table] = field(default_factory=dict)
    _flush: threading.Thread | None = field(default=None, repr=False)

    @property
    def area(self) -> str:
        return table(self.table).area

    def flush_in_background(self) -> None:
        """Start syncing the written file to disk on a thread, while the run goes on.

        :meth:`commit` syncs it again (as every atomic write does), which then finds little
        left to do.
        """
        self._flush = threading.Thread(target=_fsync, args=(self.path,), daemon=True)
        self._flush.start()

    def _wait(self) -> None:
        if self._flush is not None:
            self._flush.join()
            self._flush = None

    def bad_rows(self) -> pa.Table:
        """The rows that failed validation: ``_line, _raw, _reason`` (all from ``file``)."""
        return pa.Table.from_batches(self.bad, BAD_SCHEMA)

    def commit(self, ws: Workspace) -> None:
        """Make the written file the workspace's table (atomically)."""
        self._wait()
        with ws.writing(self.table, self.area) as tmp:
            os.replace(self.path, tmp)

    def discard(self) -> None:
        self._wait()
        self.path.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    # Errors are left to the sync of the commit, which reports them.
    with contextlib.suppress(OSError), open(path, "rb") as fh:
        os.fsync(fh.fileno())


def reads_only(derived: Mapping, name: str) -> bool:
    """Whether the derived mapping reads the loaded rows of table ``name`` and nothing else."""
    relations = set(re.findall(r"\b(?:new|src|stage)_\w+", derived.sql))
    return relations == {f"new_{name}"}


def stream(
    con, ws: Workspace, m: Mapping, derived: list[Mapping], distinct: list[str] | None = None
) -> dict[str, Streamed]:
    """Write ``m``'s table and the ``derived`` tables in one pass over ``m``'s file.

    Returns the written tables by name (files beside the workspace's tables, not yet committed).
    The distinct values of ``m``'s columns ``distinct`` among the loaded rows come with its table
    (``Streamed.distinct``) when its ``source`` is one value on every row.
    Raises :class:`GiveUp` when the pass cannot be exact, and DuckDB's error when the file cannot
    be read; either way nothing written is kept.
    """
    outs = {m.table: Streamed(m.table, _aside(ws, m.table), str(m.source.path))}
    outs.update({d.table: Streamed(d.table, _aside(ws, d.table), str(d.source.path)) for d in derived})
    # Made by _run, which knows each table's constant columns.
    writers: dict[str, BatchWriter] = {}
    cur = con.cursor()
    try:
        check_keys = _run(con, cur, m, derived, outs, writers, distinct or [])
        for t, w in writers.items():
            outs[t].loaded = w.close()
        if check_keys:
            _check_distinct(cur, outs[m.table], table(m.table).key)
        for out in outs.values():
            out.flush_in_background()
        return outs
    except BaseException:
        for w in writers.values():
            w.abort()
        for out in outs.values():
            out.discard()
        raise
    finally:
        cur.close()


def _schema(name: str) -> pa.Schema:
    """The table's declared Arrow types, every column nullable (as DuckDB gives them)."""
    return pa.schema([pa.field(c.name, c.arrow_type) for c in table(name).columns])


def _aside(ws: Workspace, name: str) -> Path:
    """A hidden file beside the table (readers ignore it), so that committing it is a rename."""
    target = ws.path(name, table(name).area)
    target.parent.mkdir(parents=True, exist_ok=True)
    return target.with_name(f".{name}.{uuid.uuid4().hex}.tmp")


def _columns_sql(names: list[str]) -> str:
    return ", ".join(ident(c) for c in names)


def _output_types(con, sql: str) -> tuple[list[str], list[pa.DataType]]:
    """The names and Arrow types of ``sql``'s columns, without running it."""
    schema = con.sql(f"SELECT * FROM ({sql}) LIMIT 0").to_arrow_table().schema
    return schema.names, schema.types


def _positions(first: int, count: int) -> pa.Array:
    """The int64 array ``first, first + 1, ...`` (``count`` values)."""
    # From numpy's buffer: pa.array() would import pandas to check what it was given.
    values = np.arange(first, first + count, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), count, [None, pa.py_buffer(values)])


def _split(batch: pa.RecordBatch, lines: pa.Array) -> tuple[pa.RecordBatch, pa.Array, pa.RecordBatch | None]:
    """(valid rows, their lines, bad rows as ``_line, _raw, _reason`` or None)."""
    reason = batch.column("_reason")
    if reason.null_count == batch.num_rows:
        return batch, lines, None
    bad = reason.is_valid()
    rows = pa.RecordBatch.from_arrays(
        [lines.filter(bad), batch.column("_raw").filter(bad), reason.filter(bad)], schema=BAD_SCHEMA
    )
    good = pc.invert(bad)
    return batch.filter(good), lines.filter(good), rows


def with_copies(batch: pa.RecordBatch, copies: dict[str, str]) -> pa.RecordBatch:
    """The batch with a column ``name`` that is column ``copies[name]``, for each of ``copies``."""
    if not copies:
        return batch
    arrays = [*batch.columns, *(batch.column(other) for other in copies.values())]
    return pa.RecordBatch.from_arrays(arrays, names=[*batch.schema.names, *copies])


def with_prefixes(batch: pa.RecordBatch, prefixes: dict[str, str]) -> pa.RecordBatch:
    """The batch with each column of ``prefixes`` starting with its prefix (nulls stay null)."""
    if not prefixes:
        return batch
    arrays = [
        pc.binary_replace_slice(col, 0, 0, prefixes[name]) if name in prefixes else col
        for name, col in zip(batch.schema.names, batch.columns, strict=True)
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=batch.schema)


def _write(
    out: Streamed,
    writer: BatchWriter,
    batch: pa.RecordBatch,
    lines: pa.Array,
    constants: Constants | None = None,
    prefixes: dict[str, str] | None = None,
    copies: dict[str, str] | None = None,
):
    """Count and split one batch, write its valid rows; return them with their lines.

    The valid rows returned have every column: the batch's and their ``copies``, with their
    ``prefixes``, and the ``constants``.
    """
    out.read += batch.num_rows
    good, good_lines, bad = _split(batch, lines)
    good = with_prefixes(with_copies(good, copies or {}), prefixes or {})
    if constants is not None:
        good = constants.add_to(good)
    if bad is not None:
        out.bad.append(bad)
        if sum(b.num_rows for b in out.bad) > MAX_BAD_ROWS:
            raise GiveUp(f"more than {MAX_BAD_ROWS:,} rows of {out.table} failed validation")
    # The declared schema: a column DuckDB typed differently fails here, not in a reader later.
    writer.write(
        pa.RecordBatch.from_arrays([good.column(c) for c in writer.schema.names], schema=writer.schema)
    )
    return good, good_lines


class KeyOrder:
    """Whether keys seen so far, in order, strictly increase (shorter first, then bytewise).

    Strictly increasing keys are distinct, which settles the duplicate check without grouping
    the keys; ids numbered in file order (most exports) pass.
    """

    def __init__(self):
        self.ok = True
        self._last: bytes | None = None

    def add(self, keys: pa.Array) -> None:
        if not self.ok or not len(keys):
            return
        if keys.null_count:
            self.ok = False
            return
        first = keys[0].as_py().encode()
        if self._last is not None and (len(self._last), self._last) >= (len(first), first):
            self.ok = False
            return
        lengths = pc.binary_length(keys)
        a, b, la, lb = keys[:-1], keys[1:], lengths[:-1], lengths[1:]
        if len(a):
            up = pc.or_(pc.less(la, lb), pc.and_(pc.equal(la, lb), pc.less(a, b)))
            self.ok = pc.all(up).as_py()
        self._last = keys[-1].as_py().encode()


def plan_operators(con, sql: str) -> set[str]:
    """The names of the operators in ``sql``'s physical plan (``HASH_JOIN``, ``PROJECTION``, ...)."""
    plan = json.loads(con.execute(f"EXPLAIN (FORMAT json) {sql}").fetchall()[0][1])
    found: set[str] = set()
    nodes = list(plan)
    while nodes:
        node = nodes.pop()
        found.add(node["name"])
        nodes.extend(node.get("children", []))
    return found


def _check_order(con, sql: str, what: str, allowed: frozenset[str]) -> None:
    """Give up unless every operator of the query keeps its rows in order (see ``IN_FILE_ORDER``)."""
    odd = sorted(plan_operators(con, sql) - allowed)
    if odd:
        raise GiveUp(f"the query of {what} has {', '.join(odd)}, which may not keep the rows' order")


class Constants:
    """Columns with the same value on every row, added to each batch rather than read from DuckDB.

    DuckDB would hand such a column over value by value; here one array per column is made
    once and each batch gets a zero-copy slice of it. The columns are a mapping's literals (when
    they pass their checks) and the table columns it leaves empty.
    """

    def __init__(self, values: dict[str, pa.Scalar]):
        self.values = values
        self._arrays: dict[str, pa.Array] = {}

    @classmethod
    def of(cls, con, name: str, literals: dict[str, str], present: list[str]) -> Constants:
        """The constant columns of table ``name`` for a mapping with ``literals`` and ``present``."""
        values = {}
        absent = {c.name for c in absent_columns(table(name), present)}
        for col in table(name).columns:
            if col.name in literals:
                value = _literal(con, col, literals[col.name])
                if value is not None:
                    values[col.name] = value
            elif col.name in absent:
                values[col.name] = pa.nulls(1, col.arrow_type)[0]
        return cls(values)

    def array(self, name: str, rows: int) -> pa.Array:
        """Column ``name`` for ``rows`` rows."""
        values = self._arrays.get(name)
        if values is None or len(values) < rows:
            values = self._arrays[name] = pa.repeat(self.values[name], max(rows, BATCH_ROWS))
        return values.slice(0, rows)

    def add_to(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """The batch with the constant columns added (after its own)."""
        if not self.values:
            return batch
        arrays = [*batch.columns, *(self.array(c, batch.num_rows) for c in self.values)]
        return pa.RecordBatch.from_arrays(arrays, names=[*batch.schema.names, *self.values])


class DistinctValues:
    """The distinct values of some columns of the loaded rows, gathered batch by batch.

    For a table whose ``source`` is one value on every row: its distinct (value, source) pairs,
    which the placeholder query needs, are then the distinct values. Each batch's are merged
    every ``MERGE_EVERY`` batches, so memory stays within the distinct values.
    """

    MERGE_EVERY = 16

    def __init__(self, columns: list[str], source: pa.Scalar, types: dict[str, pa.DataType]):
        self.source = source
        self.types = {c: types[c] for c in columns}
        self._parts: dict[str, list[pa.Array]] = {c: [] for c in columns}

    def add(self, loaded: pa.RecordBatch) -> None:
        for name, parts in self._parts.items():
            parts.append(pc.unique(loaded.column(name)))
            if len(parts) >= self.MERGE_EVERY:
                parts[:] = [self._merged(name)]

    def _merged(self, name: str) -> pa.Array:
        return pc.unique(pa.chunked_array(self._parts[name], type=self.types[name]))

    def tables(self) -> dict[str, pa.Table]:
        """Per column, a table of its distinct values and ``source``."""
        out = {}
        for name in self._parts:
            values = self._merged(name)
            source = pa.repeat(self.source, len(values))
            out[name] = pa.Table.from_arrays([values, source], names=[name, "source"])
        return out


class LoadedProjection:
    """A derived table taken from each batch of loaded rows as it is (see ``Mapping.passthrough``).

    Built only when every row it gives is valid without looking at it, apart from required
    columns, which :meth:`batch` checks (a row missing one makes the pass give up, and the staged
    route quarantines it with its reason): the loaded column's type is the table column's, no
    other rule applies to it, and the literals pass their checks.
    """

    def __init__(self, name: str, passthrough: dict[str, str], constants: Constants, required: list[str]):
        self.table = name
        self.schema = _schema(name)
        self._passthrough = passthrough
        self.constants = constants
        self._required = required

    @classmethod
    def of(cls, con, d: Mapping, types: dict[str, pa.DataType]) -> LoadedProjection | None:
        """The projection for derived mapping ``d`` over loaded rows of ``types``, or None."""
        if not d.passthrough:
            return None
        constants = Constants.of(con, d.table, d.literals, d.present)
        required = []
        for col in table(d.table).columns:
            loaded = d.passthrough.get(col.name)
            if loaded is not None:
                if types.get(loaded) != col.arrow_type or col.values or col.currency or col.amount:
                    return None
                if col.required:
                    required.append(loaded)
            elif col.name not in constants.values or (
                col.required and not constants.values[col.name].is_valid
            ):
                # A literal that fails its checks, or a required column left empty.
                return None
        return cls(d.table, d.passthrough, constants, required)

    def batch(self, loaded: pa.RecordBatch) -> pa.RecordBatch:
        """The derived rows of one batch of loaded rows."""
        for name in self._required:
            values = loaded.column(name)
            # Lengths, not a comparison with "": a Python value would make pyarrow import pandas.
            empty = pa.types.is_string(values.type) and pc.min(pc.binary_length(values)).as_py() == 0
            if values.null_count or empty:
                raise GiveUp(f"some rows of {self.table} lack a required value")
        n = loaded.num_rows
        arrays = [
            loaded.column(self._passthrough[c]) if c in self._passthrough else self.constants.array(c, n)
            for c in self.schema.names
        ]
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)


def _literal(con, col, literal: str) -> pa.Scalar | None:
    """The typed value of a column's literal, or None when the literal fails the column's checks."""
    checks = " ".join(f"WHEN {cond} THEN {reason}" for cond, reason in checks_sql(col, literal, col.name))
    reason = f"CASE {checks} END" if checks else "NULL"
    result = con.sql(f"SELECT {typed_sql(col, literal)} AS v, {reason} AS r").to_arrow_table()
    if result.column("r")[0].is_valid:
        return None
    return result.column("v")[0].cast(col.arrow_type)


def _copies(tab, m: Mapping, read: list[str]) -> dict[str, str]:
    """``m.copies`` that the pass can take from another column it reads (plain text both)."""

    def plain(name: str) -> bool:
        if name not in tab.column_names:
            return False
        col = tab.column(name)
        return col.type == "string" and not col.currency

    return {
        c: o
        for c, o in m.copies.items()
        if c in read and o in read and o not in m.copies and plain(c) and plain(o)
    }


def _check_distinct(cur, out: Streamed, key: str) -> None:
    """Give up when 64-bit hashes of two keys in the written file are equal."""
    keys = f"SELECT hash({ident(key)}) AS h FROM read_parquet({sql_literal(str(out.path))})"
    repeated = cur.execute(f"SELECT count(*) FROM ({keys} GROUP BY h HAVING count(*) > 1)").fetchone()[0]
    if repeated:
        raise GiveUp(f"some {key} values of {out.table} may repeat")


def _writer(out: Streamed, constants: Constants | None = None) -> BatchWriter:
    """The background writer of a table's file; ``constants`` are its batches' constant columns."""
    return BatchWriter(
        out.path,
        _schema(out.table),
        background=True,
        statistics=statistics_columns(out.table),
        constants=constants.values if constants is not None else None,
    )


def _run(con, cur, m: Mapping, derived: list[Mapping], outs, writers, distinct: list[str]) -> bool:
    """Read, validate and write; return whether the written keys still need a duplicate check.

    Fills ``writers`` with a writer per table of ``outs``.
    """
    tab = table(m.table)
    names = tab.column_names
    file = str(m.source.path)
    key = tab.key if tab.key and not m.unique_keys else None
    # The prefixes are added to the batches (with_prefixes), not by DuckDB.
    stage = mapping_stage_sql(m, add_prefixes=False)
    cols = [*names, *m.extras]
    types = dict(zip(*_output_types(con, f"SELECT {_columns_sql(cols)} FROM ({stage})"), strict=True))
    constants = Constants.of(con, m.table, m.literals, m.present)
    copies = _copies(tab, m, [c for c in cols if c not in constants.values])
    queried = [c for c in cols if c not in constants.values and c not in copies]
    sql = f"SELECT {_columns_sql(queried)}, _reason, _raw FROM ({stage})"
    projections = [p for p in (LoadedProjection.of(con, d, types) for d in derived) if p is not None]
    derived = [d for d in derived if d.table not in {p.table for p in projections}]
    writers[m.table] = _writer(outs[m.table], constants)
    writers.update({p.table: _writer(outs[p.table], p.constants) for p in projections})
    writers.update({d.table: _writer(outs[d.table]) for d in derived})
    derived_sql = {}
    for d in derived:
        dtab = table(d.table)
        dstage = mapping_stage_sql(d)
        derived_sql[d.table] = (
            f"SELECT {_columns_sql(dtab.column_names)}, _line, _reason, _raw FROM ({dstage})"
        )
    _check_order(con, sql, m.table, IN_FILE_ORDER)
    if derived:
        # The derived mappings read each batch's loaded rows under the name of the loaded table.
        fields = [pa.field(c, t) for c, t in types.items() if c in cols]
        empty = pa.schema([*fields, pa.field("_line", pa.int64())])
        cur.register("_loaded_rows", pa.Table.from_arrays([pa.nulls(0, f.type) for f in empty], schema=empty))
        cur.execute(
            f"CREATE OR REPLACE TEMP VIEW new_{m.table} AS "
            f"SELECT *, {sql_literal(file)} AS _file FROM _loaded_rows"
        )
        for d in derived:
            _check_order(cur, derived_sql[d.table], d.table, IN_BATCH_ORDER)

    def derive(good: pa.RecordBatch, good_lines: pa.Array) -> None:
        loaded = pa.Table.from_arrays([*(good.column(c) for c in cols), good_lines], names=[*cols, "_line"])
        cur.register("_loaded_rows", loaded)
        for d in derived:
            result = cur.sql(derived_sql[d.table]).to_arrow_table().combine_chunks()
            for part in result.to_batches():
                _write(outs[d.table], writers[d.table], part, part.column("_line"))

    # DuckDB refuses to stream a query while a result of execute() is unfinished; finish it.
    con.complete()
    # DuckDB reads ahead while this thread and the writers' threads work on earlier batches.
    con.execute(f"SET streaming_buffer_size = '{READ_AHEAD}'")
    reader = con.sql(sql).to_arrow_reader(BATCH_ROWS)
    increasing = KeyOrder() if key else None
    main = outs[m.table]
    source = constants.values.get("source")
    gather = None
    if distinct and source is not None and source.is_valid:
        gather = DistinctValues(distinct, source, types)
    # A CSV record's line is its position + 2 (the header is line 1); a Parquet row's is its
    # position + 1, as in the scan's ``_line``.
    first_line = 1 if m.source.is_parquet else 2
    # The derived tables are computed on a thread of their own, batch after batch in order.
    lane = Lane("derived") if derived else None
    try:
        # Closing the reader ends the scan when the pass gives up halfway.
        with reader:
            for batch in reader:
                lines = _positions(main.read + first_line, batch.num_rows)
                good, good_lines = _write(main, writers[m.table], batch, lines, constants, m.prefixes, copies)
                if key:
                    increasing.add(good.column(key))
                if gather is not None:
                    gather.add(good)
                for p in projections:
                    outs[p.table].read += good.num_rows
                    writers[p.table].write(p.batch(good))
                if lane is not None and good.num_rows:
                    lane.submit(derive, good, good_lines)
        if lane is not None:
            lane.finish()
        if gather is not None:
            main.distinct = gather.tables()
    except BaseException:
        if lane is not None:
            lane.cancel()
        raise
    finally:
        con.execute("RESET streaming_buffer_size")
    return key is not None and not increasing.ok
