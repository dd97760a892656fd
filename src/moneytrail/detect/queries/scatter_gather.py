"""G3 scatter-gather: one source pays many intermediaries who each pass money on to one sink."""

from __future__ import annotations

from moneytrail.detect.sql import EDGES, PAIRS, clamp01, counterparties_sql, evidence_sql, metrics_sql

# Evidence priority of legs beyond each intermediary's first forward and the receipt before it.
_LATER = 1_000_000_000


def scatter_gather_sql(params: dict) -> str:
    """Source accounts whose payees forward to one common sink within ``window_days``; one hit on
    the source and one on the sink of each such pair.

    An intermediary counts when its first payment to the sink came at most ``window_days`` after a
    receipt from the source: a standing mule that receives for months before it starts forwarding
    counts, even when its first forward came long after its first receipt. The check is one
    ordered pass over each (source, intermediary) relation's receipts and first forwards, with the
    latest receipt carried forward, so no engine joins receipts to forwards.

    The legs that make the shape come first in the evidence: for each intermediary, in order of
    its first forward, that forward and the last receipt before it, so the cap never leaves a busy
    source's forwarding legs out.

    Only sources with at least ``min_intermediaries`` payees and sinks with as many payers are
    joined, which keeps the two-hop join small on large worlds.
    """
    k = int(params["min_intermediaries"])
    w = int(params["window_days"]) * 86400
    n = int(params["max_txns_per_counterparty"])
    # the relations that carried at most n transactions; a subquery, not a common table
    # expression, which would be a copy of the pairs
    fresh = f"(SELECT src, dst, first_t, last_t FROM {PAIRS} WHERE n <= {n})"
    return f"""
    -- the shared edges and counterparty pairs of every transaction (provided by the runner), read
    -- by name: a common table expression over them would be copied whole when read twice
    WITH srcs AS (SELECT src FROM {fresh} GROUP BY src HAVING COUNT(*) >= {k}),
    sinks AS (SELECT dst FROM {fresh} GROUP BY dst HAVING COUNT(*) >= {k}),
    -- intermediaries are small accounts: a busy account (a merchant, a payroll) is no mule
    deg AS (
        SELECT acct FROM ({counterparties_sql(PAIRS)}) AS c
        WHERE n_cp <= {int(params["max_intermediary_degree"])}
    ),
    p1 AS (SELECT f.* FROM {fresh} f JOIN srcs s ON s.src = f.src JOIN deg m ON m.acct = f.dst),
    p2 AS (SELECT f.* FROM {fresh} f JOIN sinks d ON d.dst = f.dst JOIN deg m ON m.acct = f.src),
    -- the relations' times narrow the candidates: the first forward falls between the first
    -- receipt and a window after the last one
    sg AS (
        SELECT p1.src AS s, p1.dst AS m, p2.dst AS d, p2.first_t AS t2
        FROM p1 JOIN p2 ON p2.src = p1.dst AND p2.dst <> p1.src
         AND p2.first_t >= p1.first_t AND p2.first_t <= p1.last_t + {w}
    ),
    cand AS (SELECT s, d FROM sg GROUP BY s, d HAVING COUNT(DISTINCT m) >= {k}),
    legs AS MATERIALIZED (SELECT sg.* FROM sg JOIN cand c ON c.s = sg.s AND c.d = sg.d),
    -- the transactions of the legs' relations, from one read of the transactions
    edges AS MATERIALIZED (
        SELECT e.* FROM {EDGES} e
        JOIN (SELECT s AS src, m AS dst FROM legs UNION SELECT m, d FROM legs) AS r ON r.src = e.src AND r.dst = e.dst
    ),
    -- each (source, intermediary) relation's receipts and first forwards in time order; receipts
    -- sort before forwards at equal times, and each forward carries the latest receipt before it
    seq AS (
        SELECT s, m, d, t, is_fwd,
               MAX(CASE WHEN is_fwd = 0 THEN t END) OVER (
                   PARTITION BY s, m ORDER BY t, is_fwd, d ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS last_in
        FROM (
            SELECT e.src AS s, e.dst AS m, CAST(NULL AS VARCHAR) AS d, e.t, 0 AS is_fwd
            FROM edges e JOIN (SELECT DISTINCT s, m FROM legs) AS r ON r.s = e.src AND r.m = e.dst
            UNION ALL
            SELECT s, m, d, t2, 1 FROM legs
        ) AS u
    ),
    ok AS (SELECT s, d, m, last_in AS t1, t AS t2 FROM seq WHERE is_fwd = 1 AND t - last_in <= {w}),
    grp AS MATERIALIZED (SELECT s, d, COUNT(*) AS k FROM ok GROUP BY s, d HAVING COUNT(*) >= {k}),
    -- each intermediary's first forward and the last receipt before it make the shape; the
    -- intermediaries are ranked by that forward so the evidence shows one pair after another
    shape AS (
        SELECT o.s, o.d, o.m, o.t1, o.t2, ROW_NUMBER() OVER (PARTITION BY o.s, o.d ORDER BY o.t2, o.m) AS rk
        FROM ok o JOIN grp g ON g.s = o.s AND g.d = o.d
    ),
    ev_rows AS MATERIALIZED (
        SELECT f.s, f.d, e.txn_id, e.ts, e.amt AS out_amt, 0.0 AS in_amt,
               CASE WHEN e.t = f.t1 THEN f.rk ELSE {_LATER} END AS prio
        FROM shape f JOIN edges e ON e.src = f.s AND e.dst = f.m
        UNION ALL
        SELECT f.s, f.d, e.txn_id, e.ts, 0.0 AS out_amt, e.amt AS in_amt,
               CASE WHEN e.t = f.t2 THEN f.rk ELSE {_LATER} END AS prio
        FROM shape f JOIN edges e ON e.src = f.m AND e.dst = f.d
    ),
    agg AS (
        SELECT s, d, MIN(ts) AS window_start, MAX(ts) AS window_end, SUM(out_amt) AS scattered,
               SUM(in_amt) AS gathered
        FROM ev_rows GROUP BY s, d
    ),
    ev AS ({evidence_sql("ev_rows", ["s", "d"], priority="prio")}),
    found AS MATERIALIZED (
        SELECT a.s, a.d, a.window_start, a.window_end,
               {metrics_sql({"intermediaries": "g.k", "scattered_cad": "a.scattered", "gathered_cad": "a.gathered"})}
                   AS metrics,
               ev.evidence_txn_ids, {clamp01(f"g.k / (2.0 * {k})")} AS strength
        FROM agg a JOIN grp g ON g.s = a.s AND g.d = a.d JOIN ev ON ev.s = a.s AND ev.d = a.d
    )
    SELECT 'account' AS entity_kind, s AS entity_id, window_start, window_end, metrics, evidence_txn_ids, strength
    FROM found
    UNION ALL
    -- the gathering sink is a hit of its own: it is where the scattered money comes back together
    SELECT 'account', d, window_start, window_end, metrics, evidence_txn_ids, strength FROM found
    """
