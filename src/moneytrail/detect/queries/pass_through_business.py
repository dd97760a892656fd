"""U2 pass-through business: cash in from many, out to accounts in China."""

from __future__ import annotations

from moneytrail.detect.sql import CASH_CHANNELS, clamp01, edges_sql, evidence_sql, in_list, metrics_sql


def pass_through_business_sql(p: dict) -> str:
    """Accounts receiving cash from at least ``min_depositors`` distinct accounts and paying at least ``min_out_share`` of that on to accounts in China or Hong Kong within ``window_days``."""
    w = int(p["window_days"]) * 86400
    return f"""
    -- one scan: cash movements, and transfers to China or Hong Kong
    WITH e AS ({edges_sql(f"channel IN {in_list(CASH_CHANNELS)} OR country_dst IN ('CN', 'HK')")}),
    cin AS (SELECT dst AS acct, src AS cp, txn_id, t, ts, amt FROM e WHERE channel IN {in_list(CASH_CHANNELS)}),
    cout AS (SELECT src AS acct, dst AS cp, txn_id, t, ts, amt FROM e WHERE channel NOT IN {in_list(CASH_CHANNELS)}),
    accts AS (SELECT acct FROM cin GROUP BY acct HAVING COUNT(DISTINCT cp) >= {int(p["min_depositors"])} AND SUM(amt) >= {float(p["min_cash_in"])}),
    inn AS (SELECT c.acct, COUNT(DISTINCT c.cp) AS depositors, SUM(c.amt) AS cash_in, MIN(c.t) AS t0, MAX(c.t) AS t1,
                   MIN(c.ts) AS window_start, MAX(c.ts) AS last_in FROM cin c JOIN accts a ON a.acct = c.acct GROUP BY c.acct),
    outt AS (SELECT o.acct, SUM(o.amt) AS out_cn, COUNT(DISTINCT o.cp) AS beneficiaries, MAX(o.ts) AS last_out
             FROM cout o JOIN inn i ON i.acct = o.acct AND o.t BETWEEN i.t0 AND i.t1 + {w} GROUP BY o.acct),
    hit AS (SELECT i.*, o.out_cn, o.beneficiaries, o.last_out FROM inn i JOIN outt o ON o.acct = i.acct
            WHERE o.out_cn >= {float(p["min_out_share"])} * i.cash_in),
    ev_rows AS (
        SELECT h.acct, c.txn_id FROM hit h JOIN cin c ON c.acct = h.acct
        UNION ALL SELECT h.acct, o.txn_id FROM hit h JOIN cout o ON o.acct = h.acct
    ),
    ev AS ({evidence_sql("ev_rows", ["acct"])})
    SELECT 'account' AS entity_kind, h.acct AS entity_id, h.window_start, GREATEST(h.last_in, h.last_out) AS window_end,
           {metrics_sql({"depositors": "h.depositors", "cash_in_cad": "h.cash_in", "out_to_china_cad": "h.out_cn", "beneficiaries": "h.beneficiaries"})} AS metrics,
           ev.evidence_txn_ids, {clamp01("0.5 + h.depositors / 40.0")} AS strength
    FROM hit h JOIN ev ON ev.acct = h.acct
    """
