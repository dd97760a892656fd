"""T3 payments to chemical companies, or routed via Hong Kong, Singapore or South Korea."""

from __future__ import annotations

from moneytrail.detect.sql import clamp01, edges_sql, metrics_sql


def chemical_counterparty_sql(p: dict) -> str:
    """Outgoing transfers of at least ``min_amount`` to companies whose name suggests chemicals, pharmaceuticals or biotech in China, Hong Kong, Singapore or South Korea."""
    return f"""
    WITH h AS (
        SELECT a.account_id, a.country, LOWER(COALESCE(p.name, '')) AS name, p.kind, p.country AS pcountry
        FROM accounts a JOIN parties p ON p.party_id = a.holder_party_id
    )
    SELECT 'transaction' AS entity_kind, e.txn_id AS entity_id, e.ts AS window_start, e.ts AS window_end,
           {metrics_sql({"amount_cad": "e.amt"})} AS metrics, e.txn_id AS evidence_txn_ids, {clamp01("0.8")} AS strength
    FROM ({edges_sql()}) AS e JOIN h ON h.account_id = e.dst
    WHERE e.amt >= {float(p["min_amount"])} AND COALESCE(h.country, h.pcountry, '') IN ('CN', 'HK', 'SG', 'KR')
      AND REGEXP_MATCHES(h.name, '(chem|pharm|biotech|bio-tech|reagent|laborator|medical tech)')
    """
