"""The entity profile: identity, aliases, accounts, risk with its explanation, hits, timeline."""

from __future__ import annotations

import json

from moneytrail.investigate.web import queries as Q
from moneytrail.investigate.web.reader import LEGS_SELECTION, Reader

_MAX_EVIDENCE = 200


def _contributions(text: str | None) -> list[dict]:
    """Feature contributions as a list of {feature, value}, largest effect first."""
    if not text:
        return []
    try:
        data = json.loads(text)
    except (TypeError, ValueError):
        return []
    if isinstance(data, dict):
        items = [
            {"feature": str(k), "value": float(v)} for k, v in data.items() if isinstance(v, int | float)
        ]
    elif isinstance(data, list):
        items = []
        for d in data:
            if isinstance(d, dict) and "feature" in d:
                try:
                    items.append(
                        {
                            "feature": str(d["feature"]),
                            "value": float(d.get("value", d.get("contribution", 0))),
                        }
                    )
                except (TypeError, ValueError):
                    continue
    else:
        items = []
    return sorted(items, key=lambda d: -abs(d["value"]))[:15]


def _metrics(text: str | None) -> dict:
    try:
        data = json.loads(text) if text else {}
    except (TypeError, ValueError):
        return {}
    return {str(k): v for k, v in data.items()} if isinstance(data, dict) else {}


def get_profile(reader: Reader, party_id: str) -> dict | None:
    """Everything the profile page shows about one party, or None when it does not exist."""
    if not reader.has("parties"):
        return None
    rows = reader.rows(Q.party_sql(party_id), label=f"party {party_id}")
    if not rows:
        return None
    party = rows[0]
    has_scores = reader.has("account_scores")
    accounts = (
        reader.rows(Q.party_accounts_sql(party_id, has_scores), label="the party's accounts")
        if reader.has("accounts")
        else []
    )
    for a in accounts:
        a["contributions"] = _contributions(a.get("contributions"))
    account_ids = [a["account_id"] for a in accounts]

    aliases: list[dict] = []
    if reader.has("resolved_entities"):
        aliases = reader.rows(Q.aliases_resolved_sql(party_id), label="the party's aliases")
    if not aliases and reader.has("links"):
        aliases = reader.rows(Q.aliases_links_sql(party_id), label="the party's same_as links")

    score = None
    if reader.has("party_scores"):
        s = reader.rows(Q.party_score_sql(party_id), label="the party's score")
        score = s[0] if s else None
    if score is None and accounts and any(a.get("score") is not None for a in accounts):
        best = max((a for a in accounts if a.get("score") is not None), key=lambda a: a["score"])
        score = {
            "score": best["score"],
            "alert": best.get("alert"),
            "typologies": best.get("typologies"),
            "reason": best.get("reason"),
        }

    hits = []
    if reader.has("detector_hits"):
        hits = reader.rows(Q.hits_sql(account_ids, [party_id]), label="the party's detector hits")
    evidence_ids: list[str] = []
    for h in hits:
        h["metrics"] = _metrics(h.get("metrics"))
        h["evidence_txn_ids"] = [t for t in (h.get("evidence_txn_ids") or "").split(";") if t]
        h["indicator_ids"] = [t for t in (h.get("indicator_ids") or "").split(";") if t]
        evidence_ids.extend(h["evidence_txn_ids"][:20])
    evidence = []
    if evidence_ids and reader.has("transactions"):
        evidence = reader.rows(
            Q.transactions_by_id_sql(sorted(set(evidence_ids))[:_MAX_EVIDENCE]),
            label="the evidence transactions",
        )

    timeline = (
        reader.rows(Q.timeline_sql(account_ids, LEGS_SELECTION), label="the timeline", legs_for=account_ids)
        if account_ids and reader.has("legs")
        else []
    )
    largest = (
        reader.rows(
            Q.recent_legs_sql(account_ids, legs=LEGS_SELECTION),
            label="the largest transactions",
            legs_for=account_ids,
        )
        if account_ids and reader.has("legs")
        else []
    )
    sessions = (
        reader.rows(Q.casino_sessions_sql(party_id), label="casino sessions")
        if reader.has("casino_sessions")
        else []
    )
    alias_ids = [a["party_id"] for a in aliases]
    properties = (
        reader.rows(Q.property_transfers_sql([party_id, *alias_ids]), label="property transfers")
        if reader.has("property_transfers")
        else []
    )
    leads = (
        reader.rows(Q.leads_with_member_sql(party_id, account_ids), label="the party's leads")
        if reader.has("leads")
        else []
    )
    return {
        "party": party,
        "aliases": aliases,
        "accounts": accounts,
        "score": score,
        "hits": hits,
        "evidence": evidence,
        "timeline": timeline,
        "largest_transactions": largest,
        "casino_sessions": sessions,
        "property_transfers": properties,
        "leads": leads,
    }
