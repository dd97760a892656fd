"""U1, C6 cash hub: one party supplies cash to many players or clients."""

from __future__ import annotations

from moneytrail.detect.queries._casino import SESSION_TXN_TOLERANCE_S, session_txns_sql
from moneytrail.detect.sql import (
    CASH_CHANNELS,
    clamp01,
    distinct_ahead_sql,
    epoch,
    evidence_sql,
    in_list,
    metrics_sql,
)


def cash_hub_sql(p: dict) -> str:
    """Parties who handed cash to at least ``min_players`` distinct players or clients within
    ``window_days``: deliveries recorded on casino sessions, and cash transactions from the
    party's accounts to accounts held by others. Besides the hit on the hub, every session a hub
    delivered to is a hit whose evidence is the session's buy-in and pay-out and the cash paid into
    the buy-in's account within ``supply_hours`` before the session."""
    w = int(p["window_days"]) * 86400
    supply = int(float(p["supply_hours"]) * 3600)
    hub_sessions = """(
        SELECT s.* FROM casino_sessions s JOIN hubs h ON h.hub = s.delivered_by_party_id
        WHERE s.party_id <> s.delivered_by_party_id)"""
    return f"""
    -- one scan: the cash movements, read by the hand-overs and by the supply of each session
    WITH cash_tx AS MATERIALIZED (
        SELECT txn_id, ts, {epoch("ts")} AS t, src_account_id, dst_account_id, COALESCE(amount_cad, amount) AS amt
        FROM transactions WHERE channel IN {in_list(CASH_CHANNELS)}
    ),
    d AS (
        SELECT delivered_by_party_id AS hub, party_id AS client, {epoch("start_ts")} AS t, start_ts AS ts,
               buy_in_cad AS amt, CAST(NULL AS VARCHAR) AS txn_id
        FROM casino_sessions WHERE delivered_by_party_id IS NOT NULL AND delivered_by_party_id <> party_id
        UNION ALL
        SELECT sa.holder_party_id, da.holder_party_id, t.t, t.ts, t.amt, t.txn_id
        FROM cash_tx t JOIN accounts sa ON sa.account_id = t.src_account_id
        JOIN accounts da ON da.account_id = t.dst_account_id
        WHERE sa.holder_party_id IS NOT NULL
          AND da.holder_party_id IS NOT NULL AND sa.holder_party_id <> da.holder_party_id
          AND COALESCE(sa.institution_type, 'other') NOT IN ('bank', 'casino', 'msb')
          AND t.amt >= {float(p["min_amount"])}
    ),
    -- distinct clients of the window that starts at each hand-over (a sorted pass, not a
    -- self-join: a busy hub has tens of thousands of hand-overs a year at 100M transactions)
    per AS ({distinct_ahead_sql("d", "hub", "client", w)}),
    hubs AS (SELECT hub, MAX(n) AS clients FROM per GROUP BY hub HAVING MAX(n) >= {int(p["min_players"])}),
    tot AS (
        SELECT d.hub, MIN(d.ts) AS window_start, MAX(d.ts) AS window_end, SUM(d.amt) AS total, COUNT(*) AS handovers
        FROM d JOIN hubs h ON h.hub = d.hub GROUP BY d.hub
    ),
    ev_rows AS (SELECT d.hub, d.txn_id FROM d JOIN hubs h ON h.hub = d.hub WHERE d.txn_id IS NOT NULL),
    ev AS ({evidence_sql("ev_rows", ["hub"])}),
    hs AS {hub_sessions},
    st AS ({session_txns_sql("hs")}),
    supplied AS (
        SELECT s.session_id, c.txn_id
        FROM hs s JOIN st ON st.session_id = s.session_id
        JOIN transactions b ON b.txn_id = st.txn_id
          AND ROUND(CAST(COALESCE(b.amount_cad, b.amount) AS DOUBLE), 2) = ROUND(s.buy_in_cad, 2)
          AND {epoch("b.ts")} <= {epoch("s.start_ts")} + {SESSION_TXN_TOLERANCE_S}
        JOIN cash_tx c ON c.dst_account_id = b.src_account_id
          AND c.t BETWEEN {epoch("b.ts")} - {supply} AND {epoch("b.ts")}
          AND c.txn_id <> b.txn_id
    ),
    sess_rows AS (SELECT session_id, txn_id FROM st UNION ALL SELECT session_id, txn_id FROM supplied),
    sess_ev AS ({evidence_sql("sess_rows", ["session_id"])})
    SELECT 'party' AS entity_kind, t.hub AS entity_id, t.window_start, t.window_end,
           {metrics_sql({"clients": "h.clients", "handovers": "t.handovers", "cash_cad": "t.total"})} AS metrics,
           ev.evidence_txn_ids, {clamp01("h.clients / 6.0 + 0.5")} AS strength
    FROM hubs h JOIN tot t ON t.hub = h.hub LEFT JOIN ev ON ev.hub = h.hub
    UNION ALL
    SELECT 'session', s.session_id, s.start_ts, COALESCE(s.end_ts, s.start_ts),
           {metrics_sql({"clients": "h.clients", "buy_in_cad": "s.buy_in_cad"})},
           e.evidence_txn_ids, {clamp01("h.clients / 6.0 + 0.4")}
    FROM hs s JOIN hubs h ON h.hub = s.delivered_by_party_id LEFT JOIN sess_ev e ON e.session_id = s.session_id
    """
