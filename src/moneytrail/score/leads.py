"""Leads: connected groups of risky accounts in the money-and-identity graph.

Candidates are the accounts in the top ``lead_rate`` share by score. They are joined by money
flowing between them and by identity (same holder, or parties linked by shared phone, address,
resolution...). Each connected group that contains at least one alerted account is a lead.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

import igraph as ig
import numpy as np
import pandas as pd

from moneytrail.engine import Engine
from moneytrail.score.explain import FEATURE_NAMES, lead_narrative
from moneytrail.score.features import cents_sql

LEAD_RATE = 0.03
# Components up to this many accounts stay whole; larger ones are split into communities.
MAX_UNSPLIT = 30


def identity_edges_sql(accounts: str = "accounts", links: str | None = "links") -> str:
    """Pairs of accounts tied by identity: same holder, or holders linked in ``links``."""
    same = (
        f"SELECT a.account_id AS src, b.account_id AS dst FROM {accounts} a JOIN {accounts} b "
        "ON a.holder_party_id = b.holder_party_id AND a.account_id < b.account_id"
    )
    if not links:
        return same
    return (
        same + f" UNION SELECT a.account_id AS src, b.account_id AS dst FROM {links} l "
        f"JOIN {accounts} a ON a.holder_party_id = l.party_a JOIN {accounts} b ON b.holder_party_id = l.party_b "
        "WHERE a.account_id <> b.account_id"
    )


def lead_evidence_sql(members: str = "lead_members", transactions: str = "transactions") -> str:
    """Value (summed exactly in cents), count and time span of the transactions inside each lead
    (all of a lone account's own)."""
    amt = "COALESCE(t.amount_cad, t.amount)"
    return f"""
WITH size AS (SELECT lead_id, COUNT(*) AS k FROM {members} GROUP BY lead_id),
inside AS (
  SELECT s.lead_id, t.txn_id, {amt} AS amt, t.ts FROM {transactions} t
  JOIN {members} s ON s.account_id = t.src_account_id
  JOIN {members} d ON d.account_id = t.dst_account_id AND d.lead_id = s.lead_id
),
lone_members AS (  -- two equi-joins below, not one OR join (a nested loop on most engines)
  SELECT m.lead_id, m.account_id FROM {members} m JOIN size ON size.lead_id = m.lead_id AND size.k = 1
),
lone AS (
  SELECT m.lead_id, t.txn_id, {amt} AS amt, t.ts FROM {transactions} t
  JOIN lone_members m ON m.account_id = t.src_account_id
  UNION ALL
  SELECT m.lead_id, t.txn_id, {amt} AS amt, t.ts FROM {transactions} t
  JOIN lone_members m ON m.account_id = t.dst_account_id AND t.src_account_id <> t.dst_account_id
)
SELECT lead_id, CAST(SUM({cents_sql("amt")}) AS DOUBLE) / 100 AS total_value, COUNT(*) AS n_txns, MIN(ts) AS first_ts, MAX(ts) AS last_ts
FROM (SELECT * FROM inside UNION ALL SELECT * FROM lone) AS e
GROUP BY lead_id ORDER BY lead_id"""


def build_leads(
    engine: Engine,
    scores: pd.DataFrame,
    edges: Mapping[str, np.ndarray],
    top: list[list[tuple[str, float]]],
    lead_rate: float = LEAD_RATE,
    seed: int = 0,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Leads table and the account -> lead id map.

    ``scores`` has account_id, score, alert, typologies, holder_party_id (in account order);
    ``edges`` the money flows between accounts as ``src`` and ``dst`` row positions in ``scores``
    (-1: an account not in it); ``top`` holds each account's top contributions (same order).
    """
    n = len(scores)
    k = max(1, int(np.ceil(lead_rate * n)))
    order = np.lexsort((scores["account_id"].to_numpy(str), -scores["score"].to_numpy(float)))
    cand_idx = [i for i in order[:k] if scores["score"].iat[i] > 0] + [
        i for i in np.flatnonzero(scores["alert"].to_numpy(bool))
    ]
    cand_idx = sorted(set(cand_idx))
    cand = scores.iloc[cand_idx].reset_index(drop=True)
    if cand.empty:
        return _empty_leads(), {}
    ident = engine.query(
        identity_edges_sql(links="links" if engine.has_table("links") else None), label="lead identity edges"
    ).to_pandas()
    row = pd.Index(scores["account_id"])
    # Candidate number of each row of scores (-1: not a candidate), then of each edge's ends.
    cand_of = np.full(n + 1, -1, dtype=np.int64)
    cand_of[cand_idx] = np.arange(len(cand_idx))
    pairs = np.concatenate(
        [
            cand_of[np.column_stack([np.asarray(e[0], np.int64), np.asarray(e[1], np.int64)]).reshape(-1, 2)]
            for e in (
                (edges["src"], edges["dst"]),
                (row.get_indexer(ident["src"]), row.get_indexer(ident["dst"])),
            )
        ]
    )
    pairs = pairs[(pairs >= 0).all(axis=1) & (pairs[:, 0] != pairs[:, 1])]
    # The engine returns edges in no fixed order and Louvain depends on edge order: sort them.
    pairs = np.unique(np.sort(pairs, axis=1), axis=0)
    g = ig.Graph(n=len(cand), edges=pairs.tolist(), directed=False).simplify()
    memb = _groups(g, seed)
    cand["component"] = memb
    keep = cand.groupby("component")["alert"].transform("any")
    cand = cand[keep].copy()
    if cand.empty:
        return _empty_leads(), {}
    # Rank groups: the best member dominates, the rest of the group adds a little.
    grp = cand.groupby("component")["score"].agg(["max", "sum"])
    grp["lead_score"] = grp["max"] + 0.1 * (grp["sum"] - grp["max"])
    first_member = cand.groupby("component")["account_id"].min()
    grp = grp.join(first_member.rename("first"))
    grp = grp.sort_values(["lead_score", "first"], ascending=[False, True])
    grp["rank"] = np.arange(1, len(grp) + 1)
    grp["lead_id"] = [f"L{r:05d}" for r in grp["rank"]]
    cand["lead_id"] = cand["component"].map(grp["lead_id"])
    members = cand[["lead_id", "account_id"]].sort_values(["lead_id", "account_id"])
    import pyarrow as pa

    engine.register_arrow("lead_members", pa.Table.from_pandas(members, preserve_index=False))
    ev = engine.query(lead_evidence_sql(), label="lead evidence").to_pandas().set_index("lead_id")
    top_by_acc = dict(zip(scores["account_id"], top, strict=True))
    rows = []
    ordered = cand.sort_values(["score", "account_id"], ascending=[False, True])
    members_of = dict(iter(ordered.groupby("component", sort=False)))
    for comp, g_row in grp.iterrows():
        m = members_of[comp]
        lid = g_row["lead_id"]
        typ = sorted({t for ts in m["typologies"].dropna() for t in str(ts).split(";") if t})
        signals: list[str] = []
        for a in m["account_id"][:3]:
            for name, _ in top_by_acc.get(a, [])[:2]:
                label = FEATURE_NAMES.get(name, name.replace("_", " "))
                if label not in signals:
                    signals.append(label)
        e = ev.loc[lid] if lid in ev.index else None
        lead = {
            "lead_id": lid,
            "accounts": sorted(m["account_id"]),
            "parties": sorted(set(m["holder_party_id"].dropna())),
            "first_ts": None if e is None else e["first_ts"],
            "last_ts": None if e is None else e["last_ts"],
            "total_value": 0.0 if e is None else float(e["total_value"] or 0.0),
            "n_txns": 0 if e is None else int(e["n_txns"]),
            "typologies": ";".join(typ),
            "signals": signals[:4],
            "top_account": m["account_id"].iat[0],
            "top_score": float(m["score"].iat[0]),
        }
        rows.append(
            {
                "lead_id": lid,
                "rank": int(g_row["rank"]),
                "score": float(g_row["lead_score"]),
                "total_value_cad": lead["total_value"],
                "first_ts": lead["first_ts"],
                "last_ts": lead["last_ts"],
                "typologies": lead["typologies"] or None,
                "member_account_ids": ";".join(lead["accounts"]),
                "member_party_ids": ";".join(lead["parties"]),
                "narrative": lead_narrative(lead),
            }
        )
    leads = pd.DataFrame(rows).sort_values("rank").reset_index(drop=True)
    return leads, dict(zip(cand["account_id"], cand["lead_id"], strict=True))


def _groups(g: ig.Graph, seed: int) -> np.ndarray:
    """Connected groups, with large components split into their Louvain communities (seeded).

    Risky accounts can be joined by long chains of ordinary payments into one big component; a
    lead should be one network a person can investigate, so big components are split where the
    money flows thinly.
    """
    comp = np.asarray(g.connected_components().membership)
    if g.vcount() == 0 or np.bincount(comp).max() <= MAX_UNSPLIT:
        return comp
    ig.set_random_number_generator(random.Random(seed))
    try:
        memb = np.asarray(g.community_multilevel().membership)
    finally:
        ig.set_random_number_generator(random)
    # A community never spans two components (Louvain only merges along edges); pair them anyway.
    return comp * (memb.max() + 1) + memb


def _empty_leads() -> pd.DataFrame:
    from moneytrail.schema import table

    return table("leads").empty().to_pandas()
