"""T2 many small transfers from different senders to one beneficiary in China."""

from __future__ import annotations

from moneytrail.detect.sql import clamp01, edges_sql, evidence_sql, metrics_sql


def china_beneficiary_fan_in_sql(p: dict) -> str:
    """Accounts in China or Hong Kong receiving transfers from at least ``min_senders`` distinct senders in Canada within ``window_days``, each at most ``max_amount``."""
    w = int(p["window_days"]) * 86400
    return f"""
    WITH x AS (
        SELECT e.* FROM ({edges_sql("country_dst IN ('CN', 'HK') AND COALESCE(country_src, 'CA') NOT IN ('CN', 'HK')")}) AS e
        WHERE e.amt <= {float(p["max_amount"])}
    ),
    per AS (
        SELECT a.dst, a.t, COUNT(DISTINCT b.src) AS senders FROM x a JOIN x b ON b.dst = a.dst AND b.t BETWEEN a.t AND a.t + {w}
        GROUP BY a.dst, a.t HAVING COUNT(DISTINCT b.src) >= {int(p["min_senders"])}
    ),
    ev_rows AS (SELECT DISTINCT p.dst, x.txn_id, x.ts FROM per p JOIN x ON x.dst = p.dst AND x.t BETWEEN p.t AND p.t + {w}),
    ev AS ({evidence_sql("ev_rows", ["dst"])}),
    span AS (SELECT dst, MIN(ts) AS window_start, MAX(ts) AS window_end FROM ev_rows GROUP BY dst)
    SELECT 'account' AS entity_kind, p.dst AS entity_id, s.window_start, s.window_end,
           {metrics_sql({"max_senders": "MAX(p.senders)"})} AS metrics, ev.evidence_txn_ids,
           {clamp01("MAX(p.senders) / 10.0 + 0.5")} AS strength
    FROM per p JOIN ev ON ev.dst = p.dst JOIN span s ON s.dst = p.dst
    GROUP BY p.dst, s.window_start, s.window_end, ev.evidence_txn_ids
    """
