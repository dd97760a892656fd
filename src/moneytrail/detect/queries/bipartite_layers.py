"""G6 bipartite layers: a group of payers that each pay the same group of payees."""

from __future__ import annotations

from moneytrail.detect.sql import clamp01, edges_sql, evidence_sql, metrics_sql, pairs_sql


def bipartite_layers_sql(params: dict) -> str:
    """Payers sharing at least ``min_shared`` one-off payees with at least ``min_partners`` other
    payers, first paid within ``window_days`` of each other. Busy payees (more than
    ``max_payee_degree`` one-off payers) are left out: they are merchants, not a layer."""
    k = int(params["min_shared"])
    w = int(params["window_days"]) * 86400
    return f"""
    WITH edges AS ({edges_sql()}),
    pairs AS ({pairs_sql()}),
    fresh AS (SELECT src, dst, first_t FROM pairs WHERE n <= {int(params["max_txns_per_counterparty"])}),
    payees AS (
        SELECT dst FROM fresh GROUP BY dst
        HAVING COUNT(*) >= {int(params["min_partners"]) + 1} AND COUNT(*) <= {int(params["max_payee_degree"])}
    ),
    payers AS (SELECT src FROM fresh GROUP BY src HAVING COUNT(*) >= {k}),
    fp AS (
        SELECT f.* FROM fresh f JOIN payees d ON d.dst = f.dst JOIN payers s ON s.src = f.src
    ),
    co AS (
        SELECT a.src AS s1, b.src AS s2, COUNT(*) AS shared
        FROM fp a JOIN fp b ON a.dst = b.dst AND a.src <> b.src AND ABS(a.first_t - b.first_t) <= {w}
        GROUP BY a.src, b.src HAVING COUNT(*) >= {k}
    ),
    layer AS (
        SELECT s1, COUNT(*) AS partners, MAX(shared) AS shared FROM co GROUP BY s1
        HAVING COUNT(*) >= {int(params["min_partners"])}
    ),
    ev_rows AS (
        SELECT DISTINCT l.s1, e.txn_id, e.ts, e.amt
        FROM layer l JOIN co ON co.s1 = l.s1 JOIN fp a ON a.src = co.s1 JOIN fp b ON b.src = co.s2 AND b.dst = a.dst
        JOIN edges e ON e.src = l.s1 AND e.dst = a.dst
    ),
    agg AS (SELECT s1, MIN(ts) AS window_start, MAX(ts) AS window_end, SUM(amt) AS total FROM ev_rows GROUP BY s1),
    ev AS ({evidence_sql("ev_rows", ["s1"])})
    SELECT 'account' AS entity_kind, l.s1 AS entity_id, a.window_start, a.window_end,
           {metrics_sql({"partner_payers": "l.partners", "shared_payees": "l.shared", "total_cad": "a.total"})} AS metrics,
           ev.evidence_txn_ids, {clamp01(f"l.partners / (2.0 * {int(params['min_partners'])})")} AS strength
    FROM layer l JOIN agg a ON a.s1 = l.s1 JOIN ev ON ev.s1 = l.s1
    """
