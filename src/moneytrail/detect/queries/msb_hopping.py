"""S4 many money services businesses used within a short time."""

from __future__ import annotations

from moneytrail.detect.sql import clamp01, edges_sql, evidence_sql, metrics_sql


def msb_hopping_sql(p: dict) -> str:
    """Bursts of payments or deposits by one party at ``min_msbs`` or more distinct money services
    businesses within ``window_hours``, each under the threshold; one hit per burst, whose evidence
    also lists each business's onward transfer of the same amount (within ``match_tolerance``)
    within ``onward_hours``."""
    w = int(float(p["window_hours"]) * 3600)
    onward = int(float(p["onward_hours"]) * 3600)
    tol = float(p["match_tolerance"])
    return f"""
    -- one scan: the payments into and out of money services businesses
    WITH msb_accts AS (SELECT account_id FROM accounts WHERE institution_type = 'msb'),
    me AS MATERIALIZED (
        SELECT e.*, CASE WHEN mi.account_id IS NULL THEN 0 ELSE 1 END AS into_msb,
               CASE WHEN mo.account_id IS NULL THEN 0 ELSE 1 END AS out_of_msb
        FROM ({edges_sql()}) AS e
        LEFT JOIN msb_accts mi ON mi.account_id = e.dst LEFT JOIN msb_accts mo ON mo.account_id = e.src
        WHERE mi.account_id IS NOT NULL OR mo.account_id IS NOT NULL
    ),
    x AS (
        SELECT e.txn_id, e.ts, e.t, e.dst, e.amt, COALESCE(sa.holder_party_id, e.src) AS who, da.institution AS msb
        FROM me e
        JOIN accounts da ON da.account_id = e.dst AND da.institution_type = 'msb'
        LEFT JOIN accounts sa ON sa.account_id = e.src
        WHERE e.amt < {float(p["threshold"])} AND COALESCE(sa.institution_type, '') <> 'msb'
          AND da.holder_party_id IS DISTINCT FROM sa.holder_party_id
    ),
    starts AS (
        SELECT a.who, a.t AS start_t, COUNT(DISTINCT b.msb) AS msbs
        FROM x a JOIN x b ON b.who = a.who AND b.t BETWEEN a.t AND a.t + {w}
        GROUP BY a.who, a.t HAVING COUNT(DISTINCT b.msb) >= {int(p["min_msbs"])}
    ),
    inw AS (
        SELECT x.who, x.txn_id, x.ts, x.t, x.dst, x.amt, MAX(s.msbs) AS msbs
        FROM x JOIN starts s ON s.who = x.who AND x.t BETWEEN s.start_t AND s.start_t + {w}
        GROUP BY x.who, x.txn_id, x.ts, x.t, x.dst, x.amt
    ),
    marked AS (
        SELECT inw.*, CASE WHEN t - LAG(t) OVER (PARTITION BY who ORDER BY t, txn_id) <= {w} THEN 0 ELSE 1 END AS new_burst
        FROM inw
    ),
    bursts AS (
        SELECT marked.*, SUM(new_burst) OVER (PARTITION BY who ORDER BY t, txn_id ROWS UNBOUNDED PRECEDING) AS burst
        FROM marked
    ),
    onward AS (
        SELECT b.who, b.burst, e.txn_id, e.ts
        -- a burst's payments went into businesses: their onward transfers leave one
        FROM bursts b JOIN (SELECT * FROM me WHERE out_of_msb = 1) AS e
          ON e.src = b.dst AND e.t BETWEEN b.t AND b.t + {onward} AND ABS(e.amt - b.amt) <= {tol} * b.amt
    ),
    ev_rows AS (
        SELECT who, burst, txn_id, 0 AS prio FROM bursts
        UNION ALL SELECT who, burst, txn_id, 1 FROM onward
    ),
    ev AS ({evidence_sql("ev_rows", ["who", "burst"], priority="prio")}),
    agg AS (
        SELECT who, burst, MIN(ts) AS window_start, MAX(ts) AS window_end, MAX(msbs) AS msbs,
               COUNT(*) AS payments, SUM(amt) AS total
        FROM bursts GROUP BY who, burst
    )
    SELECT 'party' AS entity_kind, a.who AS entity_id, a.window_start, a.window_end,
           {metrics_sql({"max_msbs": "a.msbs", "payments": "a.payments", "total_cad": "a.total", "onward": "ev.evidence_count - a.payments"})} AS metrics,
           ev.evidence_txn_ids, {clamp01(f"a.msbs / {2.0 * int(p['min_msbs'])}")} AS strength
    FROM agg a JOIN ev ON ev.who = a.who AND ev.burst = a.burst
    """
