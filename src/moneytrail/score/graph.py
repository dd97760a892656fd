"""Graph features of the money-flow graph, computed in memory with igraph.

The edge list comes through the engine (portable SQL, aggregated per account pair), so the same
code runs whichever engine stored the data. Connected components come from the engine when it
offers them (``engine.connected_components``); everything else (PageRank, communities, cores,
clustering, proximity to seeds) is igraph, which is fast and keeps parallel edges apart.
"""

from __future__ import annotations

import random

import igraph as ig
import numpy as np
import pandas as pd

GRAPH_FEATURES = [
    "pagerank",
    "degree_in",
    "degree_out",
    "coreness",
    "clustering",
    "component_size",
    "community_size",
    "community_value_share",
    "seed_proximity",
    "community_hit_share",
]


def build_graph(nodes: list[str], edges: pd.DataFrame) -> tuple[ig.Graph, dict[str, int]]:
    """A directed igraph over ``nodes`` with one edge per (src, dst) row of ``edges`` (count, value)."""
    index = {n: i for i, n in enumerate(nodes)}
    src = edges["src"].map(index)
    dst = edges["dst"].map(index)
    keep = src.notna() & dst.notna()
    g = ig.Graph(n=len(nodes), directed=True)
    pairs = np.column_stack([src[keep].astype(np.int64), dst[keep].astype(np.int64)])
    g.add_edges(pairs.tolist())
    g.es["n"] = edges.loc[keep, "n"].astype(float).tolist()
    g.es["value"] = edges.loc[keep, "value"].astype(float).fillna(0.0).tolist()
    return g, index


def communities(g: ig.Graph, seed: int = 0) -> np.ndarray:
    """Community id per vertex (Louvain on the undirected, count-weighted graph; seeded)."""
    if g.vcount() == 0:
        return np.zeros(0, dtype=np.int64)
    u = g.as_undirected(mode="collapse", combine_edges={"n": "sum", "value": "sum"})
    # igraph draws from Python's `random`; a local seeded generator keeps runs byte-identical.
    ig.set_random_number_generator(random.Random(seed))
    try:
        part = u.community_multilevel(weights="n" if u.ecount() else None)
    finally:
        ig.set_random_number_generator(random)
    return np.asarray(part.membership, dtype=np.int64)


def graph_features(
    nodes: list[str],
    edges: pd.DataFrame,
    seeds: dict[str, float] | None = None,
    components: dict[str, str] | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Graph features per node; ``seeds`` maps risky accounts to a weight (detector severity).

    ``components`` maps a node to its connected-component id when the engine computed them;
    otherwise igraph's weakly connected components are used.
    """
    g, index = build_graph(nodes, edges)
    n = g.vcount()
    out = pd.DataFrame({"account_id": nodes})
    if n == 0:
        for f in GRAPH_FEATURES:
            out[f] = []
        out["community_id"] = []
        return out
    w = g.es["n"] if g.ecount() else None
    out["pagerank"] = np.asarray(g.pagerank(weights=w, directed=True)) * n
    out["degree_in"] = g.degree(mode="in")
    out["degree_out"] = g.degree(mode="out")
    simple = g.as_undirected(mode="collapse")
    out["coreness"] = simple.coreness()
    out["clustering"] = np.nan_to_num(simple.transitivity_local_undirected(mode="zero"))
    if components is not None:
        comp = pd.Series([components.get(v, v) for v in nodes])
    else:
        comp = pd.Series(g.connected_components(mode="weak").membership)
    out["component_size"] = comp.map(comp.value_counts()).to_numpy()
    memb = communities(g, seed=seed)
    cs = pd.Series(memb)
    out["community_id"] = memb
    out["community_size"] = cs.map(cs.value_counts()).to_numpy()
    # Share of the account's flow value that stays inside its community (closed loops of money).
    es = np.array([e.tuple for e in g.es]) if g.ecount() else np.zeros((0, 2), dtype=int)
    val = np.asarray(g.es["value"]) if g.ecount() else np.zeros(0)
    if len(es):
        same = memb[es[:, 0]] == memb[es[:, 1]]
        tot = np.bincount(es[:, 0], weights=val, minlength=n) + np.bincount(
            es[:, 1], weights=val, minlength=n
        )
        inside = np.bincount(es[:, 0], weights=val * same, minlength=n) + np.bincount(
            es[:, 1], weights=val * same, minlength=n
        )
        out["community_value_share"] = np.divide(inside, tot, out=np.zeros(n), where=tot > 0)
    else:
        out["community_value_share"] = 0.0
    seeds = {k: v for k, v in (seeds or {}).items() if k in index and v > 0}
    if seeds:
        reset = np.zeros(n)
        for k, v in seeds.items():
            reset[index[k]] = v
        ppr = np.asarray(simple.personalized_pagerank(reset=reset.tolist(), damping=0.7))
        out["seed_proximity"] = ppr * n
        hit = pd.Series(reset > 0, dtype=float)
        share = hit.groupby(cs).mean()
        out["community_hit_share"] = cs.map(share).to_numpy()
    else:
        out["seed_proximity"] = 0.0
        out["community_hit_share"] = 0.0
    return out
