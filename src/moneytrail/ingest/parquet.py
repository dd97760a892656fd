"""Query results to Parquet: DuckDB streams Arrow record batches and pyarrow encodes them.

For the ingest's tables (unique ids, random amounts, a few repetitive columns) pyarrow's encoder
needs about half the CPU time of DuckDB's ``COPY ... TO``, and writing batch by batch keeps
memory bounded. Dictionary encoding pays off on repetitive columns (currencies, account ids)
and only costs time on unique ones (transaction ids), so a column is dictionary-encoded when its
first row group repeats values.

Min/max statistics are written for the columns readers filter on (numbers, times, a table's key),
not for its other strings (account ids, codes, names), which are only joined on: computing them
costs a fifth of the encoding time of a transactions table.

A writer may encode on a thread of its own (``background=True``): pyarrow releases the GIL while
it encodes, so the row groups are written while DuckDB reads the next batches.

A column known to hold one text on every row (``constants``) is handed to the Parquet writer as a
dictionary array of that one value: the file is the same, and the writer does not hash every value
to build the dictionary it already has. The Arrow schema is therefore not stored in the file (it
would name those columns dictionaries); the Parquet types of the ingest's columns (text, whole
numbers, numbers, booleans, dates, timestamps in microseconds) read back as the same Arrow types.
"""

from __future__ import annotations

import concurrent.futures as cf
from collections import deque
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from moneytrail.schema import table

# Rows per batch read from DuckDB, and per row group written.
BATCH_ROWS = 262_144
COMPRESSION = "zstd"
# zstd's fastest levels are negative. Level -1 encodes a transactions table with about a tenth
# less CPU than the default level (1) for files about a tenth larger; readers decompress both
# alike. The same rows at the same level always give the same bytes.
COMPRESSION_LEVEL = -1
# Rows that decide which columns are dictionary-encoded.
DICTIONARY_SAMPLE = 32_768
# Row groups a background writer holds before ``write`` waits for it.
MAX_QUEUED = 2


class Lane:
    """Work done in order on one thread of its own, at most ``MAX_QUEUED`` jobs ahead.

    ``submit`` waits for the oldest job when the lane is full, so memory stays bounded; an error
    in a job is raised by a later ``submit`` or by ``finish``.
    """

    def __init__(self, name: str):
        self._pool = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._jobs: deque[cf.Future] = deque()

    def submit(self, fn, *args) -> None:
        while len(self._jobs) >= MAX_QUEUED or (self._jobs and self._jobs[0].done()):
            self._jobs.popleft().result()
        self._jobs.append(self._pool.submit(fn, *args))

    def finish(self) -> None:
        """Wait for every job; raise the first error."""
        try:
            while self._jobs:
                self._jobs.popleft().result()
        finally:
            self._pool.shutdown(wait=True)

    def cancel(self) -> None:
        """Drop the jobs not started, wait for the running one, and ignore errors."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._jobs.clear()


def statistics_columns(name: str) -> list[str]:
    """The columns of workspace table ``name`` given min/max statistics (see the module doc)."""
    return [c.name for c in table(name).columns if c.key or c.type != "string"]


def dictionary_columns(rows: pa.RecordBatch | pa.Table) -> list[str]:
    """Columns with at most one distinct value (nulls included) per two rows in the first rows.

    The first ``DICTIONARY_SAMPLE`` rows decide: counting the distinct values of a column of
    unique strings costs more than writing it.
    """
    sample = rows.slice(0, DICTIONARY_SAMPLE)
    return [
        name
        for name, col in zip(sample.schema.names, sample.columns, strict=True)
        if len(col)
        and not pa.types.is_null(col.type)
        and pc.count_distinct(col, mode="all").as_py() * 2 <= len(col)
    ]


class BatchWriter:
    """Record batches to one Parquet file in row groups of ``BATCH_ROWS`` rows (the last one shorter).

    Row groups do not follow the batches' sizes (which depend on how DuckDB split the work), so
    the same rows always give the same file. Columns are dictionary-encoded when the first row
    group repeats their values; with no rows at all, the file holds the schema only. With
    ``background``, row groups are encoded on a thread of the writer's own (see :class:`Lane`);
    the file is the same.

    >>> with BatchWriter(Path("out.parquet"), schema) as out:  # doctest: +SKIP
    ...     out.write(batch)
    """

    def __init__(
        self,
        path: Path,
        schema: pa.Schema,
        background: bool = False,
        statistics: bool | list[str] = True,
        constants: dict[str, pa.Scalar] | None = None,
    ):
        self.path = path
        self.schema = schema
        self.statistics = statistics
        # Columns whose every value is this scalar (see the module doc).
        self.constants = constants or {}
        self._as_dictionary: dict[str, pa.DictionaryArray] = {}
        self.rows = 0
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._out: pq.ParquetWriter | None = None
        self._lane = Lane(f"parquet-{path.name}") if background else None

    def write(self, batch: pa.RecordBatch) -> None:
        if not batch.num_rows:
            return
        self._pending.append(batch)
        self._pending_rows += batch.num_rows
        self.rows += batch.num_rows
        while self._pending_rows >= BATCH_ROWS:
            self._flush(BATCH_ROWS)

    def _flush(self, rows: int) -> None:
        pending = pa.Table.from_batches(self._pending, self.schema)
        group = pending.slice(0, rows)
        self._pending = pending.slice(rows).to_batches()
        self._pending_rows -= rows
        if self._lane is None:
            self._write_group(group)
        else:
            self._lane.submit(self._write_group, group)

    def _write_group(self, group: pa.Table) -> None:
        if self._out is None:
            dictionary = dictionary_columns(group)
            schema = self.schema
            for name, value in self.constants.items():
                if name in dictionary and value.is_valid and pa.types.is_string(value.type):
                    self._as_dictionary[name] = _one_value_dictionary(value, group.num_rows)
                    i = schema.get_field_index(name)
                    schema = schema.set(i, pa.field(name, self._as_dictionary[name].type))
            self._out = pq.ParquetWriter(
                self.path,
                schema,
                compression=COMPRESSION,
                compression_level=COMPRESSION_LEVEL,
                use_dictionary=dictionary,
                write_statistics=self.statistics,
                store_schema=False,
            )
        for name, values in self._as_dictionary.items():
            i = group.schema.get_field_index(name)
            group = group.set_column(i, name, values.slice(0, group.num_rows))
        self._out.write_table(group, row_group_size=group.num_rows)

    def close(self) -> int:
        """Finish the file; return the rows written."""
        if self._pending_rows:
            self._flush(self._pending_rows)
        if self._lane is not None:
            self._lane.finish()
        if self._out is None:
            pq.write_table(
                _empty(self.schema),
                self.path,
                compression=COMPRESSION,
                compression_level=COMPRESSION_LEVEL,
                write_statistics=self.statistics,
                store_schema=False,
            )
        else:
            self._out.close()
            self._out = None
        return self.rows

    def abort(self) -> None:
        """Close the file without finishing it (the caller deletes it)."""
        self._pending = []
        self._pending_rows = 0
        if self._lane is not None:
            self._lane.cancel()
        if self._out is not None:
            self._out.close()
            self._out = None

    def __enter__(self) -> BatchWriter:
        return self

    def __exit__(self, exc_type, *_) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _one_value_dictionary(value: pa.Scalar, rows: int) -> pa.DictionaryArray:
    """``value`` on ``rows`` rows (at least ``BATCH_ROWS``) as a dictionary array."""
    rows = max(rows, BATCH_ROWS)
    # Indices from numpy's buffer: pa.array() would import pandas to check what it was given.
    indices = pa.Array.from_buffers(pa.int32(), rows, [None, pa.py_buffer(np.zeros(rows, np.int32))])
    return pa.DictionaryArray.from_arrays(indices, pa.repeat(value, 1))


def _empty(schema: pa.Schema) -> pa.Table:
    # Not schema.empty_table(), which imports pandas (seconds of CPU for an ingest).
    return pa.Table.from_arrays([pa.nulls(0, f.type) for f in schema], schema=schema)


def write_parquet(con, sql: str, path: Path, statistics: bool | list[str] = True) -> int:
    """Write the rows of ``sql`` (run on the DuckDB connection ``con``) to ``path``; return the count.

    ``statistics``: the columns given min/max statistics (all when True).

    >>> write_parquet(con, "SELECT * FROM stage", Path("out.parquet"))  # doctest: +SKIP
    """
    # DuckDB refuses to stream a query while a result of execute() is unfinished; finish it.
    con.complete()
    reader = con.sql(sql).to_arrow_reader(BATCH_ROWS)
    with BatchWriter(path, reader.schema, statistics=statistics) as out:
        for batch in reader:
            out.write(batch)
    return out.rows
