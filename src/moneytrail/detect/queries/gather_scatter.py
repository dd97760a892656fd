"""G3 gather-scatter: many one-off payers into one hub, which then pays many one-off payees."""

from __future__ import annotations

from moneytrail.detect.queries._fan import pair_evidence_sql
from moneytrail.detect.sql import PAIRS, clamp01, evidence_sql, metrics_sql


def gather_scatter_sql(params: dict) -> str:
    """Hubs gathering from ``min_counterparties`` one-off payers within ``window_days`` and
    scattering to as many one-off payees from the start of that window to ``window_days`` after it.

    Reads the shared relations ``_pairs`` (and ``_edges`` when a relation may carry more than two
    transactions), which the runner provides."""
    k = int(params["min_counterparties"])
    w = int(params["window_days"]) * 86400
    n = int(params["max_txns_per_counterparty"])
    # the pairs are read by inline subqueries, never through a common table expression that two
    # parts of the query read: DuckDB materialises those, which at 100 million transactions
    # copied every pair three times (all relations, then the hubs' inflows and outflows) and
    # spilled past 19 GB
    fresh = f"(SELECT * FROM {PAIRS} WHERE n <= {n})"
    return f"""
    WITH hubs AS (
        SELECT i.hub FROM (SELECT dst AS hub FROM {fresh} AS f GROUP BY dst HAVING COUNT(*) >= {k}) AS i
        JOIN (SELECT src AS hub FROM {fresh} AS f GROUP BY src HAVING COUNT(*) >= {k}) AS o ON o.hub = i.hub
    ),
    events AS (
        SELECT dst AS hub, first_t, 1 AS is_in, 0 AS is_out FROM {fresh} AS f WHERE dst IN (SELECT hub FROM hubs)
        UNION ALL SELECT src, first_t, 0, 1 FROM {fresh} AS f WHERE src IN (SELECT hub FROM hubs)
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
    -- the strongest window, the earliest of equals: a maximum, then a minimum (every inflow at
    -- the same time has the same counts)
    peak AS (SELECT hub, MAX(LEAST(k_in, k_out)) AS m FROM cand GROUP BY hub),
    first_peak AS (
        SELECT c.hub, MIN(c.end_t) AS end_t FROM cand c JOIN peak p ON p.hub = c.hub AND LEAST(c.k_in, c.k_out) = p.m
        GROUP BY c.hub
    ),
    best AS (
        SELECT c.hub, c.end_t, MIN(c.k_in) AS k_in, MIN(c.k_out) AS k_out FROM cand c
        JOIN first_peak f ON f.hub = c.hub AND f.end_t = c.end_t GROUP BY c.hub, c.end_t
    ),
    members_in AS (
        SELECT f.dst AS hub, 0 AS prio, f.src AS cp, f.n, f.total, f.first_ts, f.last_ts, f.first_txn_id,
               f.last_txn_id
        FROM best b JOIN {fresh} AS f ON f.dst = b.hub AND f.first_t BETWEEN b.end_t - {w} AND b.end_t
    ),
    members_out AS (
        SELECT f.src AS hub, 0 AS prio, f.dst AS cp, f.n, f.total, f.first_ts, f.last_ts, f.first_txn_id,
               f.last_txn_id
        FROM best b JOIN {fresh} AS f ON f.src = b.hub AND f.first_t BETWEEN b.end_t - {w} AND b.end_t + {w}
    ),
    -- a relation's transactions are all evidence, so its totals are the pair's
    agg AS (
        SELECT hub, MIN(first_ts) AS window_start, MAX(last_ts) AS window_end, SUM(in_amt) AS gathered,
               SUM(out_amt) AS scattered
        FROM (
            SELECT hub, first_ts, last_ts, total AS in_amt, 0.0 AS out_amt FROM members_in
            UNION ALL SELECT hub, first_ts, last_ts, 0.0 AS in_amt, total AS out_amt FROM members_out
        ) AS m
        GROUP BY hub
    ),
    ev_rows AS (
        {pair_evidence_sql("members_in", "dst", "src", more_than_two=n > 2)}
        UNION ALL
        {pair_evidence_sql("members_out", "src", "dst", more_than_two=n > 2)}
    ),
    ev AS ({evidence_sql("ev_rows", ["hub"], distinct=False)})
    SELECT 'account' AS entity_kind, a.hub AS entity_id, a.window_start, a.window_end,
           {metrics_sql({"payers": "b.k_in", "payees": "b.k_out", "gathered_cad": "a.gathered", "scattered_cad": "a.scattered"})}
               AS metrics,
           ev.evidence_txn_ids, {clamp01(f"LEAST(b.k_in, b.k_out) / (2.0 * {k})")} AS strength
    FROM agg a JOIN best b ON b.hub = a.hub JOIN ev ON ev.hub = a.hub
    """
