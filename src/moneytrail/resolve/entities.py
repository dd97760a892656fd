"""From scored pairs to resolved entities: clustering, the strongest link per party and its
explanation, and ``same_as`` links.

Clusters are connected components of the pairs at or above the cluster threshold. An entity's id
is the smallest party_id in it, so ids are stable across runs and engines; in an incremental run
an entity that new records join keeps its earlier id.

Everything here is vectorised over Arrow and numpy: only the explanations of the chosen links are
built in Python, one per linked party at most.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from moneytrail.resolve.explain import explain_pair
from moneytrail.schema import table


def strong_edges(edges: pa.Table, threshold: float) -> pa.Table:
    """The pairs that join a cluster."""
    return edges.filter(pc.greater_equal(edges.column("match_probability"), threshold))


def _index(ids: pa.Array, values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return pc.index_in(values, value_set=ids).to_numpy(zero_copy_only=False).astype(np.int64)


def cluster(party_ids: list[str], edges: pa.Table, prior: dict[str, str] | None = None) -> dict[str, str]:
    """Entity id per party: connected components of ``edges`` (and of ``prior`` assignments).

    ``prior`` maps existing parties to their earlier entity ids; parties of one earlier entity stay
    together, and a new pair can merge two earlier entities.
    """
    ids_list = sorted(set(party_ids))
    ids = pa.array(ids_list, pa.string())
    rows = [_index(ids, edges.column("unique_id_l"))] if edges.num_rows else []
    cols = [_index(ids, edges.column("unique_id_r"))] if edges.num_rows else []
    if prior:
        members = [p for p, e in prior.items() if p != e]
        if members:
            rows.append(_index(ids, pa.array(members, pa.string())))
            cols.append(_index(ids, pa.array([prior[p] for p in members], pa.string())))
    r = np.concatenate(rows) if rows else np.empty(0, np.int64)
    c = np.concatenate(cols) if cols else np.empty(0, np.int64)
    ok = (r >= 0) & (c >= 0)
    n = len(ids_list)
    graph = coo_matrix((np.ones(int(ok.sum()), dtype=np.int8), (r[ok], c[ok])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    # ids are sorted, so the first member seen of each component is its smallest party id
    _, first_pos = np.unique(labels, return_index=True)
    rep = {int(labels[i]): ids_list[i] for i in first_pos}
    if prior:
        # a component holding earlier entities keeps the smallest earlier entity id, so entity
        # ids stay stable when new records join
        kept: dict[int, str] = {}
        for p, lab in zip(ids_list, labels.tolist(), strict=True):
            e = prior.get(p)
            if e is not None and (lab not in kept or e < kept[lab]):
                kept[lab] = e
        rep.update(kept)
    return {p: rep[lab] for p, lab in zip(ids_list, labels.tolist(), strict=True)}


def _inside(edges: pa.Table, entity_of: dict[str, str]) -> pa.Table:
    if not edges.num_rows:
        return edges
    left = [entity_of.get(p) for p in edges.column("unique_id_l").to_pylist()]
    right = [entity_of.get(p) for p in edges.column("unique_id_r").to_pylist()]
    return edges.filter(pa.array([a is not None and a == b for a, b in zip(left, right, strict=True)]))


def best_links(edges: pa.Table) -> dict[str, tuple[float, float, str, int]]:
    """For each party, its strongest pair: (match weight, probability, other party, edge row)."""
    if not edges.num_rows:
        return {}
    n = edges.num_rows
    long = pa.table(
        {
            "me": pa.concat_arrays(
                [edges.column("unique_id_l").combine_chunks(), edges.column("unique_id_r").combine_chunks()]
            ),
            "other": pa.concat_arrays(
                [edges.column("unique_id_r").combine_chunks(), edges.column("unique_id_l").combine_chunks()]
            ),
            "w": pa.concat_arrays([edges.column("match_weight").combine_chunks()] * 2),
            "p": pa.concat_arrays([edges.column("match_probability").combine_chunks()] * 2),
            "row": pa.array(np.concatenate([np.arange(n), np.arange(n)])),
        }
    )
    # by party, then strongest first, then the smaller other id (deterministic ties)
    long = long.take(
        pc.sort_indices(long, [("me", "ascending"), ("w", "descending"), ("other", "ascending")])
    )
    me = long.column("me").to_numpy(zero_copy_only=False)
    first = np.ones(len(me), dtype=bool)
    first[1:] = me[1:] != me[:-1]
    pick = long.filter(pa.array(first))
    return {
        m: (float(w), float(p), o, int(r))
        for m, w, p, o, r in zip(
            pick.column("me").to_pylist(),
            pick.column("w").to_pylist(),
            pick.column("p").to_pylist(),
            pick.column("other").to_pylist(),
            pick.column("row").to_pylist(),
            strict=True,
        )
    }


def _explanations(edges: pa.Table, rows: set[int]) -> dict[int, str]:
    if not rows:
        return {}
    picked = sorted(rows)
    sub = edges.take(pa.array(picked, pa.int64()))
    columns = {name: sub.column(name).to_pylist() for name in sub.column_names}
    out = {}
    for k, r in enumerate(picked):
        out[r] = explain_pair({name: values[k] for name, values in columns.items()})
    return out


def entity_table(
    entity_of: dict[str, str],
    edges: pa.Table,
    previous: pa.Table | None = None,
) -> pa.Table:
    """The ``resolved_entities`` table: one row per party with its strongest in-entity link.

    Parties with no new link keep the link and explanation of ``previous`` (incremental runs).
    """
    sizes: dict[str, int] = {}
    for e in entity_of.values():
        sizes[e] = sizes.get(e, 0) + 1
    inside = _inside(edges, entity_of)
    best = best_links(inside)
    text = _explanations(inside, {b[3] for b in best.values()})
    old: dict[str, dict] = {}
    if previous is not None and previous.num_rows:
        old = {r["party_id"]: r for r in previous.to_pylist()}
    out: dict[str, list] = {c: [] for c in table("resolved_entities").column_names}
    for pid in sorted(entity_of):
        ent = entity_of[pid]
        out["party_id"].append(pid)
        out["entity_id"].append(ent)
        out["entity_size"].append(sizes[ent])
        if pid in best:
            w, p, other, row = best[pid]
            why = text[row]
        elif pid in old and sizes[ent] > 1:
            r = old[pid]
            w, p, other, why = r["match_weight"], r["match_probability"], r["linked_to"], r["explanation"]
        else:
            w = p = other = why = None
        out["match_weight"].append(w)
        out["match_probability"].append(p)
        out["linked_to"].append(other)
        out["explanation"].append(why)
    return pa.table(out, schema=table("resolved_entities").arrow_schema())


def same_as_links(edges: pa.Table, entity_of: dict[str, str]) -> pa.Table:
    """``links`` rows of kind same_as for the pairs inside one entity (weight = match weight)."""
    schema = table("links").arrow_schema()
    inside = _inside(edges, entity_of)
    n = inside.num_rows
    if not n:
        return schema.empty_table()
    return pa.table(
        {
            "party_a": inside.column("unique_id_l").cast(pa.string()),
            "party_b": inside.column("unique_id_r").cast(pa.string()),
            "kind": pa.array(["same_as"] * n, pa.string()),
            "weight": pc.round(inside.column("match_weight").cast(pa.float64()), 4),
            "source": pa.array(["resolve"] * n, pa.string()),
            "source_id": pa.nulls(n, pa.string()),
        },
        schema=schema,
    )
