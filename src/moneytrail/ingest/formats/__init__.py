"""The format registry: each input format maps its files to canonical (and truth) relations.

A format is a small class with three methods:

- ``detect(path)``: True when the files at ``path`` look like this format (used by ``auto``);
- ``sources(path)``: the input files it reads, as :class:`~moneytrail.ingest.sources.Source`
  objects naming the columns each must have;
- ``mappings(sources, con)``: after the files' headers were read, one :class:`Mapping` per output
  table: an SQL ``SELECT`` over the sources' scan views that yields the table's columns as text
  plus ``_line``, ``_file`` and ``_raw`` (or the ``_r*`` fields and ``Mapping.raw``).

Validation, duplicates, placeholders, merging and the quarantine are the pipeline's job, so a
new format is only its mapping. See docs/ingest.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from moneytrail.errors import ConfigError, InputFileError
from moneytrail.ingest.sources import Source, ident


@dataclass
class Mapping:
    """One output table of a format: SQL yielding the table's columns (text) for one input file.

    ``present`` lists the table columns the SQL yields; ``origin`` names, for messages, the input
    column a table column came from. ``truth`` mappings are labels: they go to the truth area.
    """

    table: str
    sql: str
    present: list[str]
    source: Source
    origin: dict[str, str] = field(default_factory=dict)
    # Extra columns (named ``x_*``, any type) kept in the staged rows but never in the table:
    # labels read in the same pass, for a ``derived`` mapping to turn into truth.
    extras: list[str] = field(default_factory=list)
    # A derived mapping reads the loaded rows (``new_<table>`` views) of other mappings, after
    # they were staged and de-duplicated.
    derived: bool = False
    # The SQL does not keep file order (a join): sort the staged rows by line.
    ordered: bool = False
    # The SQL is a plain projection of its source's scan: one row per record, in file order, no
    # join or filter, and ``_line`` only passed through. DuckDB may then read the file in
    # parallel, and the pipeline numbers the lines from the staged rows' positions.
    positional: bool = False
    # The SQL yields each key at most once (one row per loaded row of a keyed table), so the
    # duplicate check is skipped.
    unique_keys: bool = False
    # The SQL yields ``_check``: a format-specific reason (or NULL) checked before the schema's.
    checked: bool = False
    # SQL for a bad row's raw text, over the mapping's columns, computed only for bad rows
    # (see Source.raw_columns_sql); when None the mapping yields ``_raw`` itself.
    raw: str | None = None
    # Columns whose value is the same SQL literal on every row (``{"source": "'amlsim'"}``), still
    # yielded by the SQL: their checks are constants, decided once instead of on every row.
    literals: dict[str, str] = field(default_factory=dict)
    # A derived mapping whose columns are the loaded rows' own columns (``x_*`` extras included),
    # renamed: table column -> loaded column; its other columns are ``literals`` or empty. Made by
    # :func:`projection_of_loaded`, which writes ``sql`` from it; the single pass takes these
    # columns straight from each batch of loaded rows instead of running ``sql`` on the batch.
    passthrough: dict[str, str] = field(default_factory=dict)
    # Text columns whose every value starts with the same prefix, which the SQL leaves out
    # (``{"txn_id": "amlsim:"}`` with ``t.tran_id AS txn_id``): validation adds it, and the single
    # pass adds it to DuckDB's Arrow batches, so that DuckDB neither joins nor hands over the prefix.
    prefixes: dict[str, str] = field(default_factory=dict)
    # Text columns the SQL yields with the same text as another text column on every row, before
    # any prefix (``{"txn_id": "source_id"}``, both ``t.tran_id``): the single pass reads that
    # text from DuckDB once.
    copies: dict[str, str] = field(default_factory=dict)

    @property
    def truth(self) -> bool:
        from moneytrail.schema import table

        return table(self.table).kind == "truth"


def projection_of_loaded(
    name: str, loaded: str, source: Source, passthrough: dict[str, str], literals: dict[str, str]
) -> Mapping:
    """A derived mapping of table ``name``: columns of the loaded rows of table ``loaded``, renamed.

    ``passthrough`` maps the table's columns to the loaded rows' columns, ``literals`` other
    columns to an SQL literal; the rest stay empty. One row per loaded row, so keys stay unique.

    >>> projection_of_loaded("transaction_labels", "transactions", src,
    ...                      {"txn_id": "txn_id"}, {"source": "'amlsim'"})  # doctest: +SKIP
    """
    cols = [f"CAST(s.{ident(c)} AS VARCHAR) AS {ident(t)}" for t, c in passthrough.items()]
    cols += [f"{v} AS {ident(t)}" for t, v in literals.items()]
    sql = f"SELECT {', '.join(cols)}, s._line, s._file, CAST(NULL AS VARCHAR) AS _raw FROM new_{loaded} s"
    return Mapping(
        name,
        sql,
        [*passthrough, *literals],
        source,
        derived=True,
        unique_keys=True,
        literals=literals,
        passthrough=passthrough,
    )


class Format(Protocol):
    name: str
    description: str

    def detect(self, path: Path) -> bool: ...

    def sources(self, path: Path) -> list[Source]: ...

    def mappings(self, sources: dict[str, Source], con) -> list[Mapping]: ...


def _registry() -> dict[str, Format]:
    from moneytrail.ingest.formats.amlsim import AmlsimFormat
    from moneytrail.ingest.formats.canonical import CanonicalFormat
    from moneytrail.ingest.formats.ftm import FtmFormat
    from moneytrail.ingest.formats.tide import TideFormat
    from moneytrail.ingest.formats.watchlist_csv import WatchlistCsvFormat

    return {
        f.name: f
        for f in (CanonicalFormat(), AmlsimFormat(), TideFormat(), FtmFormat(), WatchlistCsvFormat())
    }


FORMATS: dict[str, Format] = {}


def formats() -> dict[str, Format]:
    """All registered formats by name."""
    if not FORMATS:
        FORMATS.update(_registry())
    return FORMATS


def register(fmt: Format) -> None:
    """Add a format (for formats that live outside this package)."""
    formats()[fmt.name] = fmt


def get_format(name: str, path: Path) -> Format:
    """The format called ``name``; ``auto`` recognises it from the file names at ``path``."""
    known = formats()
    if name == "auto":
        if not path.exists():
            raise InputFileError(f"The input path {path} does not exist.")
        hits = [f for f in known.values() if f.detect(path)]
        if len(hits) == 1:
            return hits[0]
        if not hits:
            raise InputFileError(
                f"Cannot recognise the format of {path} from its file names; give --format "
                f"({', '.join(known)})."
            )
        raise InputFileError(
            f"The files at {path} match several formats ({', '.join(f.name for f in hits)}); give --format."
        )
    if name not in known:
        raise ConfigError(
            f"The '--format' option must be one of {', '.join(repr(n) for n in [*known, 'auto'])}. Got {name!r} instead."
        )
    return known[name]


def find_file(folder: Path, stem: str, exts: tuple[str, ...] = (".csv", ".csv.gz")) -> Path | None:
    """The file ``stem`` + one of ``exts`` in ``folder``, if there is exactly one candidate."""
    for ext in exts:
        p = folder / f"{stem}{ext}"
        if p.is_file():
            return p
    return None
