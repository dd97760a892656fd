"""Where the money went: the Sankey of a lead's inflows and outflows by kind of destination."""

from __future__ import annotations

from collections import defaultdict

from moneytrail.investigate.web import queries as Q
from moneytrail.investigate.web.reader import LEGS_SELECTION, Reader

HOME = "CA"
DESTINATIONS = (
    "Cash",
    "Casinos",
    "Underground bank / MSB",
    "Real estate",
    "Abroad",
    "Crypto",
    "Banks in Canada",
    "Other",
)


def destination_of(channel: str | None, institution_type: str | None, country: str | None) -> str:
    """The Sankey category of one flow; abroad wins over the channel because it leaves the country."""
    if country and country != HOME:
        return "Abroad"
    if channel in ("casino_buy_in", "casino_cash_out") or institution_type == "casino":
        return "Casinos"
    if channel == "cash":
        return "Cash"
    if institution_type == "msb":
        return "Underground bank / MSB"
    if channel == "mortgage" or institution_type == "lawyer_trust":
        return "Real estate"
    if channel == "crypto" or institution_type == "crypto":
        return "Crypto"
    if institution_type == "bank":
        return "Banks in Canada"
    return "Other"


def build_flow(reader: Reader, account_ids: list[str], party_ids: list[str], label: str = "Network") -> dict:
    """Sankey nodes and links: sources -> the network -> destinations (CAD)."""
    if not reader.has("legs") or not account_ids:
        return {"nodes": [], "links": [], "total_in_cad": 0.0, "total_out_cad": 0.0}
    inflow: dict[str, float] = defaultdict(float)
    outflow: dict[str, float] = defaultdict(float)
    for r in reader.rows(
        Q.flow_in_sql(account_ids, LEGS_SELECTION), label="the inflows", legs_for=account_ids
    ):
        inflow[destination_of(r["channel"], r["institution_type"], r["country_src"])] += (
            r["amount_cad"] or 0.0
        )
    for r in reader.rows(
        Q.flow_out_sql(account_ids, LEGS_SELECTION), label="the outflows", legs_for=account_ids
    ):
        outflow[destination_of(r["channel"], r["institution_type"], r["country_dst"])] += (
            r["amount_cad"] or 0.0
        )
    if party_ids and reader.has("property_transfers"):
        prop = reader.rows(Q.flow_property_sql(party_ids), label="property purchases")
        if prop and prop[0]["cash_cad"]:
            # Cash put into property by the members is money that left the network into real estate.
            outflow["Real estate"] += prop[0]["cash_cad"]
    nodes, links = [], []
    # The same category can be a source and a destination, so the two sides get distinct names.
    for cat, v in sorted(inflow.items(), key=lambda kv: -kv[1]):
        if v > 0:
            nodes.append({"name": f"from {cat}", "side": "in"})
            links.append({"source": f"from {cat}", "target": label, "value": round(v, 2)})
    nodes.append({"name": label, "side": "network"})
    for cat, v in sorted(outflow.items(), key=lambda kv: -kv[1]):
        if v > 0:
            nodes.append({"name": f"to {cat}", "side": "out"})
            links.append({"source": label, "target": f"to {cat}", "value": round(v, 2)})
    return {
        "nodes": nodes,
        "links": links,
        "total_in_cad": round(sum(inflow.values()), 2),
        "total_out_cad": round(sum(outflow.values()), 2),
    }
