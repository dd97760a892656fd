"""G3 gather-scatter: many one-off payers into one hub, which then pays many one-off payees."""

from __future__ import annotations

from moneytrail.detect.sql import clamp01, edges_sql, evidence_sql, metrics_sql, pairs_sql


def gather_scatter_sql(params: dict) -> str:
    """Hubs gathering from ``min_counterparties`` one-off payers within ``window_days`` and
    scattering to as many one-off payees from the start of that window to ``window_days`` after it."""
    k = int(params["min_counterparties"])
    w = int(params["window_days"]) * 86400
    n = int(params["max_txns_per_counterparty"])
    return f"""
    WITH edges AS ({edges_sql()}),
    pairs AS ({pairs_sql()}),
    fresh AS (SELECT src, dst, first_t FROM pairs WHERE n <= {n}),
    hubs AS (
        SELECT i.hub FROM (SELECT dst AS hub FROM fresh GROUP BY dst HAVING COUNT(*) >= {k}) AS i
        JOIN (SELECT src AS hub FROM fresh GROUP BY src HAVING COUNT(*) >= {k}) AS o ON o.hub = i.hub
    ),
    fin AS (SELECT f.dst AS hub, f.src AS cp, f.first_t FROM fresh f JOIN hubs h ON h.hub = f.dst),
    fout AS (SELECT f.src AS hub, f.dst AS cp, f.first_t FROM fresh f JOIN hubs h ON h.hub = f.src),
    events AS (
        SELECT hub, first_t, 1 AS is_in, 0 AS is_out FROM fin
        UNION ALL SELECT hub, first_t, 0, 1 FROM fout
    ),
    -- per inflow as the end of a gathering window: payers in the window, payees from its start
    -- to one window after its end (window frames keep this linear in the events)
    win AS (
        SELECT hub, first_t AS end_t, is_in,
               SUM(is_in) OVER (PARTITION BY hub ORDER BY first_t RANGE BETWEEN {w} PRECEDING AND CURRENT ROW) AS k_in,
               SUM(is_out) OVER (PARTITION BY hub ORDER BY first_t RANGE BETWEEN {w} PRECEDING AND {w} FOLLOWING) AS k_out
        FROM events
    ),
    cand AS (SELECT hub, end_t, k_in, k_out FROM win WHERE is_in = 1 AND k_in >= {k} AND k_out >= {k}),
    best AS (
        SELECT hub, end_t, k_in, k_out FROM (
            SELECT c.*, ROW_NUMBER() OVER (PARTITION BY hub ORDER BY LEAST(k_in, k_out) DESC, end_t) AS rn
            FROM cand c
        ) AS r WHERE rn = 1
    ),
    members AS (
        SELECT b.hub, f.cp, 'in' AS side FROM best b
        JOIN fin f ON f.hub = b.hub AND f.first_t BETWEEN b.end_t - {w} AND b.end_t
        UNION ALL
        SELECT b.hub, f.cp, 'out' AS side FROM best b
        JOIN fout f ON f.hub = b.hub AND f.first_t BETWEEN b.end_t - {w} AND b.end_t + {w}
    ),
    ev_rows AS (
        SELECT m.hub, e.txn_id, e.ts, e.amt AS in_amt, 0.0 AS out_amt
        FROM members m JOIN edges e ON e.src = m.cp AND e.dst = m.hub WHERE m.side = 'in'
        UNION ALL
        SELECT m.hub, e.txn_id, e.ts, 0.0 AS in_amt, e.amt AS out_amt
        FROM members m JOIN edges e ON e.src = m.hub AND e.dst = m.cp WHERE m.side = 'out'
    ),
    agg AS (
        SELECT hub, MIN(ts) AS window_start, MAX(ts) AS window_end, SUM(in_amt) AS gathered,
               SUM(out_amt) AS scattered
        FROM ev_rows GROUP BY hub
    ),
    ev AS ({evidence_sql("ev_rows", ["hub"])})
    SELECT 'account' AS entity_kind, a.hub AS entity_id, a.window_start, a.window_end,
           {metrics_sql({"payers": "b.k_in", "payees": "b.k_out", "gathered_cad": "a.gathered", "scattered_cad": "a.scattered"})}
               AS metrics,
           ev.evidence_txn_ids, {clamp01(f"LEAST(b.k_in, b.k_out) / (2.0 * {k})")} AS strength
    FROM agg a JOIN best b ON b.hub = a.hub JOIN ev ON ev.hub = a.hub
    """
