"""The leads queue and one lead."""

from __future__ import annotations

from moneytrail.investigate.web import queries as Q
from moneytrail.investigate.web.reader import Reader


def split_ids(text: str | None) -> list[str]:
    return [t for t in (text or "").split(";") if t]


def list_leads(
    reader: Reader,
    *,
    q: str | None = None,
    typology: str | None = None,
    min_value: float | None = None,
    sort: str = "rank",
    limit: int = 50,
    offset: int = 0,
) -> dict:
    """A page of the leads queue with the total that matched."""
    if not reader.has("leads"):
        return {"total": 0, "items": [], "typologies": []}
    where = Q.leads_where_sql(q, typology, min_value)
    total = reader.query(Q.leads_count_sql(where), label="the leads count").column(0)[0].as_py()
    rows = reader.rows(Q.leads_sql(where, sort, limit, offset), label="the leads queue")
    typologies = reader.cached(
        ("typologies",), lambda: [r["typology"] for r in reader.rows(Q.typologies_sql())]
    )
    return {"total": total, "items": [lead_summary(r) for r in rows], "typologies": typologies}


def lead_ids(reader: Reader) -> list[str]:
    """Every lead's id, by rank."""
    if not reader.has("leads"):
        return []
    return [
        r["lead_id"]
        for r in reader.rows("SELECT lead_id FROM leads ORDER BY rank, lead_id", label="the lead ids")
    ]


def lead_summary(row: dict) -> dict:
    accounts = split_ids(row.get("member_account_ids"))
    parties = split_ids(row.get("member_party_ids"))
    return {
        "lead_id": row["lead_id"],
        "rank": row["rank"],
        "score": row["score"],
        "total_value_cad": row.get("total_value_cad"),
        "first_ts": row.get("first_ts"),
        "last_ts": row.get("last_ts"),
        "typologies": split_ids(row.get("typologies")),
        "account_count": len(accounts),
        "party_count": len(parties),
        "narrative": row.get("narrative"),
    }


def get_lead(reader: Reader, lead_id: str) -> dict | None:
    """A lead with its members (names and scores, the 200 most suspicious), or None."""
    rows = reader.lookup("leads", "lead_id", [lead_id])
    if not rows:
        return None
    row = rows[0]
    out = lead_summary(row)
    accounts = split_ids(row.get("member_account_ids"))
    party_ids = split_ids(row.get("member_party_ids"))
    out["account_ids"] = accounts
    out["party_ids"] = party_ids
    scores = {s["party_id"]: s for s in reader.lookup("party_scores", "party_id", party_ids)}
    members = []
    for p in reader.lookup("parties", "party_id", party_ids):
        s = scores.get(p["party_id"], {})
        members.append(
            {
                "party_id": p["party_id"],
                "name": p.get("name"),
                "name_native": p.get("name_native"),
                "kind": p.get("kind"),
                "score": s.get("score"),
                "reason": s.get("reason"),
            }
        )
    members.sort(key=lambda m: (m["score"] is None, -(m["score"] or 0), m["party_id"]))
    out["members"] = members[:200]
    return out
