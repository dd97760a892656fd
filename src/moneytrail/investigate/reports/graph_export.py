"""The lead's network for Gephi and other graph tools: GraphML (written by igraph) and GEXF 1.3.

Node attributes: kind, name, name_native, role, risk_score, money_in_cad, money_out_cad, country.
Edge attributes: relation, amount_cad, count, first_ts, last_ts, channel.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from xml.sax.saxutils import quoteattr

import igraph as ig

from moneytrail.investigate.reports.bundle import ReportBundle
from moneytrail.investigate.reports.network import build_network

NODE_ATTRS = (
    ("kind", "string"),
    ("name", "string"),
    ("name_native", "string"),
    ("role", "string"),
    ("risk_score", "double"),
    ("money_in_cad", "double"),
    ("money_out_cad", "double"),
    ("country", "string"),
)
EDGE_ATTRS = (
    ("relation", "string"),
    ("amount_cad", "double"),
    ("count", "integer"),
    ("first_ts", "string"),
    ("last_ts", "string"),
    ("channel", "string"),
)


def network_graph(b: ReportBundle) -> ig.Graph:
    """The network as a directed igraph Graph with the export attributes (vertex "entity_id" is the party id)."""
    nodes, edges = build_network(b)
    index = {n.id: i for i, n in enumerate(nodes)}
    g = ig.Graph(n=len(nodes), edges=[(index[e.source], index[e.target]) for e in edges], directed=True)
    g.vs["entity_id"] = [n.id for n in nodes]
    for attr, _ in NODE_ATTRS:
        g.vs[attr] = [getattr(n, attr) for n in nodes]
    for attr, _ in EDGE_ATTRS:
        g.es[attr] = [getattr(e, attr) for e in edges]
    return g


def graphml_bytes(b: ReportBundle) -> bytes:
    """GraphML of the network (igraph's writer)."""
    g = network_graph(b)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "network.graphml"
        g.write_graphml(str(path))
        return path.read_bytes()


def gexf_bytes(b: ReportBundle) -> bytes:
    """GEXF 1.3 of the network, with typed attributes (written directly; the format is small)."""
    nodes, edges = build_network(b)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<gexf xmlns="http://gexf.net/1.3" version="1.3">',
        f"<meta><creator>moneytrail</creator><description>{_esc('Network of report ' + b.report_id)}</description></meta>",
        '<graph defaultedgetype="directed" mode="static">',
        '<attributes class="node">',
        *[f'<attribute id="{i}" title="{a}" type="{t}"/>' for i, (a, t) in enumerate(NODE_ATTRS)],
        "</attributes>",
        '<attributes class="edge">',
        *[f'<attribute id="{i}" title="{a}" type="{t}"/>' for i, (a, t) in enumerate(EDGE_ATTRS)],
        "</attributes>",
        "<nodes>",
    ]
    for n in nodes:
        vals = "".join(
            f'<attvalue for="{i}" value={quoteattr(str(getattr(n, a)))}/>'
            for i, (a, _) in enumerate(NODE_ATTRS)
        )
        out.append(
            f"<node id={quoteattr(n.id)} label={quoteattr(n.name)}><attvalues>{vals}</attvalues></node>"
        )
    out.append("</nodes>")
    out.append("<edges>")
    for k, e in enumerate(edges):
        vals = "".join(
            f'<attvalue for="{i}" value={quoteattr(str(getattr(e, a)))}/>'
            for i, (a, _) in enumerate(EDGE_ATTRS)
        )
        weight = max(e.amount_cad, 1.0)
        out.append(
            f'<edge id="{k}" source={quoteattr(e.source)} target={quoteattr(e.target)} '
            f'label={quoteattr(e.relation)} weight="{weight}"><attvalues>{vals}</attvalues></edge>'
        )
    out += ["</edges>", "</graph>", "</gexf>", ""]
    return "\n".join(out).encode("utf-8")


def _esc(text: str) -> str:
    return quoteattr(text)[1:-1]
