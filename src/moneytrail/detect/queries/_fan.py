"""Shared builder for fan-in and fan-out: many one-off counterparties of one hub in a window."""

from __future__ import annotations

from moneytrail.detect.sql import EDGES, PAIRS, clamp01, evidence_sql, metrics_sql


def pair_evidence_sql(members: str, hub: str, cp: str, *, more_than_two: bool) -> str:
    """Every transaction of the relations in ``members`` (``hub, prio, cp, n, first_txn_id,
    last_txn_id``, from the shared pairs; ``hub`` and ``cp`` name the edge columns they are):
    ``(hub, prio, txn_id)``.

    A relation's first and last transaction ids come with the pair; only relations of more than
    two transactions (when ``more_than_two``) look up the others in the shared edges.
    """
    rows = f"""
        SELECT hub, prio, first_txn_id AS txn_id FROM {members}
        UNION ALL
        SELECT hub, prio, last_txn_id AS txn_id FROM {members} WHERE n >= 2"""
    if more_than_two:
        rows += f"""
        UNION ALL
        SELECT m.hub, m.prio, e.txn_id FROM {members} m
        JOIN {EDGES} e ON e.{cp} = m.cp AND e.{hub} = m.hub
        WHERE m.n > 2 AND e.txn_id > m.first_txn_id AND e.txn_id < m.last_txn_id"""
    return rows


def fan_sql(params: dict, direction: str) -> str:
    """Hubs that many distinct counterparties paid (``in``) or were paid by (``out``) within a window.

    A counterparty counts when it moved money with the hub at most ``max_txns_per_counterparty``
    times over the whole period (one-off relations, as when mules are recruited for a scheme) and
    at least ``min_amount`` in total. One hit per hub, covering every window that qualifies; the
    ``counterparties`` metric is the busiest window's count.

    Reads the shared relations ``_pairs`` (and ``_edges`` when a relation may carry more than two
    transactions), which the runner provides.
    """
    hub, cp = ("dst", "src") if direction == "in" else ("src", "dst")
    w = int(params["window_days"]) * 86400
    k = int(params["min_counterparties"])
    most = int(params["max_txns_per_counterparty"])
    return f"""
    WITH fresh AS (
        SELECT {hub} AS hub, {cp} AS cp, n, total, first_t, first_ts, last_ts, first_txn_id, last_txn_id
        FROM {PAIRS}
        WHERE n <= {most} AND total >= {float(params["min_amount"])}
    ),
    -- hubs with enough counterparties; when these all fall within one window length, the window
    -- ending at the last of them holds them all and is the busiest, and no window has to slide
    spans AS (
        SELECT hub, COUNT(*) AS n_cp, MAX(first_t) AS last_t, MAX(first_t) - MIN(first_t) <= {w} AS short
        FROM fresh GROUP BY hub HAVING COUNT(*) >= {k}
    ),
    fresh_s AS (SELECT f.*, s.short FROM fresh f JOIN spans s ON s.hub = f.hub),
    win AS (
        SELECT f.*,
               COUNT(*) OVER (PARTITION BY hub ORDER BY first_t RANGE BETWEEN {w} PRECEDING AND CURRENT ROW) AS k
        FROM fresh_s f WHERE NOT short
    ),
    -- a counterparty belongs to a qualifying window when the next qualifying window end comes
    -- within the window length after it (linear, unlike joining every end to every row)
    nxt AS (
        SELECT w.*,
               MIN(CASE WHEN k >= {k} THEN first_t END) OVER (
                   PARTITION BY hub ORDER BY first_t ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS next_end
        FROM win w
    ),
    -- the busiest window of a sliding hub, the earliest of equals: a maximum, then a minimum
    peak AS (SELECT hub, MAX(k) AS k FROM win GROUP BY hub HAVING MAX(k) >= {k}),
    best AS (
        SELECT hub, last_t AS end_t, n_cp AS k FROM spans WHERE short
        UNION ALL
        SELECT w.hub, MIN(w.first_t) AS end_t, p.k FROM win w JOIN peak p ON p.hub = w.hub AND w.k = p.k
        GROUP BY w.hub, p.k
    ),
    members AS (
        SELECT hub, 0 AS prio, n, total, first_ts, last_ts, first_txn_id, last_txn_id, cp
        FROM fresh_s WHERE short
        UNION ALL
        -- counterparties of every qualifying window; those of the busiest window come first
        SELECT x.hub, CASE WHEN x.first_t BETWEEN b.end_t - {w} AND b.end_t THEN 0 ELSE 1 END AS prio,
               x.n, x.total, x.first_ts, x.last_ts, x.first_txn_id, x.last_txn_id, x.cp
        FROM nxt x JOIN best b ON b.hub = x.hub
        WHERE x.next_end IS NOT NULL AND x.next_end - x.first_t <= {w}
    ),
    -- a relation's transactions are all evidence, so its totals are the pair's
    agg AS (
        SELECT hub, SUM(n) AS n_txns, SUM(total) AS total, MIN(first_ts) AS window_start,
               MAX(last_ts) AS window_end
        FROM members GROUP BY hub
    ),
    ev_rows AS ({pair_evidence_sql("members", hub, cp, more_than_two=most > 2)}),
    ev AS ({evidence_sql("ev_rows", ["hub"], cap=int(params["max_evidence"]), priority="prio", distinct=False)})
    SELECT 'account' AS entity_kind, a.hub AS entity_id, a.window_start, a.window_end,
           {metrics_sql({"counterparties": "b.k", "transactions": "a.n_txns", "total_cad": "a.total"})} AS metrics,
           ev.evidence_txn_ids,
           {clamp01(f"b.k / (2.0 * {k})")} AS strength
    FROM agg a JOIN best b ON b.hub = a.hub JOIN ev ON ev.hub = a.hub
    """
