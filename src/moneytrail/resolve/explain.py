"""Readable explanations of scored pairs: which fields agreed, which differed, and how the names
relate ("name (Cantonese romanisation of 陈国强) and birth date agreed; phone differed").

The explanation is one SQL expression (DuckDB dialect) over a pair's ``<column>_l`` and
``<column>_r`` values, so a million links are explained in one set-based query;
:func:`explain_pair` runs the same query on a single pair.

The name phrase follows the level the model chose (``gamma_name``) when the pair carries it, and
otherwise compares the name features of the two records (``name_keys``, ``core_keys``,
``name_core`` and ``name_parts``).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

import duckdb
import pyarrow as pa

FIELDS = (
    ("dob", "birth date"),
    ("phone", "phone"),
    ("email", "e-mail"),
    ("address", "address"),
    ("document_number", "document number"),
    ("org_country", "country"),
)
# the name features a pair may carry: scalar text, and lists of keys or parts
NAME_TEXT = ("name_norm", "name_native", "english_name", "rom_system", "org_key")
NAME_LISTS = ("name_keys", "core_keys", "name_core", "name_parts")


def _present(col: str) -> str:
    return f"({col} IS NOT NULL AND {col} <> '')"


def _capitalised(expr: str) -> str:
    return f"(upper(left({expr}, 1)) || lower(substr({expr}, 2)))"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _same_name_phrase() -> str:
    """The same name read in another romanisation or order: say which."""
    native = (
        f"CASE WHEN {_present('name_native_l')} THEN name_native_l "
        f"WHEN {_present('name_native_r')} THEN name_native_r END"
    )
    # the system of the side written in Latin letters, preferring the side without characters
    other = (
        f"CASE WHEN {_present('name_native_l')} AND {_present('name_norm_r')} THEN rom_system_r "
        f"WHEN {_present('name_native_r')} AND {_present('name_norm_l')} THEN rom_system_l "
        f"WHEN {_present('name_norm_l')} THEN rom_system_l ELSE rom_system_r END"
    )
    swapped = "coalesce(list_sort(string_split(name_norm_l, ' ')) = list_sort(string_split(name_norm_r, ' ')), false)"
    no_latin = f"NOT {_present('name_norm_l')} AND NOT {_present('name_norm_r')}"
    return f"""CASE
      WHEN {_present("name_norm_l")} AND name_norm_l = name_norm_r THEN 'name'
      WHEN {no_latin} AND {_present("name_native_l")} AND name_native_l = name_native_r THEN 'name (characters)'
      WHEN ({native}) IS NOT NULL AND {no_latin} THEN 'name (characters ' || ({native}) || ')'
      WHEN ({native}) IS NOT NULL AND ({other}) = 'cantonese'
        THEN 'name (Cantonese romanisation of ' || ({native}) || ')'
      WHEN ({native}) IS NOT NULL AND ({other}) = 'pinyin' AND {swapped}
        THEN 'name (pinyin of ' || ({native}) || ', order swapped)'
      WHEN ({native}) IS NOT NULL AND ({other}) = 'pinyin' THEN 'name (pinyin of ' || ({native}) || ')'
      WHEN {_present("name_norm_l")} AND {swapped} THEN 'name (order swapped)'
      WHEN (rom_system_l = 'pinyin' AND rom_system_r = 'cantonese')
        OR (rom_system_l = 'cantonese' AND rom_system_r = 'pinyin')
        THEN 'name (pinyin and Cantonese romanisations of one Chinese name)'
      ELSE 'name (another romanisation)'
    END"""


@cache
def _levels() -> dict[str, list[int]]:
    """The model's name levels (gamma values) grouped by the phrase family that explains them."""
    from moneytrail.resolve.model import name_level_labels

    prefixes = {
        "organisations": "two organisations",
        "same_spelling": "same spelling",
        "same_name": "same name",
        "same_chinese": "same Chinese name",
        "close": "spelling close",
        "adopted": "adopted English name",
        "two_parts": "two name parts",
        "one_part": "one name part",
    }
    out: dict[str, list[int]] = {k: [] for k in prefixes}
    for gamma, label in sorted(name_level_labels().items()):
        for key, prefix in prefixes.items():
            if label.startswith(prefix):
                out[key].append(gamma)
    return out


def _relation() -> str:
    """How the two names relate, as a short phrase, or NULL when they do not agree."""
    lv = {k: ", ".join(str(g) for g in v) or "NULL" for k, v in _levels().items()}
    eng = _capitalised(f"CASE WHEN {_present('english_name_l')} THEN english_name_l ELSE english_name_r END")
    beside = f"concat('name (adopted English name ', {eng}, ' beside the same Chinese name)')"
    surname = f"concat('surname (with adopted English name ', {eng}, ')')"
    has_eng = f"({_present('english_name_l')} OR {_present('english_name_r')})"
    from moneytrail.resolve.model import CLOSE_SPELLING_JW

    # two organisations: their folded registered names (legal form and case aside)
    organisation = f"""CASE WHEN org_key_l = org_key_r THEN 'name'
      WHEN jaro_winkler_similarity(org_key_l, org_key_r) >= {CLOSE_SPELLING_JW} THEN 'name (close spelling)' END"""
    return f"""CASE WHEN gamma_name IS NOT NULL THEN CASE
      WHEN gamma_name IN ({lv["organisations"]}) THEN {organisation}
      WHEN gamma_name IN ({lv["same_spelling"]}) THEN 'name'
      WHEN gamma_name IN ({lv["same_name"]}) THEN {_same_name_phrase()}
      WHEN gamma_name IN ({lv["same_chinese"]}) THEN {beside}
      WHEN gamma_name IN ({lv["close"]}) THEN 'name (close spelling)'
      WHEN gamma_name IN ({lv["adopted"]}) THEN {surname}
      WHEN gamma_name IN ({lv["two_parts"]}) THEN 'two parts of the name'
      WHEN gamma_name IN ({lv["one_part"]}) THEN 'part of the name'
    END ELSE CASE
      WHEN {_present("org_key_l")} AND {_present("org_key_r")} THEN {organisation}
      WHEN {_present("name_norm_l")} AND name_norm_l = name_norm_r THEN 'name'
      WHEN NOT {_present("name_norm_l")} AND NOT {_present("name_norm_r")}
        AND {_present("name_native_l")} AND name_native_l = name_native_r THEN 'name (characters)'
      WHEN list_has_any(name_keys_l, name_keys_r) THEN {_same_name_phrase()}
      WHEN {has_eng} AND list_has_any(core_keys_l, core_keys_r) THEN {beside}
      WHEN {has_eng} AND len(name_core_l) > 0 AND len(name_core_r) > 0
        AND (list_has_all(name_core_r, name_core_l) OR list_has_all(name_core_l, name_core_r)) THEN {surname}
    END END"""


def _join(items: str) -> str:
    """'a', 'a and b', 'a, b and c' from a list expression."""
    return (
        f"CASE WHEN len({items}) = 1 THEN {items}[1] "
        f"ELSE array_to_string({items}[1:-2], ', ') || ' and ' || {items}[-1] END"
    )


def explanations_sql(source: str) -> str:
    """Every row of ``source`` (pairs with ``_l``/``_r`` columns) with its ``explanation``."""
    from moneytrail.resolve.model import CLOSE_SPELLING_JW

    both_names = f"{_present('name_norm_l')} AND {_present('name_norm_r')}"
    parts_shared = "coalesce(list_has_any(name_parts_l, name_parts_r), false)"
    close = (
        "coalesce(jaro_winkler_similarity(replace(name_norm_l, ' ', ''), replace(name_norm_r, ' ', '')) "
        f">= {CLOSE_SPELLING_JW}, false)"
    )
    # without the model's level, overlapping parts or a close spelling (the model's typo level)
    # still count for something
    name_agreed = f"""coalesce(_rel, CASE WHEN gamma_name IS NULL AND {both_names} THEN CASE
      WHEN {parts_shared} THEN 'part of the name' WHEN {close} THEN 'name (close spelling)' END END)"""
    name_differed = f"""CASE WHEN _rel IS NULL AND (gamma_name >= 0
      OR (gamma_name IS NULL AND {both_names} AND NOT {parts_shared} AND NOT {close})) THEN 'name' END"""
    agreed, differed = ["_name_agreed"], ["_name_differed"]
    for col, label in FIELDS:
        a, b = f"{col}_l", f"{col}_r"
        both = f"{_present(a)} AND {_present(b)}"
        month = f" AND left({a}, 7) <> left({b}, 7)" if col == "dob" else ""
        agreed.append(f"CASE WHEN {both} AND {a} = {b} THEN {_quote(label)}")
        if col == "dob":
            agreed[-1] += f" WHEN {both} AND left({a}, 7) = left({b}, 7) THEN 'birth month'"
        agreed[-1] += " END"
        differed.append(f"CASE WHEN {both} AND {a} <> {b}{month} THEN {_quote(label)} END")
    text = (
        f"CASE WHEN len(_agreed) > 0 THEN {_join('_agreed')} || ' agreed' ELSE 'nothing agreed' END"
        f" || CASE WHEN len(_differed) > 0 THEN '; ' || {_join('_differed')} || ' differed' ELSE '' END"
    )
    listed = "[x FOR x IN [{}] IF x IS NOT NULL]"
    return f"""
SELECT * EXCLUDE (_rel, _name_agreed, _name_differed, _agreed, _differed), {text} AS explanation
FROM (
  SELECT *, {listed.format(", ".join(agreed))} AS _agreed, {listed.format(", ".join(differed))} AS _differed
  FROM (
    SELECT *, {name_agreed} AS _name_agreed, {name_differed} AS _name_differed
    FROM (SELECT *, {_relation()} AS _rel FROM {source})
  )
)"""


def pair_columns() -> dict[str, pa.DataType]:
    """Every column the explanation reads, with its type."""
    cols: dict[str, pa.DataType] = {"gamma_name": pa.int64()}
    for name in (*NAME_TEXT, *(c for c, _ in FIELDS)):
        cols |= {f"{name}_l": pa.string(), f"{name}_r": pa.string()}
    for name in NAME_LISTS:
        cols |= {f"{name}_l": pa.list_(pa.string()), f"{name}_r": pa.list_(pa.string())}
    return cols


def with_all_columns(pairs: pa.Table) -> pa.Table:
    """``pairs`` with the explanation's missing columns added as nulls."""
    for name, dtype in pair_columns().items():
        if name not in pairs.column_names:
            pairs = pairs.append_column(name, pa.nulls(pairs.num_rows, dtype))
    return pairs


def explain_pair(pair: Mapping) -> str:
    """One sentence: what agreed and what differed between the two records of ``pair``."""

    def value(name: str, dtype: pa.DataType):
        v = pair.get(name)
        if v is None or (isinstance(v, float) and v != v):  # NaN from pandas is a missing value
            return None
        if pa.types.is_list(dtype):
            return [str(x) for x in v]
        return int(v) if pa.types.is_integer(dtype) else str(v)

    row = pa.table({n: pa.array([value(n, t)], t) for n, t in pair_columns().items()})
    with duckdb.connect() as con:
        con.register("pair", row)
        return con.sql(explanations_sql("pair")).fetchall()[0][-1]
