"""Graph primitives on the DuckDB engine: portable SQL path and igraph path give the same answer."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from moneytrail.engine import graph as g
from moneytrail.engine import make_engine
from moneytrail.errors import ConfigError, EngineError

pytestmark = pytest.mark.duckdb

# A chain whose ids are not in chain order (so propagation needs several rounds), a triangle with
# a duplicate edge, a reversed edge and a self-loop, a lone pair, and an edge with a missing end.
CHAIN = ["m07", "m03", "m11", "m01", "m09", "m05", "m12", "m02", "m10", "m04", "m08", "m06"]
EDGES = (
    [(CHAIN[i], CHAIN[i + 1]) for i in range(len(CHAIN) - 1)]
    + [("t_b", "t_c"), ("t_c", "t_a"), ("t_a", "t_b"), ("t_b", "t_a"), ("t_a", "t_b"), ("t_c", "t_c")]
    + [("p2", "p1")]
    + [("lonely", None)]
)
EXPECTED = {
    **{n: "m01" for n in CHAIN},
    "t_a": "t_a",
    "t_b": "t_a",
    "t_c": "t_a",
    "p1": "p1",
    "p2": "p1",
}
EDGES_SQL = "SELECT src, dst FROM edges"


def expected_components(edges: list[tuple]) -> dict[str, str]:
    """Union-find reference: smallest id (string order) per component."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        if a is None or b is None:
            continue
        a, b = str(a), str(b)
        parent.setdefault(a, a)
        parent.setdefault(b, b)
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {n: find(n) for n in parent}


@pytest.fixture
def eng(workspace):
    workspace.write("edges", pa.table({"src": [a for a, _ in EDGES], "dst": [b for _, b in EDGES]}))
    with make_engine("duckdb", workspace) as e:
        yield e


@pytest.mark.parametrize("method", ["iterative", "memory", "auto"])
def test_connected_components_known_graph(eng, method):
    out = eng.connected_components(EDGES_SQL, method=method)
    assert out.schema == g.COMPONENTS_SCHEMA
    assert out.column("node").to_pylist() == sorted(EXPECTED)
    assert (
        dict(zip(out.column("node").to_pylist(), out.column("component").to_pylist(), strict=True))
        == EXPECTED
    )


def test_components_paths_agree_on_random_graph(eng):
    rng = np.random.default_rng(7)
    n = 300
    a = rng.integers(0, n, 260)
    b = rng.integers(0, n, 260)
    # integer ids: components are named by the smallest id in *string* order ("10" < "9")
    eng.register_arrow("rand_edges", pa.table({"x": a, "y": b}))
    sql = "SELECT x, y FROM rand_edges"
    iterative = eng.connected_components(sql, src="x", dst="y", method="iterative")
    memory = eng.connected_components(sql, src="x", dst="y", method="memory")
    assert iterative.equals(memory)
    want = expected_components(list(zip(a.tolist(), b.tolist(), strict=True)))
    got = dict(
        zip(iterative.column("node").to_pylist(), iterative.column("component").to_pylist(), strict=True)
    )
    assert got == want


def test_components_leave_no_scratch(eng, workspace):
    eng.connected_components(EDGES_SQL, method="iterative")
    tmp = workspace.root / ".tmp"
    assert not any(p.name.startswith("_mt_graph_") for p in tmp.iterdir())
    assert not [
        t
        for t in eng.query("SELECT view_name FROM duckdb_views()").column(0).to_pylist()
        if "_mt_graph_" in t
    ]


def test_components_of_empty_graph(eng):
    for method in ("iterative", "memory"):
        out = eng.connected_components("SELECT src, dst FROM edges WHERE src = 'nobody'", method=method)
        assert out.num_rows == 0 and out.schema == g.COMPONENTS_SCHEMA


def test_components_reject_unknown_method(eng):
    with pytest.raises(ConfigError, match="'method' option"):
        eng.connected_components(EDGES_SQL, method="magic")


def test_components_stop_after_max_iterations(eng):
    with pytest.raises(EngineError, match="did not converge in 1 rounds"):
        eng.connected_components(EDGES_SQL, method="iterative", max_iterations=1)


def test_k_hop_undirected(eng):
    out = eng.k_hop(EDGES_SQL, "SELECT 'm01' AS account", 2)
    assert out.schema == g.HOPS_SCHEMA
    # m01 sits between m11 and m09 in the chain; two hops reach m03 and m05 too
    assert dict(zip(out.column("node").to_pylist(), out.column("hops").to_pylist(), strict=True)) == {
        "m01": 0,
        "m11": 1,
        "m09": 1,
        "m03": 2,
        "m05": 2,
    }


def test_k_hop_directed_and_unknown_seed(eng):
    out = eng.k_hop(EDGES_SQL, "SELECT * FROM (VALUES ('m01'), ('nowhere')) v(n)", 5, directed=True)
    got = dict(zip(out.column("node").to_pylist(), out.column("hops").to_pylist(), strict=True))
    # downstream only: m01 -> m09 -> m05 -> m12 -> m02 -> m10; an unknown seed stays at 0
    assert got == {"m01": 0, "m09": 1, "m05": 2, "m12": 3, "m02": 4, "m10": 5, "nowhere": 0}


def test_k_hop_stops_when_nothing_new(eng):
    out = eng.k_hop(EDGES_SQL, "SELECT 'p1' AS n", 50)
    assert out.to_pylist() == [{"node": "p1", "hops": 0}, {"node": "p2", "hops": 1}]


def test_k_hop_rejects_negative_k(eng):
    with pytest.raises(ConfigError, match="'k' option"):
        eng.k_hop(EDGES_SQL, "SELECT 'p1' AS n", -1)
