"""S3 casino disbursements of C$10,000 or more within 24 hours."""

from __future__ import annotations

from moneytrail.detect.queries._casino import session_txns_sql
from moneytrail.detect.sql import clamp01, epoch, evidence_sql, metrics_sql


def casino_disbursement_sql(p: dict) -> str:
    """Players paid out at least the threshold within ``window_hours``, summed over sessions (the 24-hour rule of the CDR)."""
    w = int(float(p["window_hours"]) * 3600)
    t = float(p["threshold"])
    return f"""
    WITH s AS (
        SELECT session_id, party_id, start_ts, {epoch("start_ts")} AS t, cash_out_cad AS amt FROM casino_sessions
        WHERE cash_out_cad > 0
    ),
    win AS (
        SELECT s.*, COUNT(*) OVER (PARTITION BY party_id ORDER BY t RANGE BETWEEN {w} PRECEDING AND CURRENT ROW) AS k,
               SUM(amt) OVER (PARTITION BY party_id ORDER BY t RANGE BETWEEN {w} PRECEDING AND CURRENT ROW) AS total
        FROM s
    ),
    ends AS (SELECT party_id, t AS end_t, k, total FROM win WHERE total >= {t} AND k >= {int(p["min_sessions"])}),
    -- the pay-outs that add up in a qualifying window are the evidence
    members AS (
        SELECT DISTINCT e.party_id, s.session_id FROM ends e
        JOIN s ON s.party_id = e.party_id AND s.t BETWEEN e.end_t - {w} AND e.end_t
    ),
    ev_rows AS (
        SELECT m.party_id, st.txn_id FROM members m
        JOIN ({session_txns_sql("(SELECT * FROM casino_sessions WHERE session_id IN (SELECT session_id FROM members))")}) AS st
          ON st.session_id = m.session_id
    ),
    ev AS ({evidence_sql("ev_rows", ["party_id"])})
    SELECT 'party' AS entity_kind, x.party_id AS entity_id, MIN(to_ts) AS window_start, MAX(to_ts) AS window_end,
           {metrics_sql({"max_paid_24h_cad": "MAX(total)", "max_sessions_24h": "MAX(k)", "windows": "COUNT(*)"})} AS metrics,
           MAX(ev.evidence_txn_ids) AS evidence_txn_ids, {clamp01(f"MAX(total) / {3 * t}")} AS strength
    FROM (SELECT e.*, s.start_ts AS to_ts FROM ends e JOIN s ON s.party_id = e.party_id AND s.t = e.end_t) AS x
    LEFT JOIN ev ON ev.party_id = x.party_id
    GROUP BY x.party_id
    """
