"""C7 buy-ins split under the C$10,000 threshold."""

from __future__ import annotations

from moneytrail.detect.queries._casino import session_txns_sql
from moneytrail.detect.sql import clamp01, epoch, evidence_sql, metrics_sql


def casino_split_buy_in_sql(p: dict) -> str:
    """Players with two or more buy-ins each just under the threshold within ``window_hours`` that add up to at least the threshold."""
    w = int(float(p["window_hours"]) * 3600)
    t = float(p["threshold"])
    return f"""
    WITH s AS (
        SELECT session_id, party_id, start_ts, {epoch("start_ts")} AS t, buy_in_cad AS amt FROM casino_sessions
        WHERE buy_in_cad >= {t * float(p["near_share"])} AND buy_in_cad < {t}
    ),
    win AS (
        SELECT s.*, COUNT(*) OVER (PARTITION BY party_id ORDER BY t RANGE BETWEEN {w} PRECEDING AND CURRENT ROW) AS k,
               SUM(amt) OVER (PARTITION BY party_id ORDER BY t RANGE BETWEEN {w} PRECEDING AND CURRENT ROW) AS total
        FROM s
    ),
    ends AS (SELECT party_id, t AS end_t, k, total FROM win WHERE k >= 2 AND total >= {t}),
    members AS (
        SELECT DISTINCT e.party_id, s.session_id, s.start_ts FROM ends e
        JOIN s ON s.party_id = e.party_id AND s.t BETWEEN e.end_t - {w} AND e.end_t
    ),
    -- the split buy-ins' own transactions (and their pay-outs) are the evidence
    ev_rows AS (
        SELECT m.party_id, st.txn_id FROM members m
        JOIN ({session_txns_sql("(SELECT * FROM casino_sessions WHERE session_id IN (SELECT session_id FROM members))")}) AS st
          ON st.session_id = m.session_id
    ),
    ev AS ({evidence_sql("ev_rows", ["party_id"])})
    SELECT 'party' AS entity_kind, m.party_id AS entity_id, MIN(m.start_ts) AS window_start, MAX(m.start_ts) AS window_end,
           {metrics_sql({"split_buy_ins": "COUNT(*)", "max_in_window": "MAX(e.k)", "max_total_cad": "MAX(e.total)"})} AS metrics,
           MAX(ev.evidence_txn_ids) AS evidence_txn_ids, {clamp01("0.6 + COUNT(*) / 20.0")} AS strength
    FROM members m JOIN (SELECT party_id, MAX(k) AS k, MAX(total) AS total FROM ends GROUP BY party_id) e ON e.party_id = m.party_id
    LEFT JOIN ev ON ev.party_id = m.party_id
    GROUP BY m.party_id
    """
