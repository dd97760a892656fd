"""R3 owner with no declared income holding expensive property, or a buying spree."""

from __future__ import annotations

from moneytrail.detect.sql import LOW_INCOME_OCCUPATIONS, clamp01, epoch, in_list, metrics_sql


def low_income_owner_sql(p: dict) -> str:
    """Buyers who are students, homemakers or unemployed (or declare less than ``max_income``) and bought property worth at least ``min_price``, or who made more than ``max_purchases`` purchases within ``spree_days``."""
    w = int(p["spree_days"]) * 86400
    return f"""
    WITH t AS (SELECT transfer_id, buyer_party_id AS buyer, ts, {epoch("ts")} AS tt, price FROM property_transfers WHERE buyer_party_id IS NOT NULL),
    spree AS (
        SELECT buyer, MAX(k) AS k FROM (
            SELECT buyer, COUNT(*) OVER (PARTITION BY buyer ORDER BY tt RANGE BETWEEN {w} PRECEDING AND CURRENT ROW) AS k FROM t
        ) AS x GROUP BY buyer HAVING MAX(k) > {int(p["max_purchases"])}
    ),
    poor AS (
        SELECT t.buyer, MAX(t.price) AS top_price FROM t JOIN parties b ON b.party_id = t.buyer
        WHERE b.kind = 'person' AND t.price >= {float(p["min_price"])} AND (LOWER(COALESCE(b.occupation, '')) IN {in_list(LOW_INCOME_OCCUPATIONS)}
              OR COALESCE(b.declared_income, 1e18) < {float(p["max_income"])})
        GROUP BY t.buyer
    ),
    who AS (SELECT buyer FROM spree UNION SELECT buyer FROM poor)
    SELECT 'party' AS entity_kind, w.buyer AS entity_id, MIN(t.ts) AS window_start, MAX(t.ts) AS window_end,
           {metrics_sql({"purchases": "COUNT(*)", "max_in_spree_window": "MAX(s.k)", "top_price_cad": "MAX(po.top_price)", "total_cad": "SUM(t.price)"})} AS metrics,
           CAST(NULL AS VARCHAR) AS evidence_txn_ids,
           {clamp01("CASE WHEN MAX(po.top_price) IS NOT NULL AND MAX(s.k) IS NOT NULL THEN 1.0 ELSE 0.7 END")} AS strength
    FROM who w JOIN t ON t.buyer = w.buyer LEFT JOIN spree s ON s.buyer = w.buyer LEFT JOIN poor po ON po.buyer = w.buyer
    GROUP BY w.buyer
    """
