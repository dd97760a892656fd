"""Graph exports: GraphML loads in igraph, GEXF parses, with the expected nodes, edges and attributes."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import igraph as ig
import pytest

from moneytrail.investigate.reports import render_report
from moneytrail.workspace import Workspace
from tests.utils.report_fixtures import LEAD_ID, LINKS, NETWORK_PARTIES, build_report_workspace

# Seven money flows between parties (T01-T03 aggregate into one) plus the four known links.
EXPECTED_EDGES = 7 + len(LINKS)


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Workspace:
    return build_report_workspace(Workspace(tmp_path_factory.mktemp("graph") / "ws"))


def test_graphml_loads_in_igraph(ws, tmp_path):
    path = tmp_path / "lead.graphml"
    path.write_bytes(render_report(ws, LEAD_ID, "graphml").content)
    g = ig.Graph.Read_GraphML(str(path))
    assert g.vcount() == len(NETWORK_PARTIES)
    assert g.ecount() == EXPECTED_EDGES
    assert g.is_directed()
    assert sorted(g.vs["entity_id"]) == sorted(NETWORK_PARTIES)
    v = g.vs.find(entity_id="P3")
    assert v["role"] == "subject" and v["kind"] == "company"
    assert v["money_in_cad"] == pytest.approx(9500 + 9400 + 9800 + 20000)
    assert v["risk_score"] == pytest.approx(0.93)
    cash = g.es.find(_source=g.vs.find(entity_id="P8").index, _target=v.index)
    assert cash["count"] == 3 and cash["channel"] == "cash" and cash["amount_cad"] == pytest.approx(28700)
    assert cash["first_ts"] == "2024-03-01T09:00:00" and cash["last_ts"] == "2024-03-01T21:00:00"
    assert g.vs.find(entity_id="P4")["role"] == "counterparty"
    assert sorted(set(g.es["relation"])) == ["associate", "director_of", "family", "payment", "shares_phone"]


def test_gexf_has_the_same_network(ws):
    root = ET.fromstring(render_report(ws, LEAD_ID, "gexf").content)
    ns = {"g": "http://gexf.net/1.3"}
    nodes = root.findall(".//g:node", ns)
    edges = root.findall(".//g:edge", ns)
    assert len(nodes) == len(NETWORK_PARTIES) and len(edges) == EXPECTED_EDGES
    titles = {a.get("title") for a in root.findall(".//g:attributes[@class='node']/g:attribute", ns)}
    assert {"kind", "name", "role", "risk_score", "money_in_cad", "money_out_cad"} <= titles
    labels = {n.get("label") for n in nodes}
    assert "Chen Xiaoming" in labels


def test_gexf_reads_in_networkx(ws, tmp_path):
    nx = pytest.importorskip("networkx")
    path = tmp_path / "lead.gexf"
    path.write_bytes(render_report(ws, LEAD_ID, "gexf").content)
    g = nx.read_gexf(path)
    assert g.number_of_nodes() == len(NETWORK_PARTIES)
    assert g.nodes["P2"]["role"] == "subject"
