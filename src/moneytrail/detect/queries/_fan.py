"""Shared builder for fan-in and fan-out: many one-off counterparties of one hub in a window."""

from __future__ import annotations

from moneytrail.detect.sql import clamp01, edges_sql, evidence_sql, metrics_sql, pairs_sql


def fan_sql(params: dict, direction: str) -> str:
    """Hubs that many distinct counterparties paid (``in``) or were paid by (``out``) within a window.

    A counterparty counts when it moved money with the hub at most ``max_txns_per_counterparty``
    times over the whole period (one-off relations, as when mules are recruited for a scheme) and
    at least ``min_amount`` in total. One hit per hub, covering every window that qualifies; the
    ``counterparties`` metric is the busiest window's count.
    """
    hub, cp = ("dst", "src") if direction == "in" else ("src", "dst")
    w = int(params["window_days"]) * 86400
    return f"""
    WITH edges AS ({edges_sql()}),
    pairs AS ({pairs_sql()}),
    fresh AS (
        SELECT {hub} AS hub, {cp} AS cp, first_t, first_ts FROM pairs
        WHERE n <= {int(params["max_txns_per_counterparty"])} AND total >= {float(params["min_amount"])}
    ),
    win AS (
        SELECT hub, cp, first_t, first_ts,
               COUNT(*) OVER (PARTITION BY hub ORDER BY first_t RANGE BETWEEN {w} PRECEDING AND CURRENT ROW) AS k
        FROM fresh
    ),
    -- a counterparty belongs to a qualifying window when the next qualifying window end comes
    -- within the window length after it (linear, unlike joining every end to every row)
    nxt AS (
        SELECT hub, cp, first_t, k,
               MIN(CASE WHEN k >= {int(params["min_counterparties"])} THEN first_t END) OVER (
                   PARTITION BY hub ORDER BY first_t ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS next_end
        FROM win
    ),
    best AS (
        SELECT hub, end_t, k FROM (
            SELECT hub, first_t AS end_t, k, ROW_NUMBER() OVER (PARTITION BY hub ORDER BY k DESC, first_t) AS rn
            FROM win WHERE k >= {int(params["min_counterparties"])}
        ) AS r WHERE rn = 1
    ),
    members AS (
        -- counterparties of every qualifying window; those of the busiest window come first
        SELECT n.hub, n.cp, CASE WHEN n.first_t BETWEEN b.end_t - {w} AND b.end_t THEN 0 ELSE 1 END AS prio
        FROM nxt n JOIN best b ON b.hub = n.hub
        WHERE n.next_end IS NOT NULL AND n.next_end - n.first_t <= {w}
    ),
    ev_rows AS (
        SELECT m.hub, m.prio, e.txn_id, e.amt, e.ts FROM members m
        JOIN edges e ON e.{cp} = m.cp AND e.{hub} = m.hub
    ),
    agg AS (
        SELECT hub, COUNT(DISTINCT txn_id) AS n_txns, SUM(amt) AS total, MIN(ts) AS window_start,
               MAX(ts) AS window_end
        FROM ev_rows GROUP BY hub
    ),
    ev AS ({evidence_sql("ev_rows", ["hub"], cap=int(params["max_evidence"]), priority="prio")})
    SELECT 'account' AS entity_kind, a.hub AS entity_id, a.window_start, a.window_end,
           {metrics_sql({"counterparties": "b.k", "transactions": "a.n_txns", "total_cad": "a.total"})} AS metrics,
           ev.evidence_txn_ids,
           {clamp01(f"b.k / (2.0 * {int(params['min_counterparties'])})")} AS strength
    FROM agg a JOIN best b ON b.hub = a.hub JOIN ev ON ev.hub = a.hub
    """
