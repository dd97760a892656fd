"""Input files as SQL relations: one all-VARCHAR scan per file, with its line numbers.

A CSV file is scanned by DuckDB's CSV reader with every column read as text, so that validation
(see :mod:`moneytrail.ingest.validate`) decides what is a bad value, not the reader. Lines the
reader cannot split into the header's fields (wrong field count, invalid UTF-8, a line longer
than the reader's limit) go to a per-file *rejects* table with their line number and raw text.

DuckDB keeps file order, so ``row_number() OVER ()`` on a single-file scan numbers the records the
reader accepted. When the reader rejected some lines, the record numbers are corrected with an
as-of join on the rejected lines, so ``_line`` is always the physical line (header = line 1;
a quoted field spanning several lines counts as one).

``row_number() OVER ()`` makes DuckDB read the file on one thread. A mapping that is a plain
projection of its file (see ``Mapping.positional``) reads the *unnumbered* scan instead, which
DuckDB reads in parallel; its ``_line`` is NULL until the pipeline numbers the staged rows from
their positions (a table created from an ordered scan keeps the scan's order in its ``rowid``).
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from moneytrail.errors import InputFileError

# Lines longer than this go to the quarantine rather than into memory.
MAX_LINE_BYTES = 2_000_000
# Raw text kept in the quarantine per row.
MAX_RAW_CHARS = 10_000


def sql_literal(value: str) -> str:
    """Quote a string as a SQL literal."""
    return "'" + str(value).replace("'", "''") + "'"


def ident(name: str) -> str:
    """Quote an identifier."""
    return '"' + name.replace('"', '""') + '"'


@dataclass
class Source:
    """One input file a format reads.

    ``table`` is the canonical table charged with the file's unreadable lines (its main output).
    ``required`` columns must be in the header, or the file is refused before anything is written.
    """

    name: str
    path: Path
    table: str
    required: tuple[str, ...] = ()
    columns: list[str] = field(default_factory=list)
    # The user's file this source was made from, when a format converts its input to a temporary
    # file first (FtM JSON lines to Parquet): hashed, named in the manifest and used to replace
    # the quarantine rows of an earlier ingest of the same file. None means ``path`` itself.
    origin: Path | None = None

    @property
    def origin_path(self) -> Path:
        """The user's file: ``origin`` when set, else ``path``."""
        return self.origin if self.origin is not None else self.path

    @property
    def is_parquet(self) -> bool:
        return self.path.name.lower().endswith(".parquet")

    @property
    def relation(self) -> str:
        """The SQL name of the scan (with ``_line``)."""
        return f"src_{self.name}"

    @property
    def rejects_table(self) -> str:
        return f"rej_{self.name}"

    def has(self, column: str) -> bool:
        return column in self.columns

    def col(self, column: str, default: str = "NULL") -> str:
        """The quoted column when the file has it, else ``default`` (an SQL expression)."""
        return ident(column) if column in self.columns else default

    def raw_sql(self) -> str:
        """SQL re-joining the row's fields with commas (the raw text of a rejected row)."""
        parts = " || ',' || ".join(f"coalesce({ident(c)}, '')" for c in self.columns)
        return f"left({parts}, {MAX_RAW_CHARS})"

    def raw_columns_sql(self, alias: str = "") -> str:
        """The row's fields passed through as ``_r0, _r1, ...`` for :meth:`raw_expr`.

        Passing fields through costs nothing; joining them into text for every row is expensive,
        so the staging query joins them only for rows that fail (see ``Mapping.raw``).
        """
        prefix = f"{alias}." if alias else ""
        return ", ".join(f"{prefix}{ident(c)} AS _r{i}" for i, c in enumerate(self.columns))

    def raw_expr(self) -> str:
        """SQL over ``_r0, _r1, ...`` re-joining the row's fields with commas."""
        parts = " || ',' || ".join(f"coalesce(_r{i}, '')" for i in range(len(self.columns)))
        return f"left({parts}, {MAX_RAW_CHARS})"


def read_header(path: Path) -> list[str]:
    """The column names of a CSV file (plain or gzip), or a clear error naming the file."""
    try:
        opener = gzip.open if path.name.lower().endswith(".gz") else open
        with opener(path, "rb") as fh:
            first = fh.readline(MAX_LINE_BYTES)
    except FileNotFoundError:
        raise InputFileError(f"The input file {path} does not exist.") from None
    except (OSError, EOFError, zlib.error) as e:
        raise InputFileError(f"The input file {path} cannot be read: {e}.") from None
    if not first.strip():
        raise InputFileError(f"The input file {path} is empty; it needs a header line.")
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputFileError(f"The header of {path} is not UTF-8 text; save the file as UTF-8.") from None
    row = next(csv.reader(io.StringIO(text)), [])
    return [c.strip() for c in row]


def parquet_columns(con, path: Path) -> list[str]:
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM read_parquet({sql_literal(str(path))})").fetchall()
    except Exception as e:
        raise InputFileError(
            f"The input file {path} is not a readable Parquet file: {first_line(e)}"
        ) from None
    return [r[0] for r in rows]


def open_source(con, src: Source) -> None:
    """Read the header, check the required columns and define the scan view ``src.relation``."""
    if src.is_parquet:
        src.columns = parquet_columns(con, src.path)
    else:
        src.columns = read_header(src.path)
    missing = [c for c in src.required if c not in src.columns]
    if missing:
        header = ",".join(src.columns)
        hint = ""
        if len(src.columns) == 1 and any(d in header for d in ";\t|"):
            hint = " The file must be comma-separated."
        raise InputFileError(
            f"The input file {src.path} has no column '{missing[0]}' (its header is {header[:200]!r}).{hint}"
        )
    dupes = sorted({c for c in src.columns if src.columns.count(c) > 1})
    if dupes:
        raise InputFileError(
            f"The input file {src.path} has the column '{dupes[0]}' more than once in its header."
        )
    con.execute(f"CREATE OR REPLACE VIEW {src.relation} AS {scan_sql(src)}")


def read_csv_sql(src: Source) -> str:
    """DuckDB's all-VARCHAR reader of a CSV file; unreadable lines go to ``src.rejects_table``."""
    columns = ", ".join(f"{sql_literal(c)}: 'VARCHAR'" for c in src.columns)
    return (
        f"read_csv({sql_literal(str(src.path))}, "
        f"header = true, auto_detect = false, columns = {{{columns}}}, delim = ',', quote = '\"', "
        f"escape = '\"', max_line_size = {MAX_LINE_BYTES}, store_rejects = true, "
        f"rejects_table = {sql_literal(src.rejects_table)}, rejects_scan = {sql_literal(src.rejects_table + '_scan')})"
    )


def csv_scan_sql(src: Source) -> str:
    """The all-VARCHAR scan of a CSV file with its record number ``_rec`` (1-based)."""
    return f"SELECT *, row_number() OVER () AS _rec FROM {read_csv_sql(src)}"


def scan_sql(src: Source, with_fix: bool = False, numbered: bool = True) -> str:
    """The scan with ``_line`` (physical line number) and ``_file``.

    ``with_fix`` corrects the line numbers after lines were rejected (see the module docstring).
    ``numbered=False`` gives a CSV scan whose ``_line`` is NULL, read in parallel.
    """
    file = sql_literal(str(src.path))
    if src.is_parquet:
        cols = ", ".join(f"CAST({ident(c)} AS VARCHAR) AS {ident(c)}" for c in src.columns)
        return (
            f"SELECT {cols}, CAST(file_row_number + 1 AS BIGINT) AS _line, {file} AS _file "
            f"FROM read_parquet({file}, file_row_number = true)"
        )
    if not numbered:
        return f"SELECT *, CAST(NULL AS BIGINT) AS _line, {file} AS _file FROM {read_csv_sql(src)}"
    if not with_fix:
        return (
            f"SELECT s.*, CAST(s._rec + 1 AS BIGINT) AS _line, {file} AS _file FROM ({csv_scan_sql(src)}) s"
        )
    return (
        f"SELECT s.*, CAST(s._rec + 1 + coalesce(f.k, 0) AS BIGINT) AS _line, {file} AS _file "
        f"FROM ({csv_scan_sql(src)}) s ASOF LEFT JOIN {src.rejects_table}_fix f ON s._rec > f.g"
    )


def rejected_lines_sql(src: Source) -> str:
    """One row per rejected line: line, raw text, reason (from the first scan of the file).

    The reader may report several errors for one line (one per missing field); the most telling
    one is kept: encoding, then length, then quoting, then the field count.
    """
    return f"""
        SELECT CAST(line AS BIGINT) AS line,
               left(arg_min(csv_line, rank), {MAX_RAW_CHARS}) AS raw,
               arg_min(reason, rank) AS reason
        FROM (
            SELECT line, csv_line,
                   CASE error_type
                       WHEN 'INVALID ENCODING' THEN 0 WHEN 'LINE SIZE OVER MAXIMUM' THEN 1
                       WHEN 'UNQUOTED VALUE' THEN 2 ELSE 3 END * 1000000
                   + coalesce(TRY_CAST(regexp_extract(error_message, 'Found: (\\d+)', 1) AS INTEGER), 0) AS rank,
                   CASE
                   WHEN error_type = 'INVALID ENCODING' THEN 'the line is not valid UTF-8 text'
                   WHEN error_type = 'LINE SIZE OVER MAXIMUM' THEN 'the line is longer than {MAX_LINE_BYTES:,} bytes'
                   WHEN error_type IN ('MISSING COLUMNS', 'TOO MANY COLUMNS')
                       THEN 'the line has ' || regexp_extract(error_message, 'Found: (\\d+)', 1)
                            || ' fields but the header has '
                            || regexp_extract(error_message, 'Columns: (\\d+)', 1)
                   WHEN error_type = 'UNQUOTED VALUE' THEN 'the line has a badly quoted field'
                   ELSE lower(CAST(error_type AS VARCHAR)) || ': ' || error_message END AS reason
            FROM {src.rejects_table}
            WHERE scan_id = (SELECT min(scan_id) FROM {src.rejects_table})
        )
        GROUP BY line
    """


def line_fix_sql(src: Source) -> str:
    """Rejected record j (1-based, in line order) has g = records accepted before it; see module doc."""
    # Consecutive rejected lines share g; the as-of join must see the last of them.
    return f"""
        SELECT g, max(k) AS k FROM (
            SELECT CAST((line - 1) - row_number() OVER (ORDER BY line) AS BIGINT) AS g,
                   CAST(row_number() OVER (ORDER BY line) AS BIGINT) AS k
            FROM ({rejected_lines_sql(src)})
        ) GROUP BY g
    """


def first_line(e: BaseException) -> str:
    """The first line of an error's message (DuckDB's messages go on with context)."""
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0]


def unreadable(e: BaseException, src: Source) -> InputFileError:
    """The one-sentence error for a file DuckDB failed to read, naming the file it names."""
    m = re.search(r"file\s*[=:]\s*(\S+)", str(e))
    name = m.group(1) if m else str(src.path)
    return InputFileError(f"The input file {name} cannot be read: {first_line(e)}")


def set_origin(src: Source, given: Path) -> None:
    """Give ``src`` the user's file as origin when the format read a file of its own making.

    A format that converts its input first (to a temporary Parquet file) returns sources outside
    the path the user gave; their rows, hashes and quarantine belong to the user's file.
    """
    if src.origin is not None:
        return
    root, here = given.resolve(), src.path.resolve()
    if here != root and root not in here.parents:
        # As given (not resolved): the format names its rows' ``_file`` the same way.
        src.origin = given
