"""S3 casino disbursements of C$10,000 or more within 24 hours."""

from __future__ import annotations

from moneytrail.detect.queries._casino import session_txns_sql
from moneytrail.detect.sql import clamp01, epoch, evidence_sql, metrics_sql


def casino_disbursement_sql(p: dict) -> str:
    """Players paid out at least the threshold within ``window_hours``, summed over sessions (the
    24-hour rule of the CDR); one hit per burst of qualifying windows, with its pay-outs as evidence."""
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
    -- the pay-outs that add up in a qualifying window are the evidence; one hit per burst of them
    members AS (
        SELECT DISTINCT e.party_id, s.session_id, s.t, s.start_ts, s.amt FROM ends e
        JOIN s ON s.party_id = e.party_id AND s.t BETWEEN e.end_t - {w} AND e.end_t
    ),
    marked AS (
        SELECT m.*, CASE WHEN t - LAG(t) OVER (PARTITION BY party_id ORDER BY t, session_id) <= {w} THEN 0 ELSE 1 END AS new_burst
        FROM members m
    ),
    bursts AS (
        SELECT marked.*, SUM(new_burst) OVER (PARTITION BY party_id ORDER BY t, session_id ROWS UNBOUNDED PRECEDING) AS burst
        FROM marked
    ),
    ev_rows AS (
        SELECT b.party_id, b.burst, st.txn_id FROM bursts b
        JOIN ({session_txns_sql("(SELECT * FROM casino_sessions WHERE session_id IN (SELECT session_id FROM members))")}) AS st
          ON st.session_id = b.session_id
    ),
    ev AS ({evidence_sql("ev_rows", ["party_id", "burst"])}),
    -- the largest 24-hour total and session count of each burst
    peak AS (
        SELECT b.party_id, b.burst, MAX(e.total) AS total, MAX(e.k) AS k, COUNT(DISTINCT e.end_t) AS windows
        FROM bursts b JOIN ends e ON e.party_id = b.party_id AND e.end_t = b.t GROUP BY b.party_id, b.burst
    ),
    agg AS (SELECT party_id, burst, MIN(start_ts) AS window_start, MAX(start_ts) AS window_end FROM bursts GROUP BY party_id, burst)
    SELECT 'party' AS entity_kind, a.party_id AS entity_id, a.window_start, a.window_end,
           {metrics_sql({"max_paid_24h_cad": "p.total", "max_sessions_24h": "p.k", "windows": "p.windows"})} AS metrics,
           ev.evidence_txn_ids, {clamp01(f"p.total / {3 * t}")} AS strength
    FROM agg a JOIN peak p ON p.party_id = a.party_id AND p.burst = a.burst
    LEFT JOIN ev ON ev.party_id = a.party_id AND ev.burst = a.burst
    """
