"""The lead's network as nodes and edges: parties (or bare accounts) joined by aggregated money flows
and by known links. Shared by the dossier picture and the GraphML/GEXF exports.
"""

from __future__ import annotations

from dataclasses import dataclass

from moneytrail.investigate.reports.bundle import ReportBundle


@dataclass
class Node:
    id: str
    kind: str  # person | company | unknown | account
    name: str
    role: str  # subject | counterparty
    risk_score: float
    money_in_cad: float
    money_out_cad: float
    country: str = ""
    name_native: str = ""


@dataclass
class Edge:
    source: str
    target: str
    relation: str  # payment, or a link kind (director_of, family, ...)
    amount_cad: float
    count: int
    first_ts: str
    last_ts: str
    channel: str  # channels ';'-joined, for payments


def _node_id(b: ReportBundle, account_id: str) -> str:
    return b.holder(account_id) or f"account:{account_id}"


def build_network(b: ReportBundle) -> tuple[list[Node], list[Edge]]:
    """Nodes (sorted by id) and edges (payments first, then links, each sorted) of the bundle."""
    nodes: dict[str, Node] = {}

    def node(nid: str) -> Node:
        if nid not in nodes:
            if nid.startswith("account:"):
                aid = nid.split(":", 1)[1]
                acc = b.accounts.get(aid, {})
                role = "subject" if aid in b.subject_account_ids else "counterparty"
                nodes[nid] = Node(
                    nid,
                    "account",
                    acc.get("source_id") or aid,
                    role,
                    float(b.account_scores.get(aid, {}).get("score") or 0.0),
                    0.0,
                    0.0,
                    acc.get("country") or "",
                )
            else:
                p = b.parties.get(nid, {})
                held = [
                    float(b.account_scores[a]["score"]) for a in b.accounts_of(nid) if a in b.account_scores
                ]
                score = b.party_scores.get(nid, {}).get("score")
                score = float(score) if score is not None else max(held, default=0.0)
                kind = p.get("kind") if p.get("kind") in ("person", "company") else "unknown"
                nodes[nid] = Node(
                    nid,
                    kind,
                    b.party_name(nid),
                    "subject" if b.is_subject_party(nid) else "counterparty",
                    score,
                    0.0,
                    0.0,
                    p.get("country") or "",
                    p.get("name_native") or "",
                )
        return nodes[nid]

    for pid in sorted(b.subject_party_ids):
        if pid in b.parties:
            node(pid)
    flows: dict[tuple[str, str], dict] = {}
    for t in b.transactions:
        s, d = _node_id(b, t["src_account_id"]), _node_id(b, t["dst_account_id"])
        amt = float(t.get("amount_cad") or 0.0)
        node(s).money_out_cad += amt
        node(d).money_in_cad += amt
        f = flows.setdefault(
            (s, d), {"amount": 0.0, "count": 0, "first": t["ts"], "last": t["ts"], "channels": set()}
        )
        f["amount"] += amt
        f["count"] += 1
        f["first"], f["last"] = min(f["first"], t["ts"]), max(f["last"], t["ts"])
        f["channels"].add(t["channel"])
    edges = [
        Edge(
            s,
            d,
            "payment",
            round(f["amount"], 2),
            f["count"],
            f["first"].isoformat(),
            f["last"].isoformat(),
            ";".join(sorted(f["channels"])),
        )
        for (s, d), f in sorted(flows.items())
    ]
    for link in b.links:
        if link["party_a"] in nodes and link["party_b"] in nodes:
            edges.append(Edge(link["party_a"], link["party_b"], link["kind"], 0.0, 1, "", "", ""))
    return [nodes[k] for k in sorted(nodes)], edges
