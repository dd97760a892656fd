"""T4 container cargo mis-declared."""

from __future__ import annotations

from moneytrail.detect.sql import clamp01, metrics_sql

# Descriptions of drug-making equipment and of the usual cover goods of small parcels (T1, T5).
EQUIPMENT = "(pill press|tablet press|tablet machine|encapsulat|capsule fill|punch|dies for)"


def misdeclared_container_sql(p: dict) -> str:
    """Container shipments from China or Hong Kong that are implausibly cheap per kilogram, whose HS
    code and description disagree (a chemical chapter with a non-chemical description, or the
    reverse), or whose consignee also imports pill presses or encapsulating machines."""
    return f"""
    WITH equipped AS (
        SELECT DISTINCT consignee_party_id FROM shipments
        WHERE consignee_party_id IS NOT NULL AND (
            REGEXP_MATCHES(LOWER(COALESCE(description, '')), '{EQUIPMENT}')
            OR REPLACE(COALESCE(hs_code, ''), '.', '') LIKE '847930%')
    )
    SELECT 'shipment' AS entity_kind, s.shipment_id AS entity_id, s.ts AS window_start, s.ts AS window_end,
           {metrics_sql({"declared_cad": "s.declared_value", "weight_kg": "s.weight_kg", "consignee_has_press": "CASE WHEN q.consignee_party_id IS NULL THEN 0 ELSE 1 END"})} AS metrics,
           CAST(NULL AS VARCHAR) AS evidence_txn_ids, {clamp01("CASE WHEN q.consignee_party_id IS NULL THEN 0.7 ELSE 1.0 END")} AS strength
    FROM shipments s LEFT JOIN equipped q ON q.consignee_party_id = s.consignee_party_id
    WHERE s.mode = 'container' AND s.origin_country IN ('CN', 'HK') AND (
        q.consignee_party_id IS NOT NULL
        OR (s.weight_kg > 0 AND COALESCE(s.declared_value, 0) / s.weight_kg < {float(p["max_value_per_kg"])})
        OR (SUBSTR(COALESCE(s.hs_code, ''), 1, 2) IN ('28', '29', '38')
            AND NOT REGEXP_MATCHES(LOWER(COALESCE(s.description, '')), '(chemic|acid|reagent|compound|solvent|intermediate)'))
        OR (SUBSTR(COALESCE(s.hs_code, ''), 1, 2) NOT IN ('28', '29', '38')
            AND REGEXP_MATCHES(LOWER(COALESCE(s.description, '')), '(precursor|piperidin|anpp|npp|4-ap)')))
    """
