"""Query results to Parquet: DuckDB streams Arrow record batches and pyarrow encodes them.

For the ingest's tables (unique ids, random amounts, a few repetitive columns) pyarrow's encoder
needs about half the CPU time of DuckDB's ``COPY ... TO``, and writing batch by batch keeps
memory bounded. Dictionary encoding pays off on repetitive columns (currencies, account ids)
and only costs time on unique ones (transaction ids), so a column is dictionary-encoded when its
first row group repeats values.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

# Rows per batch read from DuckDB, and per row group written.
BATCH_ROWS = 262_144
COMPRESSION = "zstd"
# Rows that decide which columns are dictionary-encoded.
DICTIONARY_SAMPLE = 32_768


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
    group repeats their values; with no rows at all, the file holds the schema only.

    >>> with BatchWriter(Path("out.parquet"), schema) as out:  # doctest: +SKIP
    ...     out.write(batch)
    """

    def __init__(self, path: Path, schema: pa.Schema):
        self.path = path
        self.schema = schema
        self.rows = 0
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._out: pq.ParquetWriter | None = None

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
        if self._out is None:
            self._out = pq.ParquetWriter(
                self.path, self.schema, compression=COMPRESSION, use_dictionary=dictionary_columns(group)
            )
        self._out.write_table(group, row_group_size=rows)
        self._pending = pending.slice(rows).to_batches()
        self._pending_rows -= rows

    def close(self) -> int:
        """Finish the file; return the rows written."""
        if self._pending_rows:
            self._flush(self._pending_rows)
        if self._out is None:
            pq.write_table(self.schema.empty_table(), self.path, compression=COMPRESSION)
        else:
            self._out.close()
            self._out = None
        return self.rows

    def abort(self) -> None:
        """Close the file without finishing it (the caller deletes it)."""
        self._pending = []
        self._pending_rows = 0
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


def write_parquet(con, sql: str, path: Path) -> int:
    """Write the rows of ``sql`` (run on the DuckDB connection ``con``) to ``path``; return the count.

    >>> write_parquet(con, "SELECT * FROM stage", Path("out.parquet"))  # doctest: +SKIP
    """
    # DuckDB refuses to stream a query while a result of execute() is unfinished; finish it.
    con.complete()
    reader = con.sql(sql).to_arrow_reader(BATCH_ROWS)
    with BatchWriter(path, reader.schema) as out:
        for batch in reader:
            out.write(batch)
    return out.rows
