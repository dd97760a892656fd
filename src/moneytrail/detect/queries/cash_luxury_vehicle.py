"""R6 luxury vehicles bought with cash or bank drafts."""

from __future__ import annotations

from moneytrail.detect.sql import clamp01, epoch, evidence_sql, metrics_sql

# The payment for a vehicle reaches the seller within this many seconds of the registered transfer.
PAYMENT_WINDOW_S = 7 * 86400


def cash_luxury_vehicle_sql(p: dict) -> str:
    """Vehicle transfers of at least ``min_price`` paid at least ``min_cash_share`` in cash or
    drafts; the evidence is the cash or draft payment of the price to the seller's accounts."""
    return f"""
    WITH v AS (
        SELECT t.transfer_id, t.property_id, t.ts, {epoch("t.ts")} AS tt, t.price, t.cash_amount, t.seller_party_id
        FROM property_transfers t JOIN properties pr ON pr.property_id = t.property_id
        WHERE pr.kind = 'vehicle' AND t.price >= {float(p["min_price"])}
          AND COALESCE(t.cash_amount, 0) >= {float(p["min_cash_share"])} * t.price
    ),
    paid AS (
        SELECT v.property_id, x.txn_id FROM v
        JOIN accounts a ON a.holder_party_id = v.seller_party_id
        JOIN transactions x ON x.dst_account_id = a.account_id AND x.channel IN ('cash', 'bank_draft')
         AND ROUND(CAST(COALESCE(x.amount_cad, x.amount) AS DOUBLE), 2) = ROUND(COALESCE(v.cash_amount, v.price), 2)
        WHERE ABS({epoch("x.ts")} - v.tt) <= {PAYMENT_WINDOW_S}
    ),
    ev AS ({evidence_sql("paid", ["property_id"])})
    SELECT 'property' AS entity_kind, v.property_id AS entity_id, v.ts AS window_start, v.ts AS window_end,
           {metrics_sql({"price_cad": "v.price", "cash_cad": "v.cash_amount"})} AS metrics,
           ev.evidence_txn_ids, {clamp01("v.cash_amount / v.price")} AS strength
    FROM v LEFT JOIN ev ON ev.property_id = v.property_id
    """
