"""C9 bank drafts bought by low-income customers and paid to casinos."""

from __future__ import annotations

from moneytrail.detect.queries._casino import session_txns_sql
from moneytrail.detect.sql import (
    LOW_INCOME_OCCUPATIONS,
    account_holders_sql,
    clamp01,
    edges_sql,
    evidence_sql,
    in_list,
    metrics_sql,
)


def casino_draft_low_income_sql(p: dict) -> str:
    """Bank drafts of at least ``min_amount`` paid to a casino account by the account of a student,
    homemaker or unemployed party, or one whose declared income is below ``max_income``. The hit is
    on the casino session the draft bought into when one is recorded (else on the draft); its
    evidence lists the draft, the session's pay-out and any casino payment back to the drafting
    account within ``payout_hours``."""
    back = int(float(p["payout_hours"]) * 3600)
    drafts = "(SELECT * FROM casino_sessions WHERE buy_in_form = 'bank_draft')"
    return f"""
    WITH h AS ({account_holders_sql()}),
    d AS (
        SELECT e.txn_id, e.ts, e.t, e.src, e.dst, e.amt, s.declared_income
        FROM ({edges_sql("channel = 'bank_draft'")}) AS e
        JOIN h s ON s.account_id = e.src JOIN accounts c ON c.account_id = e.dst
        WHERE c.institution_type = 'casino' AND e.amt >= {float(p["min_amount"])}
          AND (s.occupation IN {in_list(LOW_INCOME_OCCUPATIONS)} OR COALESCE(s.declared_income, 1e18) < {float(p["max_income"])})
    ),
    st AS ({session_txns_sql(drafts)}),
    sess AS (SELECT d.txn_id, MIN(st.session_id) AS session_id FROM d JOIN st ON st.txn_id = d.txn_id GROUP BY d.txn_id),
    ev_rows AS (
        SELECT txn_id AS draft_id, txn_id FROM d
        UNION ALL
        SELECT s.txn_id, st.txn_id FROM sess s JOIN st ON st.session_id = s.session_id
        UNION ALL
        SELECT d.txn_id, b.txn_id FROM d JOIN ({edges_sql()}) AS b
          ON b.src = d.dst AND b.dst = d.src AND b.t BETWEEN d.t AND d.t + {back}
    ),
    ev AS ({evidence_sql("ev_rows", ["draft_id"])})
    SELECT CASE WHEN s.session_id IS NULL THEN 'transaction' ELSE 'session' END AS entity_kind,
           COALESCE(s.session_id, d.txn_id) AS entity_id, d.ts AS window_start, d.ts AS window_end,
           {metrics_sql({"amount_cad": "d.amt", "declared_income": "d.declared_income"})} AS metrics,
           ev.evidence_txn_ids, {clamp01("0.7 + d.amt / 200000.0")} AS strength
    FROM d JOIN ev ON ev.draft_id = d.txn_id LEFT JOIN sess s ON s.txn_id = d.txn_id
    """
