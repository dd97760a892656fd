"""T1 small parcels from China with cover descriptions."""

from __future__ import annotations

from moneytrail.detect.sql import clamp01, metrics_sql


def small_parcel_cover_sql(p: dict) -> str:
    """Mail or courier parcels from China or Hong Kong weighing at most ``max_weight_kg`` described as supplements, printer parts or similar cover goods."""
    return f"""
    SELECT 'shipment' AS entity_kind, s.shipment_id AS entity_id, s.ts AS window_start, s.ts AS window_end,
           {metrics_sql({"weight_kg": "s.weight_kg", "declared_cad": "s.declared_value"})} AS metrics,
           CAST(NULL AS VARCHAR) AS evidence_txn_ids, {clamp01("1.0 - LEAST(1.0, COALESCE(s.weight_kg, 0) / 10.0)")} AS strength
    FROM shipments s
    WHERE s.mode IN ('mail', 'courier') AND s.origin_country IN ('CN', 'HK') AND COALESCE(s.weight_kg, 0) <= {float(p["max_weight_kg"])}
      AND REGEXP_MATCHES(LOWER(COALESCE(s.description, '')), '(supplement|printer|toner|ink|protein|vitamin|sample|powder|cosmetic)')
    """
