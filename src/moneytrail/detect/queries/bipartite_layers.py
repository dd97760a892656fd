"""G6 bipartite layers: a group of payers that each pay the same group of payees."""

from __future__ import annotations

from moneytrail.detect.sql import EDGES, PAIRS, clamp01, evidence_sql, metrics_sql


def bipartite_layers_sql(params: dict) -> str:
    """Payers sharing at least ``min_shared`` payees with at least ``min_partners`` other payers,
    the two relations active within ``window_days`` of each other. Busy payees (more than
    ``max_payee_degree`` payers) are left out: they are merchants, not a layer.

    A layer is often used round after round, so relations count however many transactions they
    carried; what matters is that the same payers keep paying the same few payees.
    """
    k = int(params["min_shared"])
    w = int(params["window_days"]) * 86400
    return f"""
    -- the shared edges and counterparty pairs of every transaction (provided by the runner), read
    -- by name: a common table expression over them would be copied whole when read twice
    WITH payees AS (
        SELECT dst FROM {PAIRS} GROUP BY dst
        HAVING COUNT(*) >= {int(params["min_partners"]) + 1} AND COUNT(*) <= {int(params["max_payee_degree"])}
    ),
    fp AS (SELECT p.src, p.dst, p.first_t, p.last_t FROM {PAIRS} p JOIN payees d ON d.dst = p.dst),
    payers AS (SELECT src FROM fp GROUP BY src HAVING COUNT(*) >= {k}),
    lp AS (SELECT f.* FROM fp f JOIN payers s ON s.src = f.src),
    co AS (
        SELECT a.src AS s1, b.src AS s2, COUNT(*) AS shared
        FROM lp a JOIN lp b ON a.dst = b.dst AND a.src <> b.src
         AND a.first_t <= b.last_t + {w} AND b.first_t <= a.last_t + {w}
        GROUP BY a.src, b.src HAVING COUNT(*) >= {k}
    ),
    layer AS (
        SELECT s1, COUNT(*) AS partners, MAX(shared) AS shared FROM co GROUP BY s1
        HAVING COUNT(*) >= {int(params["min_partners"])}
    ),
    -- the layer's payments: to the payees the payer shares with its partners
    ev_rows AS (
        SELECT DISTINCT l.s1, e.txn_id, e.ts, e.amt
        FROM layer l JOIN co ON co.s1 = l.s1 JOIN lp a ON a.src = co.s1 JOIN lp b ON b.src = co.s2 AND b.dst = a.dst
        JOIN {EDGES} e ON e.src = l.s1 AND e.dst = a.dst
    ),
    agg AS (SELECT s1, MIN(ts) AS window_start, MAX(ts) AS window_end, SUM(amt) AS total FROM ev_rows GROUP BY s1),
    ev AS ({evidence_sql("ev_rows", ["s1"])})
    SELECT 'account' AS entity_kind, l.s1 AS entity_id, a.window_start, a.window_end,
           {metrics_sql({"partner_payers": "l.partners", "shared_payees": "l.shared", "total_cad": "a.total"})} AS metrics,
           ev.evidence_txn_ids, {clamp01(f"l.partners / (2.0 * {int(params['min_partners'])})")} AS strength
    FROM layer l JOIN agg a ON a.s1 = l.s1 JOIN ev ON ev.s1 = l.s1
    """
