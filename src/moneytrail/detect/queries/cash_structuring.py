"""S1 cash structuring: cash just under C$10,000, repeated within 24 hours."""

from __future__ import annotations

from moneytrail.detect.sql import CASH_CHANNELS, clamp01, edges_sql, evidence_sql, in_list, metrics_sql


def cash_structuring_sql(p: dict) -> str:
    """Customer accounts with ``min_count`` or more cash deposits or buy-ins, each under the
    threshold, that add up to at least the threshold within ``window_hours``, the largest of them
    at least ``near_share`` of the threshold (a piece kept just under it, the rest topped up)."""
    w = int(float(p["window_hours"]) * 3600)
    t = float(p["threshold"])
    return f"""
    WITH cash AS (
        -- the customer side of a cash movement is the account held by a described (not external) party
        SELECT e.txn_id, e.ts, e.t, e.amt, CASE WHEN COALESCE(s.is_external, TRUE) THEN e.dst ELSE e.src END AS acct
        FROM ({edges_sql(f"channel IN {in_list(CASH_CHANNELS)}")}) AS e
        LEFT JOIN accounts s ON s.account_id = e.src
        WHERE e.amt > 0 AND e.amt < {t}
    ),
    win AS (
        SELECT c.*, COUNT(*) OVER (PARTITION BY acct ORDER BY t RANGE BETWEEN {w} PRECEDING AND CURRENT ROW) AS k,
               SUM(amt) OVER (PARTITION BY acct ORDER BY t RANGE BETWEEN {w} PRECEDING AND CURRENT ROW) AS s,
               MAX(amt) OVER (PARTITION BY acct ORDER BY t RANGE BETWEEN {w} PRECEDING AND CURRENT ROW) AS top
        FROM cash c
    ),
    flagged AS (
        SELECT w.*, CASE WHEN k >= {int(p["min_count"])} AND s >= {t} AND top >= {t * float(p["near_share"])}
                         THEN 1 ELSE 0 END AS qualifies
        FROM win w
    ),
    ends AS (SELECT acct, t AS end_t, k, s FROM flagged WHERE qualifies = 1),
    -- a deposit is evidence when a qualifying window ends within the window length after it (a
    -- window frame, linear in the deposits, unlike joining every end to every deposit)
    member AS (
        SELECT acct, txn_id, ts,
               MAX(qualifies) OVER (PARTITION BY acct ORDER BY t RANGE BETWEEN CURRENT ROW AND {w} FOLLOWING) AS inside
        FROM flagged
    ),
    ev_rows AS (SELECT acct, txn_id, ts FROM member WHERE inside = 1),
    best AS (SELECT acct, MAX(k) AS k, MAX(s) AS s, COUNT(*) AS windows FROM ends GROUP BY acct),
    agg AS (SELECT acct, MIN(ts) AS window_start, MAX(ts) AS window_end FROM ev_rows GROUP BY acct),
    ev AS ({evidence_sql("ev_rows", ["acct"])})
    SELECT 'account' AS entity_kind, b.acct AS entity_id, a.window_start, a.window_end,
           {metrics_sql({"max_count_24h": "b.k", "max_total_24h_cad": "b.s", "windows": "b.windows"})} AS metrics,
           ev.evidence_txn_ids, {clamp01(f"b.s / {2 * t}")} AS strength
    FROM best b JOIN agg a ON a.acct = b.acct JOIN ev ON ev.acct = b.acct
    """
