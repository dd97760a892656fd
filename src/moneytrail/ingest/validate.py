"""Row validation generated from the schema declaration, as SQL over all-VARCHAR relations.

Every rule comes from ``canonical.yaml``: ``type`` (the value must cast), ``required``,
``values``, ``amount`` (finite and non-negative), ``currency`` (a known ISO 4217 code) and
``key`` (duplicates, handled in :mod:`moneytrail.ingest.pipeline`). The functions here only
build SQL; the pipeline executes it.

A row's ``_reason`` is NULL when it is valid, else one sentence naming the first failing column
(as the input file calls it) and the bad value.

A mapping may yield a column without the constant prefix of all its values (``prefixes``, see
``Mapping.prefixes``): the column's value is then ``prefix || text``, NULL when the text is, and
never empty, so its required check only asks for NULL and DuckDB joins no strings to check it.
"""

from __future__ import annotations

from moneytrail.fx import cad_amount_sql, known_currencies_sql
from moneytrail.ingest.sources import ident, sql_literal
from moneytrail.schema import Column, Table, table

_TYPE_WORDS = {
    "int64": "a whole number",
    "float64": "a number",
    "bool": "true or false",
    "timestamp": "a valid date and time",
    "date": "a valid date (YYYY-MM-DD)",
}


def typed_sql(col: Column, expr: str) -> str:
    """SQL converting the text ``expr`` to the column's type (NULL when it does not convert)."""
    t = col.type
    if t == "string":
        return f"upper({expr})" if col.currency else expr
    if t == "int64":
        return f"TRY_CAST({expr} AS BIGINT)"
    if t == "float64":
        return f"TRY_CAST({expr} AS DOUBLE)"
    if t == "bool":
        return f"TRY_CAST({expr} AS BOOLEAN)"
    if t == "timestamp":
        # Through TIMESTAMPTZ so that an offset (+02:00) is honoured; the session runs in UTC,
        # so stored timestamps are naive UTC. Text ending in Z is already UTC and the plain cast
        # gives the same value and verdict at a fraction of the cost (most exports write Z).
        return (
            f"CASE WHEN {expr} LIKE '%Z' THEN TRY_CAST({expr} AS TIMESTAMP) "
            f"ELSE TRY_CAST(TRY_CAST({expr} AS TIMESTAMPTZ) AS TIMESTAMP) END"
        )
    if t == "date":
        return f"TRY_CAST({expr} AS DATE)"
    raise ValueError(f"unknown column type {t!r}")


def _value(expr: str) -> str:
    return f"'''' || left({expr}, 40) || ''''"


def checks_sql(
    col: Column, expr: str, label: str, typed: str | None = None, prefix: str | None = None
) -> list[tuple[str, str]]:
    """(condition that makes the row bad, SQL for its reason) pairs for one column, in order.

    ``typed`` is the already-converted value when the caller computed it once (see stage_sql).
    ``prefix`` (not empty) is the text the column's value starts with before ``expr``.
    """
    name = label.replace("'", "''")
    out: list[tuple[str, str]] = []
    if prefix:
        if col.required:
            # prefix || expr is NULL exactly when expr is, and never empty.
            out.append((f"({expr} IS NULL)", f"'column ''{name}'' is required but empty'"))
        expr = prefixed_sql(prefix, expr)
    elif col.required:
        out.append((f"({expr} IS NULL OR {expr} = '')", f"'column ''{name}'' is required but empty'"))
    typed = typed or typed_sql(col, expr)
    if col.type != "string":
        out.append(
            (
                f"({expr} <> '' AND {typed} IS NULL)",
                f"'column ''{name}'' is not {_TYPE_WORDS[col.type]}: ' || {_value(expr)}",
            )
        )
    if col.amount and col.type == "float64":
        out.append(
            (f"(NOT isfinite({typed}))", f"'column ''{name}'' is not a finite amount: ' || {_value(expr)}")
        )
        out.append((f"({typed} < 0)", f"'column ''{name}'' is a negative amount: ' || {_value(expr)}"))
    if col.values:
        allowed = ", ".join(sql_literal(v) for v in col.values)
        out.append(
            (
                f"({expr} <> '' AND {expr} NOT IN ({allowed}))",
                f"'column ''{name}'' must be one of {', '.join(col.values)}; got ' || {_value(expr)}",
            )
        )
    if col.currency:
        out.append(
            (
                f"({expr} <> '' AND upper({expr}) NOT IN ({known_currencies_sql()}))",
                f"'column ''{name}'' is not a known ISO 4217 currency code: ' || {_value(expr)}",
            )
        )
    return out


def prefixed_sql(prefix: str, expr: str) -> str:
    """SQL for the text ``expr`` after ``prefix`` (NULL when ``expr`` is NULL)."""
    return f"({sql_literal(prefix)} || {expr})"


def _converted(col: Column) -> bool:
    return col.type != "string"


def _v(name: str) -> str:
    return ident(f"_v_{name}")


def reason_sql(
    table: Table,
    present: list[str],
    origin: dict[str, str] | None = None,
    typed_refs: bool = False,
    literals: dict[str, str] | None = None,
    prefixes: dict[str, str] | None = None,
) -> str:
    """SQL for ``_reason``: the first failing check of the row, or NULL.

    With ``typed_refs`` the converted values are read from ``_v_<column>`` columns. ``literals``
    are columns with the same SQL literal on every row: their checks are constants, which DuckDB
    folds away when they pass. ``prefixes``: see the module doc.
    """
    origin = origin or {}
    prefixes = prefixes or {}
    whens = []
    for col in table.columns:
        if col.name in present:
            typed = _v(col.name) if typed_refs and _converted(col) else None
            expr = _expr(col, literals)
            label = origin.get(col.name, col.name)
            for cond, reason in checks_sql(col, expr, label, typed, prefixes.get(col.name)):
                whens.append(f"WHEN {cond} THEN {reason}")
        elif col.required and not _derived(table, col.name):
            # The mapping cannot provide a required column: every row fails, which the format
            # should have refused as a file-level error; keep the rule total anyway.
            whens.append(f"WHEN true THEN 'column ''{col.name}'' is required but missing'")
    if not whens:
        return "CAST(NULL AS VARCHAR)"
    return "CASE " + " ".join(whens) + " ELSE NULL END"


def _expr(col: Column, literals: dict[str, str] | None, prefixes: dict[str, str] | None = None) -> str:
    """The column's text: its literal when the mapping gives one, else the column itself.

    A column of ``prefixes`` is its prefix followed by the column the mapping yields.
    """
    prefix = (prefixes or {}).get(col.name)
    if prefix:
        return prefixed_sql(prefix, ident(col.name))
    return (literals or {}).get(col.name) or ident(col.name)


def _derived(table: Table, column: str) -> bool:
    return table.name == "transactions" and column == "amount_cad"


def absent_columns(table: Table, present: list[str]) -> list[Column]:
    """The table's columns a mapping does not provide: always NULL in its rows."""
    return [c for c in table.columns if c.name not in present and not _derived(table, c.name)]


def typed_columns_sql(
    table: Table,
    present: list[str],
    typed_refs: bool = False,
    literals: dict[str, str] | None = None,
    prefixes: dict[str, str] | None = None,
) -> list[str]:
    """The table's columns, typed, in declared order; absent columns are typed NULLs.

    The columns of ``prefixes`` get their prefix (see the module doc).
    """

    def typed(col: Column) -> str:
        if typed_refs and _converted(col):
            return _v(col.name)
        return typed_sql(col, _expr(col, literals, prefixes))

    out = []
    for col in table.columns:
        if _derived(table, col.name):
            # amount_cad: as given, else converted at the reference rates.
            amount = typed(table.column("amount")) if "amount" in present else "NULL"
            currency = typed(table.column("currency")) if "currency" in present else "NULL"
            computed = cad_amount_sql(amount, currency)
            if col.name in present:
                computed = f"coalesce({typed(col)}, {computed})"
            out.append(f"{computed} AS amount_cad")
        elif col.name in present:
            out.append(f"{typed(col)} AS {ident(col.name)}")
        else:
            out.append(f"CAST(NULL AS {col.sql_type}) AS {ident(col.name)}")
    return out


def stage_sql(
    table: Table,
    mapping_sql: str,
    present: list[str],
    origin: dict[str, str] | None = None,
    extras: list[str] | None = None,
    checked: bool = False,
    raw: str | None = None,
    literals: dict[str, str] | None = None,
    prefixes: dict[str, str] | None = None,
    add_prefixes: bool = True,
) -> str:
    """Typed rows of ``mapping_sql`` with ``_line``, ``_file``, ``_reason`` and, for bad rows, ``_raw``.

    ``extras`` (``x_*`` columns of the mapping) are passed through unchanged. ``literals`` maps
    columns whose value is the same SQL literal on every row to that literal (see ``Mapping``).
    ``prefixes`` maps columns the mapping yields without their constant prefix to that prefix
    (see the module doc); with ``add_prefixes=False`` the rows have them without it, for a caller
    that adds it itself.
    """
    prefixes = prefixes or {}
    odd = sorted(c for c in prefixes if _converted(table.column(c)) or table.column(c).currency)
    if odd:
        raise ValueError(f"only plain text columns may have a prefix, not {table.name}.{odd[0]}")
    # Each value is converted once (``_v_<column>``) and used by both the checks and the output.
    conv = [
        f"{typed_sql(c, _expr(c, literals))} AS {_v(c.name)}"
        for c in table.columns
        if c.name in present and _converted(c)
    ]
    inner = f"SELECT *, {', '.join(conv)} FROM ({mapping_sql}) m0" if conv else mapping_sql
    typed = typed_columns_sql(table, present, True, literals, prefixes if add_prefixes else None)
    cols = ",\n       ".join([*typed, *(ident(x) for x in extras or [])])
    reason = reason_sql(table, present, origin, True, literals, prefixes)
    if checked:
        reason = f"coalesce(_check, {reason})"
    return (
        f"SELECT {cols},\n       _line, _file, _reason,\n"
        f"       CASE WHEN _reason IS NOT NULL THEN {raw or '_raw'} END AS _raw\n"
        f"FROM (SELECT *, {reason} AS _reason FROM ({inner}) m) v"
    )


def mapping_stage_sql(m, add_prefixes: bool = True) -> str:
    """:func:`stage_sql` for a format's ``Mapping`` ``m`` (its table, SQL and column notes)."""
    return stage_sql(
        table(m.table),
        m.sql,
        m.present,
        m.origin,
        m.extras,
        m.checked,
        m.raw,
        m.literals,
        m.prefixes,
        add_prefixes=add_prefixes,
    )
