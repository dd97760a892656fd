"""Spark parity: Splink on the Spark engine's session gives the same entities as on DuckDB."""

from __future__ import annotations

import os

import pytest

from moneytrail.resolve import resolve_workspace
from moneytrail.resolve.synthetic import simulator_parties
from moneytrail.workspace import Workspace

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.xdist_group("spark")]


def test_spark_gives_the_same_clusters_as_duckdb(tmp_path):
    pytest.importorskip("pyspark")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # persons and firms, so the organisation branch (its term-frequency lookup) runs on Spark too
    parties, labels = simulator_parties(40, 3, n_companies=8)
    out = {}
    for engine in ("duckdb", "spark"):
        ws = Workspace(tmp_path / engine).ensure()
        ws.write("parties", parties)
        ws.write("party_labels", labels, "truth")
        summary = resolve_workspace(ws, engine_name=engine, progress=False)
        assert summary["engine"] == engine
        out[engine] = ws.read("resolved_entities").select(["party_id", "entity_id"])
    assert out["duckdb"].num_rows == parties.num_rows
    assert out["spark"].equals(out["duckdb"])
    assert len(set(out["spark"].column("entity_id").to_pylist())) < parties.num_rows
