"""R1 buyer is a company, trust or relative of the payer."""

from __future__ import annotations

from moneytrail.detect.queries._property import with_transfer_evidence_sql
from moneytrail.detect.sql import clamp01, metrics_sql


def nominee_buyer_sql(p: dict) -> str:
    """Transfers of at least ``min_price`` whose buyer is a company or trust, or whose deposit was paid by a party linked to the buyer as family or associate."""
    return with_transfer_evidence_sql(
        f"""
    SELECT 'property' AS entity_kind, t.property_id AS entity_id, t.ts AS window_start, t.ts AS window_end,
           {metrics_sql({"price_cad": "t.price"})} AS metrics,
           CAST(NULL AS VARCHAR) AS evidence_txn_ids, {clamp01("CASE WHEN b.kind = 'company' THEN 0.7 ELSE 1.0 END")} AS strength,
           t.transfer_id AS transfer_ids
    FROM property_transfers t JOIN parties b ON b.party_id = t.buyer_party_id
    WHERE t.price >= {float(p["min_price"])} AND (b.kind = 'company' OR REGEXP_MATCHES(LOWER(COALESCE(b.name, '')), '(trust|holdings|nominee)')
      OR (t.deposit_payer_party_id IS NOT NULL AND t.deposit_payer_party_id <> t.buyer_party_id))
    """
    )
