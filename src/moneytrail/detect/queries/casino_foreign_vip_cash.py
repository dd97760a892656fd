"""C3 players resident in China buying in with large cash."""

from __future__ import annotations

from moneytrail.detect.queries._casino import with_session_evidence_sql
from moneytrail.detect.sql import clamp01, metrics_sql


def casino_foreign_vip_cash_sql(p: dict) -> str:
    """Sessions of players whose country of residence is China, Hong Kong or Macau with a cash buy-in of at least ``min_buy_in``."""
    return with_session_evidence_sql(
        f"""
    SELECT 'session' AS entity_kind, s.session_id AS entity_id, s.start_ts AS window_start,
           COALESCE(s.end_ts, s.start_ts) AS window_end,
           {metrics_sql({"buy_in_cad": "s.buy_in_cad"})} AS metrics,
           CAST(NULL AS VARCHAR) AS evidence_txn_ids, {clamp01(f"s.buy_in_cad / {5 * float(p['min_buy_in'])} + 0.5")} AS strength
    FROM casino_sessions s JOIN parties pl ON pl.party_id = s.party_id
    WHERE pl.country IN ('CN', 'HK', 'MO') AND s.buy_in_cad >= {float(p["min_buy_in"])} AND COALESCE(s.buy_in_form, 'cash') = 'cash'
    """
    )
