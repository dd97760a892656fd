"""T3 payments to chemical companies, or routed via Hong Kong, Singapore or South Korea."""

from __future__ import annotations

from moneytrail.detect.sql import clamp01, edges_sql, evidence_sql, metrics_sql

CHEMICAL_NAME = "(chem|pharm|biotech|bio-tech|reagent|laborator|medical tech)"
ROUTING_COUNTRIES = "('HK', 'SG', 'KR')"


def chemical_counterparty_sql(p: dict) -> str:
    """Three kinds of hit: transfers of at least ``min_amount`` to companies whose name suggests
    chemicals, pharmaceuticals or biotech in China, Hong Kong, Singapore or South Korea (one per
    transfer); those companies themselves (one per company, its payments as evidence); and transfers
    from Canada to an account in Hong Kong, Singapore or South Korea passed on to China within
    ``route_hours`` for the same amount (within ``match_tolerance``), with both legs as evidence."""
    route = int(float(p["route_hours"]) * 3600)
    tol = float(p["match_tolerance"])
    return f"""
    WITH h AS (
        SELECT a.account_id, COALESCE(a.country, p.country, '') AS country, a.holder_party_id,
               LOWER(COALESCE(p.name, '')) AS name
        FROM accounts a LEFT JOIN parties p ON p.party_id = a.holder_party_id
    ),
    e AS ({edges_sql()}),
    chem AS (
        SELECT e.txn_id, e.ts, e.amt, h.holder_party_id AS vendor
        FROM e JOIN h ON h.account_id = e.dst
        WHERE e.amt >= {float(p["min_amount"])} AND h.country IN ('CN', 'HK', 'SG', 'KR')
          AND REGEXP_MATCHES(h.name, '{CHEMICAL_NAME}')
    ),
    routed AS (
        SELECT a.txn_id AS first_id, a.ts AS first_ts, a.amt, b.txn_id, b.ts
        FROM e a JOIN h ha ON ha.account_id = a.src AND ha.country = 'CA'
        JOIN h hm ON hm.account_id = a.dst AND hm.country IN {ROUTING_COUNTRIES}
        JOIN e b ON b.src = a.dst AND b.t BETWEEN a.t AND a.t + {route}
          AND ABS(b.amt - a.amt) <= {tol} * a.amt
        JOIN h hb ON hb.account_id = b.dst AND hb.country = 'CN'
        WHERE a.amt >= {float(p["min_amount"])}
    ),
    routed_ev AS (
        SELECT first_id, first_id AS txn_id FROM routed UNION ALL SELECT first_id, txn_id FROM routed
    ),
    routed_ids AS ({evidence_sql("routed_ev", ["first_id"])}),
    routed_agg AS (
        SELECT first_id, MIN(first_ts) AS window_start, MAX(ts) AS window_end, MAX(amt) AS amt, COUNT(*) AS onward
        FROM routed GROUP BY first_id
    ),
    vendor_ids AS ({evidence_sql("chem", ["vendor"])}),
    vendors AS (
        SELECT vendor, MIN(ts) AS window_start, MAX(ts) AS window_end, COUNT(*) AS payments, SUM(amt) AS total
        FROM chem WHERE vendor IS NOT NULL GROUP BY vendor
    )
    SELECT 'transaction' AS entity_kind, txn_id AS entity_id, ts AS window_start, ts AS window_end,
           {metrics_sql({"amount_cad": "amt"})} AS metrics, txn_id AS evidence_txn_ids, {clamp01("0.8")} AS strength
    FROM chem
    UNION ALL
    SELECT 'party', v.vendor, v.window_start, v.window_end,
           {metrics_sql({"payments": "v.payments", "total_cad": "v.total"})}, i.evidence_txn_ids, {clamp01("0.9")}
    FROM vendors v JOIN vendor_ids i ON i.vendor = v.vendor
    UNION ALL
    SELECT 'transaction', r.first_id, r.window_start, r.window_end,
           {metrics_sql({"amount_cad": "r.amt", "onward": "r.onward"})}, i.evidence_txn_ids, {clamp01("0.6")}
    FROM routed_agg r JOIN routed_ids i ON i.first_id = r.first_id
    """
