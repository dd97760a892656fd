"""C1 large buy-ins in $20 bills (bricks)."""

from __future__ import annotations

from moneytrail.detect.queries._casino import with_session_evidence_sql
from moneytrail.detect.sql import clamp01, metrics_sql


def casino_small_bill_buy_in_sql(p: dict) -> str:
    """Sessions with a cash buy-in of at least ``min_buy_in`` of which at least ``min_small_share`` is in $20 bills or smaller."""
    return with_session_evidence_sql(
        f"""
    SELECT 'session' AS entity_kind, s.session_id AS entity_id, s.start_ts AS window_start,
           COALESCE(s.end_ts, s.start_ts) AS window_end,
           {metrics_sql({"buy_in_cad": "s.buy_in_cad", "small_bill_share": "s.share_small_bills"})} AS metrics,
           CAST(NULL AS VARCHAR) AS evidence_txn_ids, {clamp01(f"s.buy_in_cad / {4 * float(p['min_buy_in'])} + 0.5")} AS strength
    FROM casino_sessions s
    WHERE s.buy_in_cad >= {float(p["min_buy_in"])} AND s.share_small_bills >= {float(p["min_small_share"])}
      AND COALESCE(s.buy_in_form, 'cash') = 'cash'
    """
    )
