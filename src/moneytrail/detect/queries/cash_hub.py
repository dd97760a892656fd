"""U1, C6 cash hub: one party supplies cash to many players or clients."""

from __future__ import annotations

from moneytrail.detect.sql import CASH_CHANNELS, clamp01, epoch, evidence_sql, in_list, metrics_sql


def cash_hub_sql(p: dict) -> str:
    """Parties who handed cash to at least ``min_players`` distinct players or clients within
    ``window_days``: deliveries recorded on casino sessions, and cash transactions from the
    party's accounts to accounts held by others."""
    w = int(p["window_days"]) * 86400
    return f"""
    WITH d AS (
        SELECT delivered_by_party_id AS hub, party_id AS client, {epoch("start_ts")} AS t, start_ts AS ts,
               buy_in_cad AS amt, CAST(NULL AS VARCHAR) AS txn_id
        FROM casino_sessions WHERE delivered_by_party_id IS NOT NULL AND delivered_by_party_id <> party_id
        UNION ALL
        SELECT sa.holder_party_id, da.holder_party_id, {epoch("t.ts")}, t.ts, COALESCE(t.amount_cad, t.amount), t.txn_id
        FROM transactions t JOIN accounts sa ON sa.account_id = t.src_account_id
        JOIN accounts da ON da.account_id = t.dst_account_id
        WHERE t.channel IN {in_list(CASH_CHANNELS)} AND sa.holder_party_id IS NOT NULL
          AND da.holder_party_id IS NOT NULL AND sa.holder_party_id <> da.holder_party_id
          AND COALESCE(sa.institution_type, 'other') NOT IN ('bank', 'casino', 'msb')
          AND COALESCE(t.amount_cad, t.amount) >= {float(p["min_amount"])}
    ),
    per AS (
        SELECT a.hub, a.t, COUNT(DISTINCT b.client) AS clients
        FROM d a JOIN d b ON b.hub = a.hub AND b.t BETWEEN a.t AND a.t + {w}
        GROUP BY a.hub, a.t HAVING COUNT(DISTINCT b.client) >= {int(p["min_players"])}
    ),
    hubs AS (SELECT hub, MAX(clients) AS clients FROM per GROUP BY hub),
    tot AS (
        SELECT d.hub, MIN(d.ts) AS window_start, MAX(d.ts) AS window_end, SUM(d.amt) AS total, COUNT(*) AS handovers
        FROM d JOIN hubs h ON h.hub = d.hub GROUP BY d.hub
    ),
    ev_rows AS (SELECT d.hub, d.txn_id FROM d JOIN hubs h ON h.hub = d.hub WHERE d.txn_id IS NOT NULL),
    ev AS ({evidence_sql("ev_rows", ["hub"])})
    SELECT 'party' AS entity_kind, t.hub AS entity_id, t.window_start, t.window_end,
           {metrics_sql({"clients": "h.clients", "handovers": "t.handovers", "cash_cad": "t.total"})} AS metrics,
           ev.evidence_txn_ids, {clamp01("h.clients / 6.0 + 0.5")} AS strength
    FROM hubs h JOIN tot t ON t.hub = h.hub LEFT JOIN ev ON ev.hub = h.hub
    """
