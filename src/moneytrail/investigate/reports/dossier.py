"""The case dossier: summary, network picture, timeline, money-flow Sankey, evidence tables and
indicators with their sources, as one self-contained HTML page (and PDF through :mod:`.pdf`).
"""

from __future__ import annotations

import datetime as dt

from markupsafe import Markup

from moneytrail.investigate.reports import charts
from moneytrail.investigate.reports.bundle import ReportBundle
from moneytrail.investigate.reports.indicators import cited_sources, indicator
from moneytrail.investigate.reports.narrative import (
    day,
    indicator_paragraphs,
    money,
    overview,
    scoring_paragraph,
)
from moneytrail.investigate.reports.network import build_network
from moneytrail.investigate.reports.templating import render


def dossier_html(b: ReportBundle, *, now: dt.datetime | None = None) -> str:
    """The dossier of bundle ``b`` as HTML."""
    now = now or dt.datetime.now(dt.UTC)
    nodes, edges = build_network(b)
    per_txn = b.txn_indicators()
    first, last = b.span
    ids = b.indicator_ids
    txns = [
        {
            "ref": t.get("source_id") or t["txn_id"],
            "ts": t["ts"].strftime("%Y-%m-%d %H:%M") if t.get("ts") else "",
            "from": b.account_label(t["src_account_id"]),
            "from_subject": b.holder(t["src_account_id"]) in b.subject_party_ids,
            "to": b.account_label(t["dst_account_id"]),
            "to_subject": b.holder(t["dst_account_id"]) in b.subject_party_ids,
            "amount": t["amount"],
            "currency": t["currency"],
            "amount_cad": t.get("amount_cad"),
            "channel": t["channel"],
            "memo": t.get("memo") or "",
            "indicators": per_txn.get(t["txn_id"], []),
        }
        for t in b.transactions
    ]
    entities = sorted(nodes, key=lambda n: (n.role != "subject", -n.risk_score, n.name))
    accounts = [
        {
            "ref": a.get("source_id") or aid,
            "holder": b.party_name(a.get("holder_party_id")) if a.get("holder_party_id") else "",
            "subject": aid in b.subject_account_ids,
            "institution": a.get("institution") or "",
            "type": a.get("institution_type") or "",
            "country": a.get("country") or "",
            "score": b.account_scores.get(aid, {}).get("score"),
            "reason": b.account_scores.get(aid, {}).get("reason") or "",
        }
        for aid, a in sorted(b.accounts.items(), key=lambda kv: (kv[0] not in b.subject_account_ids, kv[0]))
    ]
    transfers = [
        {
            "ref": t.get("source_id") or t["transfer_id"],
            "date": day(t.get("ts")),
            "address": b.properties.get(t["property_id"], {}).get("address") or t["property_id"],
            "buyer": b.party_name(t.get("buyer_party_id")) if t.get("buyer_party_id") else "",
            "seller": b.party_name(t.get("seller_party_id")) if t.get("seller_party_id") else "",
            "price": t.get("price"),
            "lender": b.party_name(t.get("lender_party_id")) if t.get("lender_party_id") else "",
            "lender_kind": t.get("lender_kind") or "",
            "mortgage": t.get("mortgage_amount"),
        }
        for t in b.transfers
    ]
    return render(
        "dossier.html.j2",
        b=b,
        generated=now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        title=f"Case dossier: {b.case.get('title') if b.case and b.case.get('title') else 'lead ' + str(b.lead.get('lead_id'))}",
        overview=overview(b),
        scoring=scoring_paragraph(b),
        kpis=[
            ("Subjects", str(len([p for p in b.subject_party_ids if p in b.parties]))),
            ("Transactions", f"{len(b.transactions):,}"),
            ("Value", money(b.total_cad)),
            ("Period", f"{day(first)} to {day(last)}"),
            ("Lead score", f"{b.lead['score']:.2f}" if b.lead.get("score") is not None else "n/a"),
        ],
        network=Markup(charts.network_svg(nodes, edges)),
        timeline=Markup(charts.timeline_svg(b.transactions)),
        sankey=Markup(charts.sankey_svg(nodes, edges)),
        txns=txns,
        entities=entities,
        accounts=accounts,
        transfers=transfers,
        indicators=[(indicator(i), p) for i, p in _paragraphs(b, ids)],
        sources=cited_sources(ids),
    )


def _paragraphs(b: ReportBundle, ids: list[str]) -> list[tuple[str, str]]:
    texts = {p["indicator_id"]: p["text"] for p in indicator_paragraphs(b)}
    return [(i, texts.get(i, "")) for i in ids]
