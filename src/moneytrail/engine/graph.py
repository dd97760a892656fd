"""Graph primitives written once as portable SQL, run by any engine.

Connected components are found by iterative minimum-label propagation with pointer jumping: each
round every node takes the smallest label among itself and its neighbours, then the label of
that label (which roughly halves the distance to the component's root, so a chain of n nodes
needs about log2(n) rounds rather than n). Each round is written to a Parquet checkpoint under the
workspace's ``.tmp/``, which keeps Spark's query plans short, and the loop stops when no label
changes. A component's id is the smallest node id in it (string order), so every engine and the
in-memory igraph path give identical ids.

k-hop expansion walks outwards from seed nodes one hop per round, also checkpointed.

The ``*_sql`` functions only build SQL; :func:`iterative_components` and :func:`k_hop` drive an
engine. Node ids are compared as strings (``VARCHAR``).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from moneytrail.errors import ConfigError, EngineError

if TYPE_CHECKING:
    from moneytrail.engine.base import Engine

COMPONENTS_SCHEMA = pa.schema([("node", pa.string()), ("component", pa.string())])
HOPS_SCHEMA = pa.schema([("node", pa.string()), ("hops", pa.int64())])
DEFAULT_MAX_ITERATIONS = 100


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# -- pure SQL builders --------------------------------------------------------------------------
def edge_list_sql(edges_sql: str, src: str = "src", dst: str = "dst") -> str:
    """Directed edges ``(a, b)`` as strings, without NULL ends, from any query with ``src``/``dst``."""
    s, d = _ident(src), _ident(dst)
    return (
        f"SELECT CAST(e.{s} AS VARCHAR) AS a, CAST(e.{d} AS VARCHAR) AS b "
        f"FROM ({edges_sql}) AS e WHERE e.{s} IS NOT NULL AND e.{d} IS NOT NULL"
    )


def undirected_edges_sql(edges_sql: str, src: str = "src", dst: str = "dst") -> str:
    """Both directions of every edge, once each: the adjacency used for propagation."""
    one_way = edge_list_sql(edges_sql, src, dst)
    return (
        f"SELECT DISTINCT a, b FROM (SELECT a, b FROM ({one_way}) AS f "
        f"UNION ALL SELECT b AS a, a AS b FROM ({one_way}) AS r) AS both_ways"
    )


def initial_labels_sql(edges_view: str) -> str:
    """Each node's first label: the smallest of itself and its neighbours."""
    return f"SELECT a AS node, LEAST(a, MIN(b)) AS label FROM {edges_view} GROUP BY a"


def propagate_labels_sql(edges_view: str, labels_view: str) -> str:
    """One round: take the neighbours' smallest label, then jump to the label's own label."""
    return f"""
WITH neighbour_min AS (
    SELECT e.a AS node, MIN(l.label) AS label
    FROM {edges_view} AS e JOIN {labels_view} AS l ON l.node = e.b
    GROUP BY e.a
), merged AS (
    SELECT l.node, LEAST(l.label, COALESCE(n.label, l.label)) AS label
    FROM {labels_view} AS l LEFT JOIN neighbour_min AS n ON n.node = l.node
)
SELECT m.node, LEAST(m.label, COALESCE(j.label, m.label)) AS label
FROM merged AS m LEFT JOIN merged AS j ON j.node = m.label
""".strip()


def changed_labels_sql(old_view: str, new_view: str) -> str:
    """How many nodes changed label between two rounds."""
    return (
        f"SELECT COUNT(*) AS changed FROM {new_view} AS n JOIN {old_view} AS o "
        f"ON o.node = n.node WHERE n.label <> o.label"
    )


def components_result_sql(labels_view: str) -> str:
    return f"SELECT node, label AS component FROM {labels_view} ORDER BY node"


def seeds_sql_for(seeds_sql: str, column: str) -> str:
    c = _ident(column)
    return f"SELECT DISTINCT CAST(s.{c} AS VARCHAR) AS node FROM ({seeds_sql}) AS s WHERE s.{c} IS NOT NULL"


def hop_zero_sql(seeds_view: str) -> str:
    return f"SELECT node, CAST(0 AS BIGINT) AS hops FROM {seeds_view}"


def next_hop_sql(edges_view: str, visited_view: str, hop: int) -> str:
    """Nodes first reached at ``hop``: neighbours of the previous frontier not yet visited."""
    return f"""
SELECT node, hops FROM {visited_view}
UNION ALL
SELECT DISTINCT e.b AS node, CAST({int(hop)} AS BIGINT) AS hops
FROM {edges_view} AS e
JOIN {visited_view} AS f ON f.node = e.a AND f.hops = {int(hop) - 1}
LEFT JOIN {visited_view} AS seen ON seen.node = e.b
WHERE seen.node IS NULL
""".strip()


def hops_result_sql(visited_view: str) -> str:
    return f"SELECT node, hops FROM {visited_view} ORDER BY node"


# -- drivers ------------------------------------------------------------------------------------
@contextmanager
def _scratch(engine: Engine) -> Iterator[_Scratch]:
    scratch = _Scratch(engine)
    try:
        yield scratch
    finally:
        scratch.cleanup()


class _Scratch:
    """Checkpoints of one graph computation: Parquet files under ``.tmp/`` and their views."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.prefix = f"_mt_graph_{uuid.uuid4().hex[:8]}"
        self.dir = engine.workspace.root / ".tmp" / self.prefix
        self.views: list[str] = []

    def checkpoint(self, name: str, sql: str, *, label: str) -> tuple[str, int]:
        """Materialise ``sql`` as a Parquet checkpoint and register it; returns (view, rows)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        view = f"{self.prefix}_{name}"
        path = self.dir / f"{name}.parquet"
        try:
            rows = self.engine._copy_to_parquet(sql, path)
        except Exception as e:
            raise EngineError(f"The {self.engine.name} engine failed on {label}: {e}", sql=sql) from e
        self.engine._register_parquet(view, Path(path))
        self.views.append(view)
        return view, rows

    def cleanup(self) -> None:
        for view in self.views:
            self.engine._unregister(view)
        shutil.rmtree(self.dir, ignore_errors=True)


def iterative_components(
    engine: Engine,
    edges_sql: str,
    *,
    src: str = "src",
    dst: str = "dst",
    max_iterations: int = DEFAULT_MAX_ITERATIONS,
) -> pa.Table:
    """Connected components by label propagation with Parquet checkpoints (any engine)."""
    with _scratch(engine) as s:
        edges, n_edges = s.checkpoint("edges", undirected_edges_sql(edges_sql, src, dst), label="graph edges")
        if n_edges == 0:
            return COMPONENTS_SCHEMA.empty_table()
        labels, _ = s.checkpoint("labels_0", initial_labels_sql(edges), label="initial labels")
        for i in range(1, max_iterations + 1):
            new, _ = s.checkpoint(
                f"labels_{i}", propagate_labels_sql(edges, labels), label=f"components round {i}"
            )
            changed = engine.scalar(changed_labels_sql(labels, new), label="components convergence")
            labels = new
            if not changed:
                out = engine.query(components_result_sql(labels), label="components")
                return out.cast(COMPONENTS_SCHEMA)
    raise EngineError(
        f"Connected components did not converge in {max_iterations} rounds; "
        "raise max_iterations or check the edge query."
    )


def k_hop(
    engine: Engine,
    edges_sql: str,
    seeds_sql: str,
    k: int,
    *,
    src: str = "src",
    dst: str = "dst",
    seed: str | None = None,
    directed: bool = False,
) -> pa.Table:
    """Nodes within ``k`` hops of the seeds, with their hop distance (seeds are at 0)."""
    if k < 0:
        raise ConfigError(f"The 'k' option must be zero or more. Got {k} instead.")
    if seed is None:
        seed = engine.query(f"SELECT * FROM ({seeds_sql}) AS s LIMIT 0", label="k-hop seeds").schema.names[0]
    edge_sql = edge_list_sql(edges_sql, src, dst) if directed else undirected_edges_sql(edges_sql, src, dst)
    with _scratch(engine) as s:
        edges, _ = s.checkpoint("edges", f"SELECT DISTINCT a, b FROM ({edge_sql}) AS x", label="k-hop edges")
        seeds, _ = s.checkpoint("seeds", seeds_sql_for(seeds_sql, seed), label="k-hop seeds")
        visited, rows = s.checkpoint("hops_0", hop_zero_sql(seeds), label="k-hop start")
        for hop in range(1, k + 1):
            visited, new_rows = s.checkpoint(
                f"hops_{hop}", next_hop_sql(edges, visited, hop), label=f"hop {hop}"
            )
            if new_rows == rows:  # nothing new reached: further hops cannot add nodes
                break
            rows = new_rows
        return engine.query(hops_result_sql(visited), label="k-hop").cast(HOPS_SCHEMA)


def components_in_memory(edges: pa.Table) -> pa.Table:
    """Connected components of an edge table ``(a, b)`` with igraph; same ids as the SQL path.

    Vertices are numbered in sorted string order, so the smallest vertex number in a component
    is its smallest node id.
    """
    import igraph

    if edges.num_rows == 0:
        return COMPONENTS_SCHEMA.empty_table()
    a = edges.column("a").combine_chunks().cast(pa.string())
    b = edges.column("b").combine_chunks().cast(pa.string())
    names = pc.unique(pa.concat_arrays([a, b]))
    names = names.take(pc.sort_indices(names))
    ia = pc.index_in(a, value_set=names).to_numpy()
    ib = pc.index_in(b, value_set=names).to_numpy()
    g = igraph.Graph(n=len(names), edges=np.column_stack([ia, ib]).tolist(), directed=False)
    membership = np.asarray(g.connected_components(mode="weak").membership, dtype=np.int64)
    smallest = np.full(membership.max() + 1, len(names), dtype=np.int64)
    np.minimum.at(smallest, membership, np.arange(len(names), dtype=np.int64))
    return pa.table(
        {"node": names, "component": names.take(pa.array(smallest[membership]))}, schema=COMPONENTS_SCHEMA
    )
