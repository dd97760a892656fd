"""Shared builder linking casino sessions to the money movements they caused."""

from __future__ import annotations

from moneytrail.detect.sql import epoch

# A session's buy-in and pay-out are booked at the cage within this many seconds of its start and end.
SESSION_TXN_TOLERANCE_S = 1800


def session_txns_sql(sessions: str = "casino_sessions") -> str:
    """``(session_id, txn_id)``: the buy-in and the pay-out transaction of each session in ``sessions``.

    Casino and bank records name the player differently (the cage's patron record is not the
    bank's customer), so a session is linked to its money by what both sides record: the buy-in
    is the payment into a casino account of exactly the buy-in amount nearest the session start,
    the pay-out the payment out of a casino account of exactly the cash-out amount nearest its
    end, each within ``SESSION_TXN_TOLERANCE_S`` seconds.
    """
    tol = SESSION_TXN_TOLERANCE_S
    return f"""
    SELECT session_id, txn_id FROM (
        SELECT x.session_id, x.txn_id,
               ROW_NUMBER() OVER (PARTITION BY x.session_id, x.leg ORDER BY x.gap, x.txn_id) AS _rn
        FROM (
            SELECT s.session_id, t.txn_id, 'in' AS leg, ABS({epoch("t.ts")} - {epoch("s.start_ts")}) AS gap
            FROM {sessions} s
            JOIN transactions t ON ROUND(CAST(COALESCE(t.amount_cad, t.amount) AS DOUBLE), 2) = ROUND(s.buy_in_cad, 2)
            JOIN accounts c ON c.account_id = t.dst_account_id AND c.institution_type = 'casino'
            WHERE s.buy_in_cad > 0 AND ABS({epoch("t.ts")} - {epoch("s.start_ts")}) <= {tol}
            UNION ALL
            SELECT s.session_id, t.txn_id, 'out', ABS({epoch("t.ts")} - {epoch("COALESCE(s.end_ts, s.start_ts)")})
            FROM {sessions} s
            JOIN transactions t ON ROUND(CAST(COALESCE(t.amount_cad, t.amount) AS DOUBLE), 2) = ROUND(s.cash_out_cad, 2)
            JOIN accounts c ON c.account_id = t.src_account_id AND c.institution_type = 'casino'
            WHERE s.cash_out_cad > 0
              AND ABS({epoch("t.ts")} - {epoch("COALESCE(s.end_ts, s.start_ts)")}) <= {tol}
        ) AS x
    ) AS r WHERE _rn = 1"""


def with_session_evidence_sql(core_sql: str) -> str:
    """A detector core query on sessions (``entity_kind = 'session'``) with each hit's evidence
    set to its session's buy-in and pay-out transactions (:func:`session_txns_sql`)."""
    hit_sessions = f"""(
        SELECT s.* FROM casino_sessions s
        WHERE s.session_id IN (SELECT q.entity_id FROM ({core_sql}) AS q WHERE q.entity_kind = 'session'))"""
    return f"""
    SELECT c.entity_kind, c.entity_id, c.window_start, c.window_end, c.metrics,
           COALESCE(ev.evidence_txn_ids, c.evidence_txn_ids) AS evidence_txn_ids, c.strength
    FROM ({core_sql}) AS c
    LEFT JOIN (
        SELECT session_id, array_to_string(array_sort(array_agg(txn_id)), ';') AS evidence_txn_ids
        FROM ({session_txns_sql(hit_sessions)}) AS st GROUP BY session_id
    ) AS ev ON c.entity_kind = 'session' AND ev.session_id = c.entity_id"""
