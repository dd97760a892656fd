"""G8 lender-property cluster: one lender, many properties, many owners."""

from __future__ import annotations

from moneytrail.detect.sql import clamp01, metrics_sql


def lender_property_cluster_sql(p: dict) -> str:
    """Owners whose property is charged to a private lender who lends on at least ``min_properties`` properties held by at least ``min_owners`` distinct owners (a star: one lender, many nominee owners)."""
    return f"""
    WITH t AS (SELECT * FROM property_transfers WHERE lender_party_id IS NOT NULL AND COALESCE(lender_kind, 'private') = 'private'),
    lenders AS (
        SELECT lender_party_id, COUNT(DISTINCT property_id) AS properties, COUNT(DISTINCT buyer_party_id) AS owners
        FROM t GROUP BY lender_party_id
        HAVING COUNT(DISTINCT property_id) >= {int(p["min_properties"])} AND COUNT(DISTINCT buyer_party_id) >= {int(p["min_owners"])}
    )
    SELECT 'party' AS entity_kind, t.buyer_party_id AS entity_id, MIN(t.ts) AS window_start, MAX(t.ts) AS window_end,
           {metrics_sql({"cluster_properties": "MAX(l.properties)", "cluster_owners": "MAX(l.owners)", "borrowed_cad": "SUM(t.mortgage_amount)"})} AS metrics,
           CAST(NULL AS VARCHAR) AS evidence_txn_ids, {clamp01("MAX(l.owners) / 10.0 + 0.5")} AS strength
    FROM t JOIN lenders l ON l.lender_party_id = t.lender_party_id
    WHERE t.buyer_party_id IS NOT NULL
    GROUP BY t.buyer_party_id
    """
