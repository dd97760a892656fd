"""C8 winnings cheques made out to third parties."""

from __future__ import annotations

from moneytrail.detect.queries._casino import with_session_evidence_sql
from moneytrail.detect.sql import clamp01, metrics_sql


def casino_third_party_cheque_sql(p: dict) -> str:
    """Sessions paid out by cheque to a payee other than the player."""
    return with_session_evidence_sql(
        f"""
    SELECT 'session' AS entity_kind, s.session_id AS entity_id, s.start_ts AS window_start,
           COALESCE(s.end_ts, s.start_ts) AS window_end,
           {metrics_sql({"cash_out_cad": "s.cash_out_cad"})} AS metrics,
           CAST(NULL AS VARCHAR) AS evidence_txn_ids, {clamp01("1.0")} AS strength
    FROM casino_sessions s
    WHERE s.cheque_payee_party_id IS NOT NULL AND s.cheque_payee_party_id <> s.party_id
    """
    )
