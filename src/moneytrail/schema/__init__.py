"""The canonical tables, loaded from ``canonical.yaml``.

The YAML file is the single declaration; this module turns it into typed objects, Arrow schemas
and the DuckDB types used by validation.

>>> from moneytrail.schema import table
>>> table("transactions").column("amount").type
'float64'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import pyarrow as pa
import yaml

from moneytrail.errors import SchemaError

KINDS = ("input", "result", "truth")
TYPES = ("string", "int64", "float64", "bool", "timestamp", "date")
_ARROW = {
    "string": pa.string(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "timestamp": pa.timestamp("us"),
    "date": pa.date32(),
}
_SQL = {
    "string": "VARCHAR",
    "int64": "BIGINT",
    "float64": "DOUBLE",
    "bool": "BOOLEAN",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
}
_COLUMN_FIELDS = {"type", "required", "values", "amount", "currency", "key", "ref", "doc"}
_TABLE_FIELDS = {"kind", "stage", "doc", "columns"}


@dataclass(frozen=True)
class Column:
    """One declared column."""

    name: str
    type: str
    required: bool = False
    values: tuple[str, ...] | None = None
    amount: bool = False
    currency: bool = False
    key: bool = False
    ref: str | None = None
    doc: str = ""

    @property
    def arrow_type(self) -> pa.DataType:
        return _ARROW[self.type]

    @property
    def sql_type(self) -> str:
        return _SQL[self.type]


@dataclass(frozen=True)
class Table:
    """One declared table."""

    name: str
    kind: str
    columns: tuple[Column, ...]
    doc: str = ""
    stage: str | None = None
    _by_name: dict[str, Column] = field(default_factory=dict, repr=False, compare=False)

    def column(self, name: str) -> Column:
        try:
            return self._by_name[name]
        except KeyError:
            raise SchemaError(
                f"Table '{self.name}' has no column '{name}'. "
                f"Its columns are: {', '.join(self.column_names)}."
            ) from None

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def key(self) -> str | None:
        keys = [c.name for c in self.columns if c.key]
        return keys[0] if keys else None

    @property
    def area(self) -> str:
        """The workspace area the table lives in: ``truth`` for labels, else ``tables``."""
        return "truth" if self.kind == "truth" else "tables"

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.arrow_type, nullable=not c.required) for c in self.columns])

    def empty(self) -> pa.Table:
        """An empty Arrow table with this schema."""
        return self.arrow_schema().empty_table()


def _parse_column(table: str, name: str, spec: object) -> Column:
    where = f"canonical.yaml, table '{table}', column '{name}'"
    if not isinstance(spec, dict):
        raise SchemaError(f"{where}: expected a mapping, got {type(spec).__name__}.")
    unknown = set(spec) - _COLUMN_FIELDS
    if unknown:
        raise SchemaError(
            f"{where}: unknown field(s) {sorted(unknown)}; allowed are {sorted(_COLUMN_FIELDS)}."
        )
    ctype = spec.get("type")
    if ctype not in TYPES:
        raise SchemaError(f"{where}: 'type' must be one of {', '.join(TYPES)}. Got {ctype!r} instead.")
    values = spec.get("values")
    return Column(
        name=name,
        type=ctype,
        required=bool(spec.get("required", False)),
        values=tuple(str(v) for v in values) if values else None,
        amount=bool(spec.get("amount", False)),
        currency=bool(spec.get("currency", False)),
        key=bool(spec.get("key", False)),
        ref=spec.get("ref"),
        doc=str(spec.get("doc", "")),
    )


def parse_catalog(text: str) -> dict[str, Table]:
    """Parse the YAML text of a schema declaration strictly."""
    # libyaml's parser when PyYAML has it: the same mapping, several times faster
    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not isinstance(data, dict) or not isinstance(data.get("tables"), dict):
        raise SchemaError("canonical.yaml must have a top-level 'tables' mapping.")
    out: dict[str, Table] = {}
    for tname, tspec in data["tables"].items():
        if not isinstance(tspec, dict):
            raise SchemaError(f"canonical.yaml, table '{tname}': expected a mapping.")
        unknown = set(tspec) - _TABLE_FIELDS
        if unknown:
            raise SchemaError(f"canonical.yaml, table '{tname}': unknown field(s) {sorted(unknown)}.")
        if tspec.get("kind") not in KINDS:
            raise SchemaError(
                f"canonical.yaml, table '{tname}': 'kind' must be one of {', '.join(KINDS)}. "
                f"Got {tspec.get('kind')!r} instead."
            )
        cols = tuple(_parse_column(tname, c, s) for c, s in (tspec.get("columns") or {}).items())
        if not cols:
            raise SchemaError(f"canonical.yaml, table '{tname}' declares no columns.")
        out[tname] = Table(
            name=tname,
            kind=tspec["kind"],
            columns=cols,
            doc=str(tspec.get("doc", "")),
            stage=tspec.get("stage"),
            _by_name={c.name: c for c in cols},
        )
    return out


@cache
def catalog() -> dict[str, Table]:
    """All declared tables by name."""
    text = resources.files(__package__).joinpath("canonical.yaml").read_text(encoding="utf-8")
    return parse_catalog(text)


def table(name: str) -> Table:
    """The declared table called ``name``."""
    tables = catalog()
    if name not in tables:
        raise SchemaError(f"There is no canonical table '{name}'. The tables are: {', '.join(tables)}.")
    return tables[name]


def input_tables() -> list[Table]:
    return [t for t in catalog().values() if t.kind == "input"]


def result_tables() -> list[Table]:
    return [t for t in catalog().values() if t.kind == "result"]


def truth_tables() -> list[Table]:
    return [t for t in catalog().values() if t.kind == "truth"]
