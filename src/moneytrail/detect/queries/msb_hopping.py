"""S4 many money services businesses used within a short time."""

from __future__ import annotations

from moneytrail.detect.sql import clamp01, edges_sql, evidence_sql, metrics_sql


def msb_hopping_sql(p: dict) -> str:
    """Parties paying or depositing at ``min_msbs`` or more distinct money services businesses within ``window_hours``, each transaction under the threshold."""
    w = int(float(p["window_hours"]) * 3600)
    return f"""
    WITH x AS (
        SELECT e.txn_id, e.ts, e.t, COALESCE(sa.holder_party_id, e.src) AS who, da.institution AS msb
        FROM ({edges_sql()}) AS e
        JOIN accounts da ON da.account_id = e.dst AND da.institution_type = 'msb'
        LEFT JOIN accounts sa ON sa.account_id = e.src
        WHERE e.amt < {float(p["threshold"])} AND COALESCE(sa.institution_type, '') <> 'msb'
          AND da.holder_party_id IS DISTINCT FROM sa.holder_party_id
    ),
    pairs AS (
        SELECT a.who, a.t AS start_t, COUNT(DISTINCT b.msb) AS msbs
        FROM x a JOIN x b ON b.who = a.who AND b.t BETWEEN a.t AND a.t + {w}
        GROUP BY a.who, a.t HAVING COUNT(DISTINCT b.msb) >= {int(p["min_msbs"])}
    ),
    ev_rows AS (SELECT DISTINCT p.who, x.txn_id, x.ts FROM pairs p JOIN x ON x.who = p.who AND x.t BETWEEN p.start_t AND p.start_t + {w}),
    ev AS ({evidence_sql("ev_rows", ["who"])}),
    agg AS (SELECT who, MIN(ts) AS window_start, MAX(ts) AS window_end FROM ev_rows GROUP BY who)
    SELECT 'party' AS entity_kind, p.who AS entity_id, a.window_start, a.window_end,
           {metrics_sql({"max_msbs": "MAX(p.msbs)"})} AS metrics, ev.evidence_txn_ids,
           {clamp01(f"MAX(p.msbs) / {2.0 * int(p['min_msbs'])}")} AS strength
    FROM pairs p JOIN agg a ON a.who = p.who JOIN ev ON ev.who = p.who
    GROUP BY p.who, a.window_start, a.window_end, ev.evidence_txn_ids
    """
