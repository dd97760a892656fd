"""SQL for what happens after validation: duplicates, placeholders, merging and the quarantine.

Pure functions returning SQL strings; :mod:`moneytrail.ingest.pipeline` runs them. Relation names:
``stage_<t>`` holds the typed, validated rows of table ``t`` (with ``_m`` the mapping number,
``_line``, ``_file``, ``_reason``, ``_raw``), ``dup_<t>`` the keys seen more than once and
``new_<t>`` the rows to load.
"""

from __future__ import annotations

from collections import defaultdict

from moneytrail.ingest.sources import MAX_RAW_CHARS, ident, sql_literal
from moneytrail.schema import Table, catalog, table

# Columns a placeholder row gets besides its key, source and source_id.
PLACEHOLDER_DEFAULTS = {
    "parties": {"kind": "'unknown'"},
    "accounts": {"is_external": "true"},
}


def merge_keys(table: Table) -> list[str]:
    """Columns that identify a row across ingests: the key, else every required column."""
    return [table.key] if table.key else list(table.required)


def duplicate_hashes_sql(table: Table) -> str:
    """64-bit hashes of keys seen more than once among the valid rows (a superset of duplicates).

    Grouping millions of distinct strings is slow; grouping their hashes is cheap, and usually
    finds none, so :func:`duplicates_sql` (which compares the strings) is run only when needed.
    """
    return f"""
        SELECT hash({ident(table.key)}) AS h FROM stage_{table.name} WHERE _reason IS NULL
        GROUP BY 1 HAVING count(*) > 1
    """


def duplicates_sql(table: Table, candidates: str | None = None) -> str:
    """Keys seen more than once among the valid rows, with where each was first seen.

    ``candidates`` is a relation of :func:`duplicate_hashes_sql` already computed, if any.
    """
    key = ident(table.key)
    candidates = candidates or f"({duplicate_hashes_sql(table)})"
    return f"""
        SELECT {key} AS _key, arg_min(_line, _m * 1000000000000 + _line) AS _first_line,
               arg_min(_file, _m * 1000000000000 + _line) AS _first_file,
               min(_m * 1000000000000 + _line) AS _first
        FROM stage_{table.name}
        WHERE _reason IS NULL AND hash({key}) IN (SELECT h FROM {candidates})
        GROUP BY {key} HAVING count(*) > 1
    """


def new_rows_sql(table: Table, has_duplicates: bool) -> str:
    """The rows to load, in file order: valid, and the first of each duplicated key."""
    if not has_duplicates:
        return f"SELECT * FROM stage_{table.name} WHERE _reason IS NULL"
    key = ident(table.key)
    # The anti-join does not keep the rows' order when they are streamed out: sort them.
    return f"""
        SELECT s.* FROM stage_{table.name} s
        WHERE s._reason IS NULL AND NOT EXISTS (
            SELECT 1 FROM dup_{table.name} d
            WHERE d._key = s.{key} AND s._m * 1000000000000 + s._line > d._first)
        ORDER BY s._m, s._line
    """


def raw_row_sql(table: Table, alias: str = "s") -> str:
    """A typed row joined back into text (for rows that were valid but duplicated)."""
    parts = " || ',' || ".join(
        f"coalesce(CAST({alias}.{ident(c)} AS VARCHAR), '')" for c in table.column_names
    )
    return f"left({parts}, {MAX_RAW_CHARS})"


def quarantine_sql(table: Table, run_id: str, rejects: list[str], has_duplicates: bool) -> str:
    """Every quarantined row of this run: invalid values, later duplicates and unreadable lines.

    ``rejects`` are SQL relations with columns ``_file, line, raw, reason`` (the reader's rejects).
    """
    run = sql_literal(run_id)
    name = sql_literal(table.name)
    parts = [
        f"SELECT {name} AS table_name, _file AS source_file, _line AS line, _raw AS raw, _reason AS reason, "
        f"{run} AS run_id FROM stage_{table.name} WHERE _reason IS NOT NULL"
    ]
    if has_duplicates:
        key = ident(table.key)
        parts.append(
            f"SELECT {name}, s._file, s._line, {raw_row_sql(table)}, "
            f"'duplicate {table.key} ''' || left(s.{key}, 60) || ''' (first seen on line ' || "
            f"CAST(d._first_line AS VARCHAR) || ' of ' || d._first_file || ')', {run} "
            f"FROM stage_{table.name} s JOIN dup_{table.name} d ON d._key = s.{key} "
            f"WHERE s._reason IS NULL AND s._m * 1000000000000 + s._line > d._first"
        )
    for rel in rejects:
        parts.append(f"SELECT {name}, _file, line, raw, reason, {run} FROM {rel}")
    return "\nUNION ALL\n".join(parts)


def placeholder_sql(
    target: Table, refs: list[tuple[str, str]], existing: str | None, holder_from: list[str]
) -> str:
    """Rows for ids that loaded rows reference but no row describes (``target`` placeholders).

    ``refs`` are (new-rows relation, column) pairs holding referenced ids, ``existing`` the
    relation of the workspace's current ``target`` rows (or None). For accounts, a placeholder
    whose id is also a party id (a cash-side account named after its owner) gets that holder;
    ``holder_from`` lists the party relations to look in.
    """
    key = ident(target.key)
    ids = " UNION ALL ".join(
        f"SELECT {ident(col)} AS id, source FROM {rel} WHERE {ident(col)} IS NOT NULL" for rel, col in refs
    )
    conds = [f"NOT EXISTS (SELECT 1 FROM new_{target.name} n WHERE n.{key} = r.id)"]
    if existing:
        conds.append(f"NOT EXISTS (SELECT 1 FROM {existing} e WHERE e.{key} = r.id)")
    defaults = PLACEHOLDER_DEFAULTS.get(target.name, {})
    cols = []
    for c in target.columns:
        if c.name == target.key:
            cols.append(f"r.id AS {key}")
        elif c.name == "source":
            cols.append("r.source AS source")
        elif c.name == "source_id":
            # Source-qualified ids (amlsim:123) give back the source's own id.
            cols.append(
                "CASE WHEN starts_with(r.id, r.source || ':') THEN substr(r.id, length(r.source) + 2) "
                "ELSE r.id END AS source_id"
            )
        elif c.name in defaults:
            cols.append(f"{defaults[c.name]} AS {ident(c.name)}")
        elif target.name == "accounts" and c.name == "holder_party_id" and holder_from:
            found = " UNION ALL ".join(f"SELECT party_id FROM {rel}" for rel in holder_from)
            cols.append(f"CASE WHEN r.id IN ({found}) THEN r.id END AS holder_party_id")
        else:
            cols.append(f"CAST(NULL AS {c.sql_type}) AS {ident(c.name)}")
    return f"""
        SELECT {", ".join(cols)}
        FROM (SELECT id, min(source) AS source FROM ({ids}) GROUP BY id) r
        WHERE {" AND ".join(conds)}
        ORDER BY r.id
    """


def merged_sql(
    table: Table,
    existing: str | None,
    existing_columns: list[str],
    with_placeholders: bool,
) -> str:
    """The table after this ingest: kept existing rows, then placeholders, then the new rows.

    Existing rows are replaced by new rows with the same key or the same (source, source_id), so
    re-ingesting a file changes nothing. Placeholders come before new rows so that a second run
    (where they already exist) writes the same order.
    """
    cols = table.column_names
    new_cols = ", ".join(ident(c) for c in cols)
    # Declared types, also for columns a mapping filled with an untyped NULL.
    typed = ", ".join(f"CAST({ident(c.name)} AS {c.sql_type}) AS {ident(c.name)}" for c in table.columns)
    if existing is None and not with_placeholders:
        # Sorted: DuckDB does not always keep the order of rows read through views (labels).
        return f"SELECT {typed} FROM new_{table.name} ORDER BY _m, _line"
    parts = []
    if existing is not None:
        ecols = ", ".join(
            f"e.{ident(c)}"
            if c in existing_columns
            else f"CAST(NULL AS {table.column(c).sql_type}) AS {ident(c)}"
            for c in cols
        )
        conds = []
        keys = merge_keys(table)
        conds.append(
            "NOT EXISTS (SELECT 1 FROM new_{t} n WHERE {on})".format(
                t=table.name, on=" AND ".join(f"n.{ident(k)} = e.{ident(k)}" for k in keys)
            )
        )
        if table.key and "source_id" in existing_columns and "source" in existing_columns:
            conds.append(
                f"NOT EXISTS (SELECT 1 FROM new_{table.name} n WHERE n.source = e.source AND n.source_id = e.source_id)"
            )
        parts.append(
            f"SELECT {ecols}, 0 AS _p, e.file_row_number AS _o FROM {existing} e WHERE {' AND '.join(conds)}"
        )
    if with_placeholders:
        parts.append(f"SELECT {new_cols}, 1 AS _p, row_number() OVER () AS _o FROM ph_{table.name}")
    parts.append(f"SELECT {new_cols}, 2 AS _p, _m * 1000000000000 + _line AS _o FROM new_{table.name}")
    union = "\nUNION ALL\n".join(parts)
    return f"SELECT {typed} FROM ({union}) ORDER BY _p, _o"


def quarantine_merge_sql(existing: str | None, files: list[str]) -> str:
    """The quarantine of a table after this run: this run's rows replace those of the same files."""
    if existing is None:
        return "SELECT * FROM q_new ORDER BY source_file, line"
    listed = ", ".join(sql_literal(f) for f in files) or "NULL"
    return (
        f"SELECT * FROM (SELECT table_name, source_file, line, raw, reason, run_id FROM {existing} "
        f"WHERE source_file NOT IN ({listed}) UNION ALL SELECT * FROM q_new) ORDER BY source_file, line"
    )


def placeholder_targets(loaded: list[str]) -> list[tuple[str, list[tuple[str, str]]]]:
    """(target table, [(new-rows relation, column)]) for every declared ref, parties last."""
    refs: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for t in loaded:
        for col in table(t).columns:
            if not col.ref:
                continue
            target, _, tcol = col.ref.partition(".")
            tab = catalog().get(target)
            if tab is None or tab.key != tcol or not placeholder_possible(tab):
                continue
            refs[target].append((f"new_{t}", col.name))
    order = sorted(refs, key=lambda name: name == "parties")
    return [(t, refs[t]) for t in order]


def placeholder_possible(tab: Table) -> bool:
    """Whether a placeholder row can fill every required column of the table."""
    fillable = {tab.key, "source", "source_id", *PLACEHOLDER_DEFAULTS.get(tab.name, {})}
    return set(tab.required) <= fillable


def empty_sql(tab: Table) -> str:
    """A query with the table's columns, ``_m`` and ``_line``, and no rows."""
    cols = ", ".join(f'CAST(NULL AS {c.sql_type}) AS "{c.name}"' for c in tab.columns)
    return f"SELECT {cols}, CAST(0 AS BIGINT) AS _m, CAST(0 AS BIGINT) AS _line WHERE false"
