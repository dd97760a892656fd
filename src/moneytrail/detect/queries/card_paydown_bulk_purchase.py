"""U5 cash paying down a card, then bulk purchases of phones or gift cards."""

from __future__ import annotations

from moneytrail.detect.sql import clamp01, epoch, evidence_sql, metrics_sql


def card_paydown_bulk_purchase_sql(p: dict) -> str:
    """Accounts whose cash deposits are each followed within ``window_days`` by purchases of phones,
    gift cards or electronics adding up to at least ``min_spend_share`` of the deposit, such
    deposits adding up to at least ``min_cash`` over the period."""
    w = int(p["window_days"]) * 86400
    return f"""
    WITH e AS (SELECT t.*, {epoch("t.ts")} AS tt, CAST(COALESCE(t.amount_cad, t.amount) AS DOUBLE) AS amt FROM transactions t),
    cash AS (SELECT dst_account_id AS acct, txn_id, tt, ts, amt FROM e WHERE channel = 'cash'),
    buys AS (SELECT src_account_id AS acct, txn_id, tt, ts, amt FROM e
             WHERE channel <> 'cash' AND regexp_matches(LOWER(COALESCE(memo, '')), 'gift ?card|phone|electronic|iphone|laptop')),
    pairs AS (
        SELECT c.acct, c.txn_id AS cash_id, c.amt AS cash_amt, c.ts AS cash_ts, x.txn_id AS buy_id, x.amt AS buy_amt, x.ts AS buy_ts
        FROM cash c JOIN buys x ON x.acct = c.acct AND x.tt BETWEEN c.tt AND c.tt + {w}
    ),
    -- a deposit counts when the purchases after it add up to the share of it
    paid_down AS (
        SELECT cash_id FROM pairs GROUP BY cash_id, cash_amt HAVING SUM(buy_amt) >= {float(p["min_spend_share"])} * cash_amt
    ),
    kept AS (SELECT pr.* FROM pairs pr JOIN paid_down d ON d.cash_id = pr.cash_id),
    cash_used AS (SELECT DISTINCT acct, cash_id, cash_amt, cash_ts FROM kept),
    bought AS (SELECT DISTINCT acct, buy_id, buy_amt, buy_ts FROM kept),
    s AS (
        SELECT c.acct, c.cash_in, b.spent, LEAST(c.first_ts, b.first_ts) AS window_start, GREATEST(c.last_ts, b.last_ts) AS window_end
        FROM (SELECT acct, SUM(cash_amt) AS cash_in, MIN(cash_ts) AS first_ts, MAX(cash_ts) AS last_ts FROM cash_used GROUP BY acct) AS c
        JOIN (SELECT acct, SUM(buy_amt) AS spent, MIN(buy_ts) AS first_ts, MAX(buy_ts) AS last_ts FROM bought GROUP BY acct) AS b
          ON b.acct = c.acct
        WHERE c.cash_in >= {float(p["min_cash"])}
    ),
    ev_rows AS (
        SELECT acct, cash_id AS txn_id FROM cash_used WHERE acct IN (SELECT acct FROM s)
        UNION ALL SELECT acct, buy_id FROM bought WHERE acct IN (SELECT acct FROM s)
    ),
    ev AS ({evidence_sql("ev_rows", ["acct"])})
    SELECT 'account' AS entity_kind, s.acct AS entity_id, s.window_start, s.window_end,
           {metrics_sql({"cash_in_cad": "s.cash_in", "bulk_spend_cad": "s.spent"})} AS metrics,
           ev.evidence_txn_ids, {clamp01("s.spent / s.cash_in")} AS strength
    FROM s JOIN ev ON ev.acct = s.acct
    """
