"""The network of a lead or around one account, shaped for the graph view.

Nodes are accounts (sized by the money through them, coloured by institution type and risk); edges
carry the summed amount, count and time span of the transfers between two accounts. A network too
large to draw is aggregated: the lead's members and the biggest counterparties stay, the rest become
one node per institution type ("312 other bank accounts").
"""

from __future__ import annotations

from collections import defaultdict

from moneytrail.investigate.web import queries as Q
from moneytrail.investigate.web.reader import LEGS_SELECTION, Reader

MAX_NODES = 150


def _ts(v):
    # naive UTC timestamps, written as RFC 3339
    return v.isoformat() + "Z" if hasattr(v, "isoformat") and getattr(v, "tzinfo", None) is None else v


def build_network(
    reader: Reader, member_ids: list[str], *, max_nodes: int = MAX_NODES, focus: str | None = None
) -> dict:
    """Nodes and edges around ``member_ids`` (accounts), aggregated past ``max_nodes``."""
    if not reader.has("legs") or not member_ids:
        return {"nodes": [], "edges": [], "aggregated": False, "hidden_nodes": 0}
    edges = reader.rows(
        Q.edges_sql(member_ids, reader.has("accounts"), LEGS_SELECTION),
        label="the network edges",
        legs_for=member_ids,
    )
    members = set(member_ids)
    volume: dict[str, float] = defaultdict(float)
    for e in edges:
        volume[e["src"]] += e["amount_cad"] or 0.0
        volume[e["dst"]] += e["amount_cad"] or 0.0
    others = sorted((a for a in volume if a not in members), key=lambda a: (-volume[a], a))
    keep_others = others[: max(0, max_nodes - len(members))]
    kept = members | set(keep_others) | set(volume if len(volume) <= max_nodes else [])
    node_ids = sorted(kept | members)
    info = {}
    if reader.has("accounts"):
        for r in reader.rows(
            Q.account_nodes_sql(node_ids, reader.has("account_scores"), reader.has("parties")),
            label="the network nodes",
        ):
            info[r["account_id"]] = r
    other_type = {e["other"]: e.get("other_type") for e in edges}

    def group_of(acc: str) -> str:
        return f"group:{other_type.get(acc) or 'other'}"

    agg_edges: dict[tuple[str, str], dict] = {}
    group_members: dict[str, set[str]] = defaultdict(set)
    for e in edges:
        s, d = e["src"], e["dst"]
        if s not in kept:
            group_members[group_of(s)].add(s)
            s = group_of(s)
        if d not in kept:
            group_members[group_of(d)].add(d)
            d = group_of(d)
        key = (s, d)
        cur = agg_edges.get(key)
        if cur is None:
            agg_edges[key] = {
                "source": s,
                "target": d,
                "amount_cad": e["amount_cad"] or 0.0,
                "count": e["n"],
                "first_ts": e["first_ts"],
                "last_ts": e["last_ts"],
                "channels": set((e["channels"] or "").split(";")) - {""},
            }
        else:
            cur["amount_cad"] += e["amount_cad"] or 0.0
            cur["count"] += e["n"]
            cur["first_ts"] = min(cur["first_ts"], e["first_ts"])
            cur["last_ts"] = max(cur["last_ts"], e["last_ts"])
            cur["channels"] |= set((e["channels"] or "").split(";")) - {""}

    nodes = []
    for acc in node_ids:
        r = info.get(acc, {})
        nodes.append(
            {
                "id": acc,
                "label": r.get("name") or acc,
                "label_native": r.get("name_native"),
                "party_id": r.get("holder_party_id"),
                "institution": r.get("institution"),
                "institution_type": r.get("institution_type") or "other",
                "country": r.get("country"),
                "score": r.get("score"),
                "alert": bool(r.get("alert")) if r.get("alert") is not None else False,
                "member": acc in members,
                "focus": acc == focus,
                "volume_cad": volume.get(acc, 0.0),
                "group_size": 1,
            }
        )
    for gid, accs in sorted(group_members.items()):
        kind = gid.split(":", 1)[1]
        nodes.append(
            {
                "id": gid,
                "label": f"{len(accs)} other {kind} accounts",
                "label_native": None,
                "party_id": None,
                "institution": None,
                "institution_type": kind,
                "country": None,
                "score": None,
                "alert": False,
                "member": False,
                "focus": False,
                "volume_cad": sum(volume[a] for a in accs),
                "group_size": len(accs),
            }
        )
    out_edges = []
    for (s, d), e in sorted(agg_edges.items()):
        out_edges.append(
            {
                "id": f"{s}->{d}",
                "source": s,
                "target": d,
                "amount_cad": round(e["amount_cad"], 2),
                "count": e["count"],
                "first_ts": _ts(e["first_ts"]),
                "last_ts": _ts(e["last_ts"]),
                "channels": sorted(e["channels"]),
            }
        )
    hidden = sum(len(v) for v in group_members.values())
    return {"nodes": nodes, "edges": out_edges, "aggregated": hidden > 0, "hidden_nodes": hidden}
