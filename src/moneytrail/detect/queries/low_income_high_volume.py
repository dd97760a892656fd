"""U4 student or homemaker accounts with high volume."""

from __future__ import annotations

from moneytrail.detect.sql import (
    LOW_INCOME_OCCUPATIONS,
    account_holders_sql,
    clamp01,
    edges_sql,
    evidence_sql,
    in_list,
    metrics_sql,
)


def low_income_high_volume_sql(p: dict) -> str:
    """Accounts held by students, homemakers or the unemployed (or with declared income below ``max_income``) that receive at least ``min_inflow`` within ``window_days`` and pay most of it on."""
    w = int(p["window_days"]) * 86400
    return f"""
    WITH h AS ({account_holders_sql()}),
    low AS (SELECT account_id FROM h WHERE h.party_kind = 'person' AND (h.occupation IN {in_list(LOW_INCOME_OCCUPATIONS)}
            OR COALESCE(h.declared_income, 1e18) < {float(p["max_income"])})),
    e AS ({edges_sql()}),
    flows AS (
        SELECT l.account_id AS acct, e.txn_id, e.t, e.ts, CASE WHEN e.dst = l.account_id THEN e.amt ELSE 0 END AS inflow,
               CASE WHEN e.src = l.account_id THEN e.amt ELSE 0 END AS outflow
        FROM low l JOIN e ON e.dst = l.account_id
        UNION ALL
        SELECT l.account_id, e.txn_id, e.t, e.ts, 0, e.amt FROM low l JOIN e ON e.src = l.account_id
    ),
    bucket AS (
        SELECT acct, FLOOR(t / {w}) AS b, SUM(inflow) AS inflow, SUM(outflow) AS outflow, MIN(ts) AS window_start, MAX(ts) AS window_end
        FROM flows GROUP BY acct, FLOOR(t / {w})
        HAVING SUM(inflow) >= {float(p["min_inflow"])} AND SUM(outflow) >= {float(p["min_pass_share"])} * SUM(inflow)
    ),
    ev_rows AS (SELECT f.acct, f.txn_id, -f.inflow AS prio FROM flows f JOIN bucket b ON b.acct = f.acct AND FLOOR(f.t / {w}) = b.b),
    ev AS ({evidence_sql("ev_rows", ["acct"], priority="prio")})
    SELECT 'account' AS entity_kind, b.acct AS entity_id, MIN(b.window_start) AS window_start, MAX(b.window_end) AS window_end,
           {metrics_sql({"max_inflow_cad": "MAX(b.inflow)", "max_outflow_cad": "MAX(b.outflow)"})} AS metrics,
           MIN(ev.evidence_txn_ids) AS evidence_txn_ids, {clamp01(f"MAX(b.inflow) / {4 * float(p['min_inflow'])} + 0.5")} AS strength
    FROM bucket b JOIN ev ON ev.acct = b.acct GROUP BY b.acct
    """
