"""S2 cross-border transfers split around C$10,000 within 24 hours."""

from __future__ import annotations

from moneytrail.detect.sql import clamp01, edges_sql, evidence_sql, metrics_sql


def eft_structuring_sql(p: dict) -> str:
    """Accounts sending cross-border electronic transfers of at least the threshold (EFTR-reportable),
    or two or more near it that add up to it within ``window_hours`` (the 24-hour rule)."""
    w = int(float(p["window_hours"]) * 3600)
    t = float(p["threshold"])
    return f"""
    WITH x AS (
        SELECT txn_id, ts, t, amt, src AS acct FROM ({edges_sql("channel IN ('wire', 'eft', 'etransfer', 'crypto') AND country_src IS NOT NULL AND country_dst IS NOT NULL AND country_src <> country_dst")}) AS e
        WHERE amt >= {t * float(p["near_share"])}
    ),
    win AS (
        SELECT x.*, COUNT(*) OVER (PARTITION BY acct ORDER BY t RANGE BETWEEN {w} PRECEDING AND CURRENT ROW) AS k,
               SUM(amt) OVER (PARTITION BY acct ORDER BY t RANGE BETWEEN {w} PRECEDING AND CURRENT ROW) AS s,
               MAX(amt) OVER (PARTITION BY acct ORDER BY t RANGE BETWEEN {w} PRECEDING AND CURRENT ROW) AS top
        FROM x
    ),
    ends AS (SELECT acct, t AS end_t, k, s FROM win WHERE s >= {t} AND (k >= {int(p["min_count"])} OR top >= {t})),
    ev_rows AS (SELECT e.acct, x.txn_id, x.ts FROM ends e JOIN x ON x.acct = e.acct AND x.t BETWEEN e.end_t - {w} AND e.end_t),
    best AS (SELECT acct, MAX(k) AS k, MAX(s) AS s FROM ends GROUP BY acct),
    agg AS (SELECT acct, MIN(ts) AS window_start, MAX(ts) AS window_end FROM ev_rows GROUP BY acct),
    ev AS ({evidence_sql("ev_rows", ["acct"])})
    SELECT 'account' AS entity_kind, b.acct AS entity_id, a.window_start, a.window_end,
           {metrics_sql({"max_count_24h": "b.k", "max_total_24h_cad": "b.s"})} AS metrics,
           ev.evidence_txn_ids, {clamp01(f"b.s / {2 * t}")} AS strength
    FROM best b JOIN agg a ON a.acct = b.acct JOIN ev ON ev.acct = b.acct
    """
