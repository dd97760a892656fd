"""C9 bank drafts bought by low-income customers and paid to casinos."""

from __future__ import annotations

from moneytrail.detect.sql import (
    LOW_INCOME_OCCUPATIONS,
    account_holders_sql,
    clamp01,
    edges_sql,
    in_list,
    metrics_sql,
)


def casino_draft_low_income_sql(p: dict) -> str:
    """Bank drafts of at least ``min_amount`` paid to a casino account by the account of a student, homemaker or unemployed party, or one whose declared income is below ``max_income``."""
    return f"""
    WITH h AS ({account_holders_sql()})
    SELECT 'transaction' AS entity_kind, e.txn_id AS entity_id, e.ts AS window_start, e.ts AS window_end,
           {metrics_sql({"amount_cad": "e.amt", "declared_income": "s.declared_income"})} AS metrics,
           e.txn_id AS evidence_txn_ids, {clamp01("0.7 + e.amt / 200000.0")} AS strength
    FROM ({edges_sql("channel = 'bank_draft'")}) AS e
    JOIN h s ON s.account_id = e.src JOIN accounts d ON d.account_id = e.dst
    WHERE d.institution_type = 'casino' AND e.amt >= {float(p["min_amount"])}
      AND (s.occupation IN {in_list(LOW_INCOME_OCCUPATIONS)} OR COALESCE(s.declared_income, 1e18) < {float(p["max_income"])})
    """
