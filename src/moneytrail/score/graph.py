"""Graph features of the money-flow graph, computed in memory with igraph.

The edge list comes through the engine (portable SQL, aggregated per account pair), so the same
code runs whichever engine stored the data; everything else (PageRank, components, communities,
cores, clustering, proximity to seeds) is igraph on that one in-memory graph.

igraph's PageRank solver splits its sums over OpenMP threads and adds them in a varying order, so
it runs on one thread here: the same graph always gives the same bits.

igraph runs on one core and holds the GIL throughout, so on a large graph :func:`graph_features_job`
runs it in a worker process while the engine computes the tabular features on the other cores.
"""

from __future__ import annotations

import pickle
import random
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import igraph as ig
import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from moneytrail.errors import EngineError

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

# From this many edges on, graph features are computed in a worker process (see the module doc);
# below it, starting the process costs more than the overlap saves.
WORKER_MIN_EDGES = 200_000


def build_graph(nodes, edges: pd.DataFrame) -> tuple[ig.Graph, np.ndarray, np.ndarray]:
    """A directed igraph over ``nodes`` with one edge per (src, dst) row of ``edges`` (count ``n``
    as an edge attribute).

    Returns the graph, its edges as an (m, 2) array of vertex positions and their values (numpy,
    kept off the graph); rows of ``edges`` with an end outside ``nodes`` are left out.
    """
    index = pd.Index(nodes)
    src, dst = _positions(index, edges["src"]), _positions(index, edges["dst"])
    keep = (src >= 0) & (dst >= 0)
    pairs = np.column_stack([src[keep], dst[keep]]).astype(np.int64)
    g = ig.Graph(n=len(index), edges=pairs, directed=True)
    g.es["n"] = edges["n"].to_numpy(float)[keep]
    return g, pairs, np.nan_to_num(edges["value"].to_numpy(float)[keep])


def _positions(index: pd.Index, values: pd.Series) -> np.ndarray:
    """Position of each of ``values`` in ``index`` (-1 where absent); by a lookup table when both
    hold small non-negative integers (the account codes), which is much faster than hashing."""
    v = values.to_numpy()
    if (
        len(index)
        and len(v)
        and index.dtype.kind in "iu"
        and v.dtype.kind in "iu"
        and index.is_unique
        and min(index.min(), v.min()) >= 0
        and max(index.max(), v.max()) < 4 * (len(index) + len(v))
    ):
        lut = np.full(int(max(index.max(), v.max())) + 1, -1, dtype=np.int64)
        lut[index.to_numpy()] = np.arange(len(index))
        return lut[v]
    return index.get_indexer(values)


def communities(g: ig.Graph, seed: int = 0, undirected: ig.Graph | None = None) -> np.ndarray:
    """Community id per vertex (Louvain on the undirected, count-weighted graph; seeded).

    ``undirected``: that graph when the caller already has it (edge attribute ``n`` summed).
    """
    if g.vcount() == 0:
        return np.zeros(0, dtype=np.int64)
    u = undirected or g.as_undirected(mode="collapse", combine_edges={"n": "sum"})
    # igraph draws from Python's `random`; a local seeded generator keeps runs byte-identical.
    ig.set_random_number_generator(random.Random(seed))
    try:
        part = u.community_multilevel(weights="n" if u.ecount() else None)
    finally:
        ig.set_random_number_generator(random)
    return np.asarray(part.membership, dtype=np.int64)


def graph_features(
    nodes,
    edges: pd.DataFrame,
    seeds: np.ndarray | None = None,
    ids=None,
    seed: int = 0,
) -> pd.DataFrame:
    """Graph features per node; ``seeds`` gives each node a risk weight (detector severity).

    ``ids`` (default ``nodes``) fill the result's ``account_id`` column, in node order.
    """
    g, es, val = build_graph(nodes, edges)
    n = g.vcount()
    out = pd.DataFrame({"account_id": list(nodes) if ids is None else ids})
    if n == 0:
        for f in GRAPH_FEATURES:
            out[f] = []
        out["community_id"] = []
        return out
    w = g.es["n"] if g.ecount() else None
    with threadpool_limits(limits=1, user_api="openmp"):
        out["pagerank"] = np.asarray(g.pagerank(weights=w, directed=True)) * n
    out["degree_in"] = g.degree(mode="in")
    out["degree_out"] = g.degree(mode="out")
    simple = g.as_undirected(mode="collapse", combine_edges={"n": "sum"})
    out["coreness"] = simple.coreness()
    out["clustering"] = np.nan_to_num(simple.transitivity_local_undirected(mode="zero"))
    comp = np.asarray(simple.connected_components().membership)
    out["component_size"] = np.bincount(comp)[comp]
    memb = communities(g, seed=seed, undirected=simple)
    out["community_id"] = memb
    out["community_size"] = np.bincount(memb)[memb]
    # Share of the account's flow value that stays inside its community (closed loops of money).
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
    reset = np.zeros(n) if seeds is None else np.maximum(np.nan_to_num(np.asarray(seeds, float)), 0.0)
    if reset.any():
        with threadpool_limits(limits=1, user_api="openmp"):
            ppr = np.asarray(simple.personalized_pagerank(reset=reset.tolist(), damping=0.7))
        out["seed_proximity"] = ppr * n
        hit = (reset > 0).astype(float)
        share = np.bincount(memb, weights=hit) / np.bincount(memb)
        out["community_hit_share"] = share[memb]
    else:
        out["seed_proximity"] = 0.0
        out["community_hit_share"] = 0.0
    return out


class _WorkerJob:
    """The graph features being computed by a worker process (see :func:`graph_features_job`)."""

    def __init__(self, proc: subprocess.Popen, out: Path):
        self.proc, self.out = proc, out

    def result(self) -> pd.DataFrame:
        code = self.proc.wait()
        if code != 0:
            raise EngineError(f"The graph-features worker process failed with exit code {code}.")
        with open(self.out, "rb") as f:
            return pickle.load(f)


class _DoneJob:
    def __init__(self, value: pd.DataFrame):
        self.value = value

    def result(self) -> pd.DataFrame:
        return self.value


@contextmanager
def graph_features_job(
    nodes,
    edges: pd.DataFrame,
    seeds: np.ndarray | None = None,
    ids=None,
    seed: int = 0,
    worker: bool | None = None,
) -> Iterator[_WorkerJob | _DoneJob]:
    """:func:`graph_features` as a job whose ``result()`` is the features: computed by a worker
    process when ``worker`` (default: when ``edges`` has at least :data:`WORKER_MIN_EDGES` rows),
    else at once in this process. The result is the same either way; leaving the block stops the
    worker.

    >>> with graph_features_job(codes, edges, seeds) as job:
    ...     tabular = engine.query(...)  # runs while the worker computes
    ...     graph = job.result()
    """
    if worker is None:
        worker = len(edges) >= WORKER_MIN_EDGES
    if not worker:
        yield _DoneJob(graph_features(nodes, edges, seeds=seeds, ids=ids, seed=seed))
        return
    # A fresh interpreter rather than multiprocessing: forking would copy the engine's running
    # threads, and spawning re-imports the caller's main module.
    with tempfile.TemporaryDirectory(prefix="moneytrail-graph-") as d:
        inp, out = Path(d) / "input.pickle", Path(d) / "output.pickle"
        with open(inp, "wb") as f:
            pickle.dump((nodes, edges, seeds, ids, seed), f, protocol=pickle.HIGHEST_PROTOCOL)
        proc = subprocess.Popen([sys.executable, "-m", "moneytrail.score.graph", str(inp), str(out)])
        try:
            yield _WorkerJob(proc, out)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()


def _worker_main(inp: str, out: str) -> None:
    with open(inp, "rb") as f:
        nodes, edges, seeds, ids, seed = pickle.load(f)
    result = graph_features(nodes, edges, seeds=seeds, ids=ids, seed=seed)
    with open(out, "wb") as f:
        pickle.dump(result, f, protocol=pickle.HIGHEST_PROTOCOL)


if __name__ == "__main__":
    _worker_main(sys.argv[1], sys.argv[2])
