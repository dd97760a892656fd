"""R4 private lender holding charges on many properties."""

from __future__ import annotations

from moneytrail.detect.sql import clamp01, metrics_sql


def private_lender_sql(p: dict) -> str:
    """Private (non-bank) lenders holding mortgage charges on at least ``min_properties`` properties."""
    return f"""
    SELECT 'party' AS entity_kind, lender_party_id AS entity_id, MIN(ts) AS window_start, MAX(ts) AS window_end,
           {metrics_sql({"properties": "COUNT(DISTINCT property_id)", "borrowers": "COUNT(DISTINCT buyer_party_id)", "lent_cad": "SUM(mortgage_amount)"})} AS metrics,
           CAST(NULL AS VARCHAR) AS evidence_txn_ids, {clamp01("COUNT(DISTINCT property_id) / 10.0 + 0.5")} AS strength
    FROM property_transfers
    WHERE lender_party_id IS NOT NULL AND COALESCE(lender_kind, 'private') = 'private'
    GROUP BY lender_party_id HAVING COUNT(DISTINCT property_id) >= {int(p["min_properties"])}
    """
