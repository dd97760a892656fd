"""C3 players resident in China buying in with large cash."""

from __future__ import annotations

from moneytrail.detect.queries._casino import with_session_evidence_sql
from moneytrail.detect.sql import clamp01, epoch, evidence_sql, metrics_sql, same_person_sql


def casino_foreign_vip_cash_sql(p: dict) -> str:
    """Sessions of players whose country of residence is China, Hong Kong or Macau with a cash
    buy-in of at least ``min_buy_in``. The evidence adds the repayment abroad: transfers out of
    accounts in China, Hong Kong or Macau held by the same person (entity resolution links the
    casino's patron record to the bank's customer) within ``repay_hours`` after the session."""
    repay = int(float(p["repay_hours"]) * 3600)
    core = f"""
    SELECT 'session' AS entity_kind, s.session_id AS entity_id, s.start_ts AS window_start,
           COALESCE(s.end_ts, s.start_ts) AS window_end,
           {metrics_sql({"buy_in_cad": "s.buy_in_cad"})} AS metrics,
           CAST(NULL AS VARCHAR) AS evidence_txn_ids, {clamp01(f"s.buy_in_cad / {5 * float(p['min_buy_in'])} + 0.5")} AS strength
    FROM casino_sessions s JOIN parties pl ON pl.party_id = s.party_id
    WHERE pl.country IN ('CN', 'HK', 'MO') AND s.buy_in_cad >= {float(p["min_buy_in"])} AND COALESCE(s.buy_in_form, 'cash') = 'cash'
    """
    return f"""
    WITH base AS ({with_session_evidence_sql(core)}),
    repaid AS (
        SELECT b.entity_id AS session_id, t.txn_id
        FROM base b JOIN casino_sessions s ON s.session_id = b.entity_id
        JOIN ({same_person_sql()}) AS sp ON sp.party_id = s.party_id
        JOIN accounts a ON a.holder_party_id = sp.other_id AND a.country IN ('CN', 'HK', 'MO')
        JOIN transactions t ON t.src_account_id = a.account_id
          AND {epoch("t.ts")} BETWEEN {epoch("s.start_ts")} AND {epoch("s.start_ts")} + {repay}
    ),
    ev_rows AS (
        SELECT b.entity_id AS session_id, x.txn_id
        FROM base b, UNNEST(string_split(b.evidence_txn_ids, ';')) AS x(txn_id)
        WHERE b.evidence_txn_ids IS NOT NULL AND b.evidence_txn_ids <> ''
        UNION ALL SELECT session_id, txn_id FROM repaid
    ),
    ev AS ({evidence_sql("ev_rows", ["session_id"])})
    SELECT b.entity_kind, b.entity_id, b.window_start, b.window_end, b.metrics,
           COALESCE(ev.evidence_txn_ids, b.evidence_txn_ids) AS evidence_txn_ids, b.strength
    FROM base b LEFT JOIN ev ON ev.session_id = b.entity_id"""
