"""R2 deposit paid by a third party, through a trust account, or in cash."""

from __future__ import annotations

from moneytrail.detect.queries._property import with_transfer_evidence_sql
from moneytrail.detect.sql import clamp01, metrics_sql


def third_party_deposit_sql(p: dict) -> str:
    """Transfers whose deposit was paid by a party other than the buyer, that went through a lawyer's trust account, or that were paid at least ``min_cash_share`` in cash or drafts."""
    return with_transfer_evidence_sql(
        f"""
    SELECT 'property' AS entity_kind, t.property_id AS entity_id, t.ts AS window_start, t.ts AS window_end,
           {metrics_sql({"price_cad": "t.price", "cash_cad": "t.cash_amount", "via_trust": "CASE WHEN t.via_trust_account THEN 1 ELSE 0 END"})} AS metrics,
           CAST(NULL AS VARCHAR) AS evidence_txn_ids, {clamp01("0.6 + 0.4 * COALESCE(t.cash_amount, 0) / t.price")} AS strength,
           t.transfer_id AS transfer_ids
    FROM property_transfers t
    WHERE (t.deposit_payer_party_id IS NOT NULL AND t.deposit_payer_party_id <> COALESCE(t.buyer_party_id, ''))
      OR COALESCE(t.via_trust_account, FALSE) OR COALESCE(t.cash_amount, 0) >= {float(p["min_cash_share"])} * t.price
    """
    )
