"""C4 buy-in followed by little or no play, then cash-out."""

from __future__ import annotations

from moneytrail.detect.queries._casino import with_session_evidence_sql
from moneytrail.detect.sql import clamp01, metrics_sql


def casino_minimal_play_sql(p: dict) -> str:
    """Sessions with a buy-in of at least ``min_buy_in`` where the amount wagered is at most ``max_wager_ratio`` of the buy-in and most of it is cashed out."""
    return with_session_evidence_sql(
        f"""
    SELECT 'session' AS entity_kind, s.session_id AS entity_id, s.start_ts AS window_start,
           COALESCE(s.end_ts, s.start_ts) AS window_end,
           {metrics_sql({"buy_in_cad": "s.buy_in_cad", "wagered_cad": "s.wagered_cad", "cash_out_cad": "s.cash_out_cad"})} AS metrics,
           CAST(NULL AS VARCHAR) AS evidence_txn_ids, {clamp01("1.0 - COALESCE(s.wagered_cad, 0) / s.buy_in_cad")} AS strength
    FROM casino_sessions s
    WHERE s.buy_in_cad >= {float(p["min_buy_in"])} AND COALESCE(s.wagered_cad, 0) <= s.buy_in_cad * {float(p["max_wager_ratio"])}
      AND COALESCE(s.cash_out_cad, 0) >= s.buy_in_cad * {float(p["min_cash_out_ratio"])}
    """
    )
