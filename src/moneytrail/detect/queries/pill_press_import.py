"""T5 imports of pill presses or encapsulating machines."""

from __future__ import annotations

from moneytrail.detect.sql import clamp01, metrics_sql


def pill_press_import_sql(p: dict) -> str:
    """Shipments whose description or HS code (8479.30, 8422.30 and similar) names a tablet press, pill press, encapsulating machine, dies or punches."""
    return f"""
    SELECT 'shipment' AS entity_kind, s.shipment_id AS entity_id, s.ts AS window_start, s.ts AS window_end,
           {metrics_sql({"declared_cad": "s.declared_value", "weight_kg": "s.weight_kg"})} AS metrics,
           CAST(NULL AS VARCHAR) AS evidence_txn_ids, {clamp01("1.0")} AS strength
    FROM shipments s
    WHERE REGEXP_MATCHES(LOWER(COALESCE(s.description, '')), '(pill press|tablet press|tablet machine|encapsulat|capsule fill|punch|dies for)')
      OR REPLACE(COALESCE(s.hs_code, ''), '.', '') LIKE '847930%'
    """
