"""C5 refining: small bills in, large bills or a cheque out."""

from __future__ import annotations

from moneytrail.detect.queries._casino import with_session_evidence_sql
from moneytrail.detect.sql import clamp01, metrics_sql


def casino_refining_sql(p: dict) -> str:
    """Sessions bought in mostly with small bills and paid out as $100s or a casino cheque."""
    return with_session_evidence_sql(
        f"""
    SELECT 'session' AS entity_kind, s.session_id AS entity_id, s.start_ts AS window_start,
           COALESCE(s.end_ts, s.start_ts) AS window_end,
           {metrics_sql({"small_bill_share": "s.share_small_bills", "cash_out_cad": "s.cash_out_cad"})} AS metrics,
           CAST(NULL AS VARCHAR) AS evidence_txn_ids, {clamp01("0.5 + s.share_small_bills / 2")} AS strength
    FROM casino_sessions s
    WHERE s.share_small_bills >= {float(p["min_small_share"])} AND s.cash_out_form IN ('cash_large', 'cheque') AND s.cash_out_cad >= {float(p["min_cash_out"])}
    """
    )
