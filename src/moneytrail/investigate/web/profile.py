"""The entity profile: identity, aliases, accounts, risk with its explanation, hits, timeline."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.compute as pc

from moneytrail.investigate.web import queries as Q
from moneytrail.investigate.web.reader import TXN_COLUMNS, Reader

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


_ACCOUNT_COLUMNS = (
    "account_id",
    "institution",
    "institution_type",
    "country",
    "currency",
    "opened_at",
    "source_id",
)
_SCORE_COLUMNS = ("score", "alert", "typologies", "reason", "contributions")
_PERSON_COLUMNS = ("name", "name_native", "source", "source_id", "phone", "birth_date")
_HIT_COLUMNS = (
    "hit_id",
    "detector_id",
    "indicator_ids",
    "entity_kind",
    "entity_id",
    "window_start",
    "window_end",
    "metrics",
    "evidence_txn_ids",
    "severity",
)
_SESSION_COLUMNS = (
    "session_id",
    "casino",
    "start_ts",
    "buy_in_cad",
    "cash_out_cad",
    "cash_out_form",
    "share_small_bills",
)
_TRANSFER_COLUMNS = (
    "transfer_id",
    "property_id",
    "ts",
    "buyer_party_id",
    "seller_party_id",
    "price",
    "mortgage_amount",
    "lender_kind",
    "cash_amount",
    "via_trust_account",
)
_LARGEST_COLUMNS = (
    "txn_id",
    "ts",
    "account_id",
    "counterparty_id",
    "direction",
    "amount_cad",
    "channel",
    "country_src",
    "country_dst",
)
# evidence rows carry every transaction column the legs index keeps
_EVIDENCE_COLUMNS = TXN_COLUMNS
_LIMIT = 50


def _pick(row: dict, columns: tuple[str, ...]) -> dict:
    return {c: row.get(c) for c in columns}


def _desc_nulls_last(value):
    return (value is None, -(value or 0))


# The in-memory lookups the lead, network and profile pages use: (table, column).
LOOKUPS = (
    ("leads", "lead_id"),
    ("parties", "party_id"),
    ("accounts", "account_id"),
    ("accounts", "holder_party_id"),
    ("account_scores", "account_id"),
    ("party_scores", "party_id"),
    ("detector_hits", "entity_id"),
    ("resolved_entities", "party_id"),
    ("resolved_entities", "entity_id"),
    ("links", "party_a"),
    ("links", "party_b"),
    ("casino_sessions", "party_id"),
    ("property_transfers", "buyer_party_id"),
    ("property_transfers", "seller_party_id"),
    ("property_transfers", "lender_party_id"),
)


def warm_lookups(reader: Reader) -> None:
    """Build every lookup the pages use (at start, so the first requests do not wait)."""
    for table, column in LOOKUPS:
        reader.lookup(table, column, [])
    if reader.has("leads"):
        reader.cached(("lead-members",), lambda: _lead_members(reader))


def get_profile(reader: Reader, party_id: str) -> dict | None:
    """Everything the profile page shows about one party, or None when it does not exist.

    Every table is read through the reader's in-memory lookups and the legs of the party's
    accounts, so a profile costs no scan, whatever the size of the workspace.
    """
    rows = reader.lookup("parties", "party_id", [party_id])
    if not rows:
        return None
    party = rows[0]
    accounts = [_pick(a, _ACCOUNT_COLUMNS) for a in reader.lookup("accounts", "holder_party_id", [party_id])]
    scores = {
        s["account_id"]: s
        for s in reader.lookup("account_scores", "account_id", [a["account_id"] for a in accounts])
    }
    for a in accounts:
        a.update(_pick(scores.get(a["account_id"], {}), _SCORE_COLUMNS))
        a["contributions"] = _contributions(a.get("contributions"))
    accounts.sort(key=lambda a: (_desc_nulls_last(a["score"]), a["account_id"]))
    account_ids = [a["account_id"] for a in accounts]

    aliases = _aliases(reader, party_id)
    score = None
    s = reader.lookup("party_scores", "party_id", [party_id])
    if s:
        score = _pick(s[0], ("score", "alert", "typologies", "reason"))
    if score is None and accounts and any(a.get("score") is not None for a in accounts):
        best = max((a for a in accounts if a.get("score") is not None), key=lambda a: a["score"])
        score = {
            "score": best["score"],
            "alert": best.get("alert"),
            "typologies": best.get("typologies"),
            "reason": best.get("reason"),
        }

    hits = [
        _pick(h, _HIT_COLUMNS)
        for h in reader.lookup("detector_hits", "entity_id", [*account_ids, party_id])
        if (h["entity_kind"] == "account" and h["entity_id"] in account_ids)
        or (h["entity_kind"] == "party" and h["entity_id"] == party_id)
    ]
    hits = sorted(hits, key=lambda h: (-(h["severity"] or 0), h["hit_id"]))[:100]
    evidence_ids: list[str] = []
    for h in hits:
        h["metrics"] = _metrics(h.get("metrics"))
        h["evidence_txn_ids"] = [t for t in (h.get("evidence_txn_ids") or "").split(";") if t]
        h["indicator_ids"] = [t for t in (h.get("indicator_ids") or "").split(";") if t]
        evidence_ids.extend(h["evidence_txn_ids"][:20])

    has_legs = bool(account_ids) and reader.has("legs")
    legs = reader.legs_of(account_ids, _LARGEST_COLUMNS) if has_legs else None
    evidence = _evidence(reader, sorted(set(evidence_ids))[:_MAX_EVIDENCE], account_ids if has_legs else [])
    sessions = sorted(
        (_pick(r, _SESSION_COLUMNS) for r in reader.lookup("casino_sessions", "party_id", [party_id])),
        key=lambda r: (r["start_ts"], r["session_id"]),
    )[:_LIMIT]
    people = [party_id, *(a["party_id"] for a in aliases)]
    transfers = {
        r["transfer_id"]: _pick(r, _TRANSFER_COLUMNS)
        for column in ("buyer_party_id", "seller_party_id", "lender_party_id")
        for r in reader.lookup("property_transfers", column, people)
    }
    properties = sorted(transfers.values(), key=lambda r: (r["ts"], r["transfer_id"]))[:_LIMIT]
    return {
        "party": party,
        "aliases": aliases,
        "accounts": accounts,
        "score": score,
        "hits": hits,
        "evidence": evidence,
        "timeline": _timeline(legs),
        "largest_transactions": _largest(legs),
        "casino_sessions": sessions,
        "property_transfers": properties,
        "leads": leads_with_member(reader, party_id, account_ids),
    }


def _aliases(reader: Reader, party_id: str) -> list[dict]:
    """Other records of the same resolved entity; else those linked by a ``same_as`` link."""
    entities = [r["entity_id"] for r in reader.lookup("resolved_entities", "party_id", [party_id])]
    same = [r for r in reader.lookup("resolved_entities", "entity_id", entities) if r["party_id"] != party_id]
    people = {p["party_id"]: p for p in reader.lookup("parties", "party_id", [r["party_id"] for r in same])}
    aliases = [
        {
            "party_id": r["party_id"],
            "entity_id": r["entity_id"],
            **_pick(people[r["party_id"]], _PERSON_COLUMNS),
        }
        for r in same
        if r["party_id"] in people
    ]
    if aliases:
        return sorted(aliases, key=lambda a: a["party_id"])
    links = [
        (link["party_b"] if link["party_a"] == party_id else link["party_a"], link.get("weight"))
        for column in ("party_a", "party_b")
        for link in reader.lookup("links", column, [party_id])
        if link["kind"] == "same_as"
    ]
    people = {p["party_id"]: p for p in reader.lookup("parties", "party_id", [o for o, _w in links])}
    out = [
        {"party_id": other, **_pick(people[other], _PERSON_COLUMNS), "weight": weight}
        for other, weight in links
        if other in people
    ]
    return sorted(out, key=lambda a: (_desc_nulls_last(a["weight"]), a["party_id"]))


def leads_with_member(reader: Reader, party_id: str, account_ids: list[str]) -> list[dict]:
    """The leads (id, rank, score) the party or one of its first 20 accounts belongs to, by rank."""
    if not reader.has("leads"):
        return []
    members = reader.cached(("lead-members",), lambda: _lead_members(reader))
    found = {lead["lead_id"]: lead for key in [party_id, *account_ids[:20]] for lead in members.get(key, ())}
    return sorted(found.values(), key=lambda r: (r["rank"], r["lead_id"]))[:20]


def _lead_members(reader: Reader) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in reader.rows(
        "SELECT lead_id, rank, score, member_party_ids, member_account_ids FROM leads",
        label="the leads' members",
    ):
        lead = {"lead_id": r["lead_id"], "rank": r["rank"], "score": r["score"]}
        for key in {
            *(r["member_party_ids"] or "").split(";"),
            *(r["member_account_ids"] or "").split(";"),
        } - {""}:
            out.setdefault(key, []).append(lead)
    return out


def _timeline(legs: pa.Table | None) -> list[dict]:
    """Money in and out of the accounts per month."""
    if legs is None or legs.num_rows == 0:
        return []
    incoming = pc.equal(legs.column("direction"), "in")
    amount = pc.fill_null(legs.column("amount_cad"), 0.0)
    zero = pa.scalar(0.0, amount.type)
    table = pa.table(
        {
            "month": pc.floor_temporal(legs.column("ts"), unit="month"),
            "in_cad": pc.if_else(incoming, amount, zero),
            "out_cad": pc.if_else(pc.equal(legs.column("direction"), "out"), amount, zero),
        }
    )
    grouped = table.group_by("month").aggregate([("in_cad", "sum"), ("out_cad", "sum"), ("month", "count")])
    grouped = grouped.sort_by("month")
    return [
        {"month": r["month"], "in_cad": r["in_cad_sum"], "out_cad": r["out_cad_sum"], "n": r["month_count"]}
        for r in grouped.to_pylist()
    ]


def _largest(legs: pa.Table | None) -> list[dict]:
    """The largest legs of the accounts."""
    if legs is None or legs.num_rows == 0:
        return []
    order = pc.sort_indices(
        legs, sort_keys=[("amount_cad", "descending"), ("ts", "ascending"), ("txn_id", "ascending")]
    )
    return legs.take(order[:_LIMIT]).select(list(_LARGEST_COLUMNS)).to_pylist()


def _evidence(reader: Reader, txn_ids: list[str], account_ids: list[str]) -> list[dict]:
    """The evidence transactions, looked up among the legs of the party's accounts.

    A detector's evidence involves the account it fired on, so the legs answer without scanning
    the transactions table; only ids not found there are read from the table itself.
    """
    if not txn_ids:
        return []
    found: dict[str, dict] = {}
    if account_ids:
        for r in reader.legs_of(account_ids, _EVIDENCE_COLUMNS, txn_ids).to_pylist():
            found.setdefault(r["txn_id"], r)
    missing = sorted(set(txn_ids) - set(found))
    if missing and reader.has("transactions"):
        for r in reader.rows(Q.transactions_by_id_sql(missing), label="the evidence transactions"):
            found.setdefault(r["txn_id"], r)
    return sorted(found.values(), key=lambda r: (r["ts"], r["txn_id"]))
