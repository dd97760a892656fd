"""From scored pairs to resolved entities: clustering, the strongest link per party and its
explanation, and ``same_as`` links.

Clusters are connected components of the pairs at or above the cluster threshold. An entity's id
is the smallest party_id in it, so ids are stable across runs and engines; in an incremental run
an entity that new records join keeps its earlier id.

The components come from scipy over integer codes of the party ids; everything after that is one
set-based DuckDB query over Arrow tables (the same on either engine, since the scored pairs are
already local by then).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from moneytrail.resolve.explain import explanations_sql, with_all_columns
from moneytrail.schema import table


def strong_edges(edges: pa.Table, threshold: float) -> pa.Table:
    """The pairs that join a cluster."""
    return edges.filter(pc.greater_equal(edges.column("match_probability"), threshold))


def _codes(ids: pa.Array, values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Position of each value in ``ids`` (-1 when absent)."""
    return pc.fill_null(pc.index_in(values, value_set=ids), -1).to_numpy().astype(np.int64)


def cluster(party_ids: pa.Array | list[str], edges: pa.Table, prior: pa.Table | None = None) -> pa.Table:
    """Entity id per party (``party_id``, ``entity_id``, sorted by party): connected components of
    ``edges`` and of ``prior``.

    ``prior`` holds earlier assignments (``party_id``, ``entity_id``); parties of one earlier entity
    stay together, a new pair can merge two earlier entities, and a component holding earlier
    entities keeps the smallest earlier entity id, so entity ids stay stable when new records join.
    """
    ids = pc.unique(
        party_ids if isinstance(party_ids, pa.Array | pa.ChunkedArray) else pa.array(party_ids, pa.string())
    )
    ids = ids.take(pc.sort_indices(ids))
    n = len(ids)
    pairs = [(edges.column("unique_id_l"), edges.column("unique_id_r"))] if edges.num_rows else []
    if prior is not None and prior.num_rows:
        pairs.append((prior.column("party_id"), prior.column("entity_id")))
    r = np.concatenate([_codes(ids, a) for a, _ in pairs]) if pairs else np.empty(0, np.int64)
    c = np.concatenate([_codes(ids, b) for _, b in pairs]) if pairs else np.empty(0, np.int64)
    ok = (r >= 0) & (c >= 0)
    graph = coo_matrix((np.ones(int(ok.sum()), dtype=np.int8), (r[ok], c[ok])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    # ids are sorted, so the first member seen of each component is its smallest party id
    _, first_pos = np.unique(labels, return_index=True)
    entity = first_pos[labels]
    if prior is not None and prior.num_rows:
        members, earlier = _codes(ids, prior.column("party_id")), _codes(ids, prior.column("entity_id"))
        ok = (members >= 0) & (earlier >= 0)
        # the smallest earlier entity id of each component (codes sort like the ids)
        kept = np.full(n, n, dtype=np.int64)
        np.minimum.at(kept, labels[members[ok]], earlier[ok])
        entity = np.where(kept[labels] < n, kept[labels], entity)
    return pa.table({"party_id": ids, "entity_id": ids.take(pa.array(entity))})


def _inside_sql(edges: str, entity_of: str) -> str:
    """The pairs of ``edges`` whose two parties are in one entity."""
    return f"""
SELECT e.* FROM {edges} e
JOIN {entity_of} a ON a.party_id = e.unique_id_l
JOIN {entity_of} b ON b.party_id = e.unique_id_r
WHERE a.entity_id = b.entity_id"""


def entity_table(entity_of: pa.Table, edges: pa.Table, previous: pa.Table | None = None) -> pa.Table:
    """The ``resolved_entities`` table: one row per party with its strongest in-entity link.

    The strongest link is the heaviest pair, ties to the smaller other party id. Parties with no
    new link keep the link and explanation of ``previous`` (incremental runs).
    """
    schema = table("resolved_entities").arrow_schema()
    if previous is None:
        previous = schema.empty_table()
    with duckdb.connect() as con:
        con.register("entity_of", entity_of)
        con.register("edges", with_all_columns(edges))
        con.register("previous", previous)
        out = con.sql(f"""
WITH inside AS ({_inside_sql("edges", "entity_of")}),
sized AS (
  SELECT party_id, entity_id, count(*) OVER (PARTITION BY entity_id) AS entity_size FROM entity_of
),
sides AS (
  SELECT unique_id_l AS me, unique_id_r AS other, unique_id_l, unique_id_r, match_weight, match_probability
  FROM inside
  UNION ALL
  SELECT unique_id_r, unique_id_l, unique_id_l, unique_id_r, match_weight, match_probability FROM inside
),
best AS (
  SELECT * FROM sides
  QUALIFY row_number() OVER (PARTITION BY me ORDER BY match_weight DESC, other) = 1
),
chosen AS (
  SELECT i.* FROM inside i
  SEMI JOIN best b ON b.unique_id_l = i.unique_id_l AND b.unique_id_r = i.unique_id_r
),
explained AS (
  SELECT unique_id_l, unique_id_r, explanation FROM ({explanations_sql("chosen")})
)
SELECT
  s.party_id, s.entity_id, s.entity_size,
  CASE WHEN b.me IS NOT NULL THEN b.match_weight WHEN s.entity_size > 1 THEN p.match_weight END AS match_weight,
  CASE WHEN b.me IS NOT NULL THEN b.match_probability WHEN s.entity_size > 1 THEN p.match_probability END
    AS match_probability,
  CASE WHEN b.me IS NOT NULL THEN b.other WHEN s.entity_size > 1 THEN p.linked_to END AS linked_to,
  CASE WHEN b.me IS NOT NULL THEN x.explanation WHEN s.entity_size > 1 THEN p.explanation END AS explanation
FROM sized s
LEFT JOIN best b ON b.me = s.party_id
LEFT JOIN explained x ON x.unique_id_l = b.unique_id_l AND x.unique_id_r = b.unique_id_r
LEFT JOIN previous p ON p.party_id = s.party_id
ORDER BY s.party_id
""").to_arrow_table()
    return out.cast(schema)


def same_as_links(edges: pa.Table, entity_of: pa.Table) -> pa.Table:
    """``links`` rows of kind same_as for the pairs inside one entity (weight = match weight)."""
    schema = table("links").arrow_schema()
    with duckdb.connect() as con:
        con.register("entity_of", entity_of)
        con.register("edges", edges.select(["unique_id_l", "unique_id_r", "match_weight"]))
        inside = con.sql(f"""
SELECT unique_id_l, unique_id_r, CAST(match_weight AS DOUBLE) AS weight
FROM ({_inside_sql("edges", "entity_of")})
ORDER BY unique_id_l, unique_id_r
""").to_arrow_table()
    n = inside.num_rows
    return pa.table(
        {
            "party_a": inside.column("unique_id_l"),
            "party_b": inside.column("unique_id_r"),
            "kind": pa.array(["same_as"] * n, pa.string()),
            "weight": pc.round(inside.column("weight"), 4),
            "source": pa.array(["resolve"] * n, pa.string()),
            "source_id": pa.nulls(n, pa.string()),
        }
    ).cast(schema)
