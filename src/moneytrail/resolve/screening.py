"""Watchlist screening: every party (as a resolved entity) against every list entry.

Candidates meet through blocking, never a full cross product: a shared romanisation-independent
name key (so a listed 陈国强 is found as "Chan Kwok Keung"), or the same birth date with a shared
name part and a close spelling (typos). Each candidate gets a score from 0 to 1:

    score = 0.6 * name_score * (0.5 + 0.5 * rarity) + 0.25 * birth date agrees + 0.15 * country agrees

where ``rarity`` is 1 for a name that only one entity carries and falls as more entities share it.

The rule that keeps short and common names from flooding the hits:

- a *distinctive* name (longer than ``SHORT_NAME_LETTERS`` letters or three or more parts, and
  carried by fewer than ``COMMON_NAME_ENTITIES`` entities) is a hit on the name alone, unless the
  birth dates are both known and differ;
- a *short or common* name ("Li Wei") is a hit only when the birth date and the country (or
  nationality) agree too, and only when at most ``MAX_AMBIGUOUS`` entities match the entry that
  way: more than that means the name and birth date do not identify anyone, and the entry is
  reported as ambiguous instead of flagging them all.
"""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa

from moneytrail.engine import Engine
from moneytrail.resolve.names import name_features
from moneytrail.schema import table

DETECTOR_ID = "watchlist_screening"
INDICATOR = "W1"
SHORT_NAME_LETTERS = 7
COMMON_NAME_ENTITIES = 3
MAX_AMBIGUOUS = 3
NAME_MATCH = 0.92
FUZZY_JW = 0.9

PARTIES = "resolve_screen_parties"
ENTRIES = "resolve_screen_entries"


def entry_names(watchlist: pa.Table) -> pa.Table:
    """One row per listed name (primary and aliases) with its name features."""
    rows: dict[str, list] = {k: [] for k in (
        "list_name", "entry_id", "listed_name", "is_alias", "w_dob", "w_country", "program",
        "name_keys", "name_parts", "name_compact", "short_name",
    )}  # fmt: skip
    for e in watchlist.to_pylist():
        names = [(e["name"], False)] + [
            (a.strip(), True) for a in (e.get("aliases") or "").split(";") if a.strip()
        ]
        seen = set()
        for nm, alias in names:
            f = name_features(nm, nm if any("\u3400" <= c <= "\u9fff" for c in nm) else None)
            if not f.name_keys or f.name_key in seen:
                continue
            seen.add(f.name_key)
            compact = (f.name_norm or f.native_pinyin or "").replace(" ", "")
            parts = (f.name_norm or f.native_pinyin or "").split()
            rows["list_name"].append(e["list_name"])
            rows["entry_id"].append(e["entry_id"])
            rows["listed_name"].append(nm)
            rows["is_alias"].append(alias)
            rows["w_dob"].append(None if e.get("birth_date") is None else str(e["birth_date"]))
            rows["w_country"].append(e.get("country"))
            rows["program"].append(e.get("program"))
            rows["name_keys"].append(f.name_keys)
            rows["name_parts"].append(f.name_parts)
            rows["name_compact"].append(compact)
            rows["short_name"].append(len(compact) <= SHORT_NAME_LETTERS and len(parts) <= 2)
    return pa.table(rows, schema=pa.schema([
        ("list_name", pa.string()), ("entry_id", pa.string()), ("listed_name", pa.string()),
        ("is_alias", pa.bool_()), ("w_dob", pa.string()), ("w_country", pa.string()), ("program", pa.string()),
        ("name_keys", pa.list_(pa.string())), ("name_parts", pa.list_(pa.string())),
        ("name_compact", pa.string()), ("short_name", pa.bool_()),
    ]))  # fmt: skip


def candidates_sql(parties: str = PARTIES, entries: str = ENTRIES) -> str:
    """Scored (party, listed name) candidates from the two blocking paths."""
    return f"""
WITH pk AS (
  SELECT unique_id, entity_id, unnest(name_keys) AS k FROM {parties}
),
key_entities AS (
  SELECT k, count(DISTINCT entity_id) AS n_entities FROM pk GROUP BY k
),
wk AS (
  SELECT entry_id, listed_name, unnest(name_keys) AS k FROM {entries}
),
by_key AS (
  SELECT pk.unique_id, wk.entry_id, wk.listed_name, 1.0 AS name_score, min(ke.n_entities) AS n_entities
  FROM pk JOIN wk ON pk.k = wk.k JOIN key_entities ke ON ke.k = pk.k
  GROUP BY pk.unique_id, wk.entry_id, wk.listed_name
),
pp AS (
  SELECT unique_id, dob, name_compact, unnest(name_parts) AS part FROM {parties} WHERE dob IS NOT NULL
),
wp AS (
  SELECT entry_id, listed_name, w_dob, name_compact, unnest(name_parts) AS part FROM {entries}
  WHERE w_dob IS NOT NULL
),
by_spelling AS (
  SELECT pp.unique_id, wp.entry_id, wp.listed_name,
         max(jaro_winkler_similarity(pp.name_compact, wp.name_compact)) AS name_score,
         CAST(NULL AS BIGINT) AS n_entities
  FROM pp JOIN wp ON pp.dob = wp.w_dob AND pp.part = wp.part
  WHERE jaro_winkler_similarity(pp.name_compact, wp.name_compact) >= {FUZZY_JW}
  GROUP BY pp.unique_id, wp.entry_id, wp.listed_name
),
cand AS (
  SELECT unique_id, entry_id, listed_name, max(name_score) AS name_score, min(n_entities) AS n_entities
  FROM (SELECT * FROM by_key UNION ALL SELECT * FROM by_spelling) u
  GROUP BY unique_id, entry_id, listed_name
)
SELECT
  c.unique_id, p.entity_id, c.entry_id, c.listed_name, e.list_name, e.program, e.short_name,
  c.name_score, coalesce(c.n_entities, 1) AS n_entities,
  p.name, p.name_native, p.dob, e.w_dob,
  CASE WHEN p.dob IS NOT NULL AND e.w_dob IS NOT NULL AND p.dob = e.w_dob THEN 1 ELSE 0 END AS dob_agree,
  CASE WHEN p.dob IS NOT NULL AND e.w_dob IS NOT NULL AND p.dob <> e.w_dob THEN 1 ELSE 0 END AS dob_conflict,
  CASE WHEN e.w_country IS NOT NULL AND (p.country = e.w_country OR p.nationality = e.w_country)
       THEN 1 ELSE 0 END AS country_agree
FROM cand c
JOIN {parties} p ON p.unique_id = c.unique_id
JOIN {entries} e ON e.entry_id = c.entry_id AND e.listed_name = c.listed_name
ORDER BY c.entry_id, c.unique_id, c.listed_name
"""


def decide(cand: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Apply the screening rule (module docstring); returns (hits, number of ambiguous entries)."""
    if cand.empty:
        return cand, 0
    c = cand.copy()
    rarity = 1.0 / (1.0 + (c["n_entities"].clip(lower=1) - 1).pow(0.5))
    c["score"] = (
        (0.6 * c["name_score"] * (0.5 + 0.5 * rarity) + 0.25 * c["dob_agree"] + 0.15 * c["country_agree"])
        .clip(0, 1)
        .round(4)
    )
    common = c["short_name"] | (c["n_entities"] >= COMMON_NAME_ENTITIES)
    named = c["name_score"] >= NAME_MATCH
    distinctive_ok = ~common & named & (c["dob_conflict"] == 0)
    common_ok = common & named & (c["dob_agree"] == 1) & (c["country_agree"] == 1)
    c = c[distinctive_ok | common_ok].copy()
    c["common"] = common[c.index]
    # best listed name per (entity, entry), then the best party record of that entity
    c = c.sort_values(["entry_id", "entity_id", "score", "unique_id"], ascending=[True, True, False, True])
    c = c.drop_duplicates(["entry_id", "entity_id"], keep="first")
    per_entry = c[c["common"]].groupby("entry_id")["entity_id"].transform("nunique")
    ambiguous = per_entry[per_entry > MAX_AMBIGUOUS]
    n_ambiguous = int(c.loc[ambiguous.index, "entry_id"].nunique()) if len(ambiguous) else 0
    c = c.drop(index=ambiguous.index)
    return c.sort_values(["entry_id", "unique_id"]).reset_index(drop=True), n_ambiguous


def hits_table(hits: pd.DataFrame) -> pa.Table:
    """The hits in the ``detector_hits`` layout."""
    schema = table("screening_hits").arrow_schema()
    rows = []
    for h in hits.to_dict("records"):
        metrics = {
            "list": h["list_name"],
            "entry_id": h["entry_id"],
            "listed_name": h["listed_name"],
            "program": h["program"],
            "party_name": h["name"] if isinstance(h["name"], str) else h["name_native"],
            "score": h["score"],
            "name_score": round(float(h["name_score"]), 4),
            "birth_date_agrees": bool(h["dob_agree"]),
            "country_agrees": bool(h["country_agree"]),
            "common_name": bool(h["common"]),
            "entities_sharing_name": int(h["n_entities"]),
            "entity_id": h["entity_id"],
        }
        rows.append(
            {
                "hit_id": f"{INDICATOR}:{h['entry_id']}:{h['unique_id']}",
                "detector_id": DETECTOR_ID,
                "indicator_ids": INDICATOR,
                "entity_kind": "party",
                "entity_id": h["unique_id"],
                "window_start": None,
                "window_end": None,
                "metrics": json.dumps(metrics, sort_keys=True, ensure_ascii=False, default=str),
                "evidence_txn_ids": None,
                "severity": float(h["score"]),
            }
        )
    return pa.Table.from_pylist(rows, schema=schema) if rows else schema.empty_table()


def screen(
    engine: Engine, features: pa.Table, entities: pa.Table, watchlist: pa.Table
) -> tuple[pa.Table, int]:
    """Screen ``features`` (parties) against ``watchlist``; returns (hits table, ambiguous entries)."""
    ent = entities.select(["party_id", "entity_id"]).rename_columns(["unique_id", "entity_id"])
    engine.register_arrow("resolve_entity_of", ent)
    engine.register_arrow("resolve_features_all", features)
    parties = engine.query(
        "SELECT f.unique_id, coalesce(e.entity_id, f.unique_id) AS entity_id, f.name, f.name_native, "
        "f.name_keys, f.name_parts, f.name_compact, f.dob, f.country, p.nationality "
        "FROM resolve_features_all f LEFT JOIN resolve_entity_of e ON e.unique_id = f.unique_id "
        "LEFT JOIN parties p ON p.party_id = f.unique_id",
        label="screening parties",
    )
    engine.register_arrow(PARTIES, parties)
    engine.register_arrow(ENTRIES, entry_names(watchlist))
    cand = engine.query(candidates_sql(), label="screening candidates").to_pandas()
    hits, ambiguous = decide(cand)
    return hits_table(hits), ambiguous


def screen_workspace(engine: Engine, features: pa.Table) -> dict:
    """Screen the workspace's parties against its ``watchlist`` and write ``screening_hits``."""
    ws = engine.workspace
    hits, ambiguous = screen(engine, features, ws.read("resolved_entities"), ws.read("watchlist"))
    engine.write_arrow("screening_hits", hits)
    return {"hits": hits.num_rows, "ambiguous_entries": ambiguous}
