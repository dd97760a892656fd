"""U5 cash paid onto cards followed by bulk purchases."""

from __future__ import annotations

from moneytrail.detect.sql import clamp01, epoch, evidence_sql, metrics_sql


def card_paydown_bulk_purchase_sql(p: dict) -> str:
    """Accounts receiving at least ``min_cash`` in cash within ``window_days`` that spend at least ``min_spend_share`` of it on phones, gift cards or electronics in the same window."""
    w = int(p["window_days"]) * 86400
    return f"""
    WITH e AS (SELECT t.*, {epoch("t.ts")} AS tt, CAST(COALESCE(t.amount_cad, t.amount) AS DOUBLE) AS amt FROM transactions t),
    cash AS (SELECT dst_account_id AS acct, txn_id, tt, ts, amt FROM e WHERE channel = 'cash'),
    buys AS (SELECT src_account_id AS acct, txn_id, tt, ts, amt FROM e
             WHERE channel <> 'cash' AND regexp_matches(LOWER(COALESCE(memo, '')), 'gift ?card|phone|electronic|iphone|laptop')),
    b AS (
        SELECT c.acct, FLOOR(c.tt / {w}) AS bk, SUM(c.amt) AS cash_in FROM cash c GROUP BY c.acct, FLOOR(c.tt / {w})
        HAVING SUM(c.amt) >= {float(p["min_cash"])}
    ),
    s AS (
        SELECT b.acct, b.bk, b.cash_in, SUM(x.amt) AS spent FROM b JOIN buys x ON x.acct = b.acct
         AND x.tt BETWEEN b.bk * {w} AND (b.bk + 2) * {w}
        GROUP BY b.acct, b.bk, b.cash_in HAVING SUM(x.amt) >= {float(p["min_spend_share"])} * b.cash_in
    ),
    ev_rows AS (
        SELECT s.acct, c.txn_id, c.ts FROM s JOIN cash c ON c.acct = s.acct AND FLOOR(c.tt / {w}) = s.bk
        UNION ALL SELECT s.acct, x.txn_id, x.ts FROM s JOIN buys x ON x.acct = s.acct AND x.tt BETWEEN s.bk * {w} AND (s.bk + 2) * {w}
    ),
    ev AS ({evidence_sql("ev_rows", ["acct"])}),
    span AS (SELECT acct, MIN(ts) AS window_start, MAX(ts) AS window_end FROM ev_rows GROUP BY acct)
    SELECT 'account' AS entity_kind, s.acct AS entity_id, sp.window_start, sp.window_end,
           {metrics_sql({"cash_in_cad": "MAX(s.cash_in)", "bulk_spend_cad": "MAX(s.spent)"})} AS metrics,
           ev.evidence_txn_ids, {clamp01("MAX(s.spent) / MAX(s.cash_in)")} AS strength
    FROM s JOIN ev ON ev.acct = s.acct JOIN span sp ON sp.acct = s.acct
    GROUP BY s.acct, sp.window_start, sp.window_end, ev.evidence_txn_ids
    """
