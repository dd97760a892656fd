"""Query results to Parquet: DuckDB streams Arrow record batches and pyarrow encodes them.

For the ingest's tables (unique ids, random amounts, a few repetitive columns) pyarrow's encoder
needs about half the CPU time of DuckDB's ``COPY ... TO``, and writing batch by batch keeps
memory bounded. Dictionary encoding pays off on repetitive columns (currencies, account ids)
and only costs time on unique ones (transaction ids), so a column is dictionary-encoded when its
first batch repeats values.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

# Rows per batch, and so per row group.
BATCH_ROWS = 262_144
COMPRESSION = "zstd"


def dictionary_columns(batch: pa.RecordBatch) -> list[str]:
    """Columns of ``batch`` with at most one distinct value (nulls included) per two rows."""
    return [
        name
        for name, col in zip(batch.schema.names, batch.columns, strict=True)
        if len(col)
        and not pa.types.is_null(col.type)
        and pc.count_distinct(col, mode="all").as_py() * 2 <= len(col)
    ]


def write_parquet(con, sql: str, path: Path) -> int:
    """Write the rows of ``sql`` (run on the DuckDB connection ``con``) to ``path``; return the count.

    >>> write_parquet(con, "SELECT * FROM stage", Path("out.parquet"))  # doctest: +SKIP
    """
    # DuckDB refuses to stream a query while a result of execute() is unfinished; finish it.
    con.complete()
    reader = con.sql(sql).to_arrow_reader(BATCH_ROWS)
    batches = iter(reader)
    first = next(batches, None)
    if first is None:
        pq.write_table(reader.schema.empty_table(), path, compression=COMPRESSION)
        return 0
    rows = 0
    with pq.ParquetWriter(
        path, reader.schema, compression=COMPRESSION, use_dictionary=dictionary_columns(first)
    ) as out:
        for batch in itertools.chain([first], batches):
            out.write_batch(batch)
            rows += batch.num_rows
    return rows
