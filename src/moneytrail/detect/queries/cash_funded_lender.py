"""R4, G8 cash-funded lenders: private lenders whose accounts one source pays cash into."""

from __future__ import annotations

from moneytrail.detect.queries._lender import PRIVATE_CHARGES, lender_money_sql
from moneytrail.detect.sql import clamp01, evidence_sql, metrics_sql


def cash_funded_lender_sql(p: dict) -> str:
    """Private lenders named on land-title charges whose bank accounts (:func:`lender_accounts_sql`)
    received at least ``min_cash_cad`` in cash from a source that paid cash into the accounts of
    at least ``min_lenders`` private lenders: the cluster of lenders funded with one network's drug
    cash. Each such lender is a hit; the evidence is the cash from the shared sources and the
    lender's mortgage advances into lawyers' trust accounts."""
    return f"""
    WITH money AS ({lender_money_sql()}),
    sources AS (
        SELECT source_party_id, COUNT(DISTINCT lender_party_id) AS lenders FROM money
        WHERE kind = 'cash_in' AND source_party_id IS NOT NULL
        GROUP BY source_party_id HAVING COUNT(DISTINCT lender_party_id) >= {int(p["min_lenders"])}
    ),
    shared AS (
        SELECT m.lender_party_id, m.txn_id, m.ts, m.amt, s.lenders
        FROM money m JOIN sources s ON s.source_party_id = m.source_party_id WHERE m.kind = 'cash_in'
    ),
    funded AS (
        SELECT lender_party_id, SUM(amt) AS cash_in, MAX(lenders) AS cluster_lenders, MIN(ts) AS first_ts, MAX(ts) AS last_ts
        FROM shared GROUP BY lender_party_id HAVING SUM(amt) >= {float(p["min_cash_cad"])}
    ),
    charges AS (
        SELECT c.lender_party_id, COUNT(DISTINCT c.property_id) AS properties, SUM(c.mortgage_amount) AS lent
        FROM ({PRIVATE_CHARGES}) AS c JOIN funded f ON f.lender_party_id = c.lender_party_id GROUP BY c.lender_party_id
    ),
    ev_rows AS (
        SELECT lender_party_id, txn_id FROM shared WHERE lender_party_id IN (SELECT lender_party_id FROM funded)
        UNION ALL
        SELECT m.lender_party_id, m.txn_id FROM money m JOIN funded f ON f.lender_party_id = m.lender_party_id
        WHERE m.kind = 'advance'
    ),
    ev AS ({evidence_sql("ev_rows", ["lender_party_id"])})
    SELECT 'party' AS entity_kind, f.lender_party_id AS entity_id, f.first_ts AS window_start, f.last_ts AS window_end,
           {metrics_sql({"cash_in_cad": "f.cash_in", "cluster_lenders": "f.cluster_lenders", "properties": "c.properties", "lent_cad": "c.lent"})} AS metrics,
           ev.evidence_txn_ids, {clamp01("f.cluster_lenders / 10.0 + 0.5")} AS strength
    FROM funded f JOIN charges c ON c.lender_party_id = f.lender_party_id
    LEFT JOIN ev ON ev.lender_party_id = f.lender_party_id
    """
