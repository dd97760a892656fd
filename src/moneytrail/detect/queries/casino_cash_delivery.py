"""C2 cash delivered to the player by a third party."""

from __future__ import annotations

from moneytrail.detect.queries._casino import with_session_evidence_sql
from moneytrail.detect.sql import clamp01, metrics_sql


def casino_cash_delivery_sql(p: dict) -> str:
    """Sessions whose buy-in cash was delivered by another party; late-night deliveries score higher."""
    return with_session_evidence_sql(
        f"""
    SELECT 'session' AS entity_kind, s.session_id AS entity_id, s.start_ts AS window_start,
           COALESCE(s.end_ts, s.start_ts) AS window_end,
           {metrics_sql({"buy_in_cad": "s.buy_in_cad", "hour": "EXTRACT(hour FROM s.start_ts)"})} AS metrics,
           CAST(NULL AS VARCHAR) AS evidence_txn_ids, {clamp01("CASE WHEN EXTRACT(hour FROM s.start_ts) >= 22 OR EXTRACT(hour FROM s.start_ts) < 6 THEN 1.0 ELSE 0.7 END")} AS strength
    FROM casino_sessions s
    WHERE s.delivered_by_party_id IS NOT NULL AND s.delivered_by_party_id <> s.party_id AND COALESCE(s.buy_in_cad, 0) >= {float(p["min_buy_in"])}
    """
    )
