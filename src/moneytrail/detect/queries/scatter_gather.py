"""G3 scatter-gather: one source pays many intermediaries who each pass money on to one sink."""

from __future__ import annotations

from moneytrail.detect.sql import clamp01, edges_sql, evidence_sql, metrics_sql, pairs_sql


def scatter_gather_sql(params: dict) -> str:
    """Source accounts whose one-off payees forward to one common sink within ``window_days``;
    one hit on the source and one on the sink of each such pair.

    Only sources with at least ``min_intermediaries`` one-off payees and sinks with as many one-off
    payers are joined, which keeps the two-hop join small on large worlds.
    """
    k = int(params["min_intermediaries"])
    w = int(params["window_days"]) * 86400
    n = int(params["max_txns_per_counterparty"])
    return f"""
    WITH edges AS ({edges_sql()}),
    pairs AS ({pairs_sql()}),
    fresh AS (SELECT src, dst, first_t FROM pairs WHERE n <= {n}),
    srcs AS (SELECT src FROM fresh GROUP BY src HAVING COUNT(*) >= {k}),
    sinks AS (SELECT dst FROM fresh GROUP BY dst HAVING COUNT(*) >= {k}),
    -- intermediaries are small accounts: a busy account (a merchant, a payroll) is no mule
    deg AS (
        SELECT acct FROM (SELECT src AS acct, dst AS cp FROM pairs UNION SELECT dst, src FROM pairs) AS u
        GROUP BY acct HAVING COUNT(*) <= {int(params["max_intermediary_degree"])}
    ),
    p1 AS (SELECT f.* FROM fresh f JOIN srcs s ON s.src = f.src JOIN deg m ON m.acct = f.dst),
    p2 AS (SELECT f.* FROM fresh f JOIN sinks d ON d.dst = f.dst JOIN deg m ON m.acct = f.src),
    sg AS (
        SELECT p1.src AS s, p1.dst AS m, p2.dst AS d
        FROM p1 JOIN p2 ON p2.src = p1.dst AND p2.dst <> p1.src
         AND p2.first_t >= p1.first_t AND p2.first_t <= p1.first_t + {w}
    ),
    grp AS (SELECT s, d, COUNT(DISTINCT m) AS k FROM sg GROUP BY s, d HAVING COUNT(DISTINCT m) >= {k}),
    ev_rows AS (
        SELECT sg.s, sg.d, e.txn_id, e.ts, e.amt AS out_amt, 0.0 AS in_amt
        FROM sg JOIN grp g ON g.s = sg.s AND g.d = sg.d JOIN edges e ON e.src = sg.s AND e.dst = sg.m
        UNION ALL
        SELECT sg.s, sg.d, e.txn_id, e.ts, 0.0 AS out_amt, e.amt AS in_amt
        FROM sg JOIN grp g ON g.s = sg.s AND g.d = sg.d JOIN edges e ON e.src = sg.m AND e.dst = sg.d
    ),
    agg AS (
        SELECT s, d, MIN(ts) AS window_start, MAX(ts) AS window_end, SUM(out_amt) AS scattered,
               SUM(in_amt) AS gathered
        FROM ev_rows GROUP BY s, d
    ),
    ev AS ({evidence_sql("ev_rows", ["s", "d"])})
    SELECT 'account' AS entity_kind, a.s AS entity_id, a.window_start, a.window_end,
           {metrics_sql({"intermediaries": "g.k", "scattered_cad": "a.scattered", "gathered_cad": "a.gathered"})}
               AS metrics,
           ev.evidence_txn_ids, {clamp01(f"g.k / (2.0 * {k})")} AS strength
    FROM agg a JOIN grp g ON g.s = a.s AND g.d = a.d JOIN ev ON ev.s = a.s AND ev.d = a.d
    UNION ALL
    -- the gathering sink is a hit of its own: it is where the scattered money comes back together
    SELECT 'account', a.d, a.window_start, a.window_end,
           {metrics_sql({"intermediaries": "g.k", "scattered_cad": "a.scattered", "gathered_cad": "a.gathered"})},
           ev.evidence_txn_ids, {clamp01(f"g.k / (2.0 * {k})")}
    FROM agg a JOIN grp g ON g.s = a.s AND g.d = a.d JOIN ev ON ev.s = a.s AND ev.d = a.d
    """
