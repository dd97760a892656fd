"""R6 luxury vehicle bought with cash or bank drafts."""

from __future__ import annotations

from moneytrail.detect.sql import clamp01, metrics_sql


def cash_luxury_vehicle_sql(p: dict) -> str:
    """Vehicle transfers of at least ``min_price`` paid at least ``min_cash_share`` in cash or drafts."""
    return f"""
    SELECT 'property' AS entity_kind, t.property_id AS entity_id, t.ts AS window_start, t.ts AS window_end,
           {metrics_sql({"price_cad": "t.price", "cash_cad": "t.cash_amount"})} AS metrics,
           CAST(NULL AS VARCHAR) AS evidence_txn_ids, {clamp01("t.cash_amount / t.price")} AS strength
    FROM property_transfers t JOIN properties pr ON pr.property_id = t.property_id
    WHERE pr.kind = 'vehicle' AND t.price >= {float(p["min_price"])} AND COALESCE(t.cash_amount, 0) >= {float(p["min_cash_share"])} * t.price
    """
