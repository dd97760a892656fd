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

    Joined on the amount and a time bucket of twice the tolerance, not on the amount alone: round
    amounts are common, and every session of 5,000 CAD would otherwise meet every casino payment
    of 5,000 CAD in the data. A session's payments lie within one bucket from its time less the
    tolerance, so each session is listed under that time's bucket and the next (as the mirror
    swap does; listed from one read of the sessions, see ``hop_link_keys_sql``).
    """
    tol = SESSION_TXN_TOLERANCE_S
    bucket = 2 * tol
    # one scan of the transactions: those into or out of a casino account, with their side
    casino = "(SELECT account_id FROM accounts WHERE institution_type = 'casino')"
    return f"""
    SELECT session_id, txn_id FROM (
        SELECT s.session_id, c.txn_id,
               ROW_NUMBER() OVER (PARTITION BY s.session_id, s.leg ORDER BY ABS(c.t - s.at), c.txn_id) AS _rn
        FROM (
            SELECT l.*, CAST(FLOOR((l.at - {tol}) / {bucket}) AS BIGINT) + o.dj AS jb
            FROM (
                SELECT session_id, 'in' AS leg, ROUND(buy_in_cad, 2) AS amt, {epoch("start_ts")} AS at
                FROM {sessions} WHERE buy_in_cad > 0
                UNION ALL
                SELECT session_id, 'out', ROUND(cash_out_cad, 2), {epoch("COALESCE(end_ts, start_ts)")}
                FROM {sessions} WHERE cash_out_cad > 0
            ) AS l
            CROSS JOIN (VALUES (0), (1)) AS o(dj)
        ) AS s
        JOIN (
            SELECT t.txn_id, {epoch("t.ts")} AS t, CAST(FLOOR({epoch("t.ts")} / {bucket}) AS BIGINT) AS jb,
                   ROUND(CAST(COALESCE(t.amount_cad, t.amount) AS DOUBLE), 2) AS amt,
                   CASE WHEN cd.account_id IS NULL THEN 0 ELSE 1 END AS into_casino,
                   CASE WHEN cs.account_id IS NULL THEN 0 ELSE 1 END AS out_of_casino
            FROM transactions t
            LEFT JOIN {casino} AS cd ON cd.account_id = t.dst_account_id
            LEFT JOIN {casino} AS cs ON cs.account_id = t.src_account_id
            WHERE cd.account_id IS NOT NULL OR cs.account_id IS NOT NULL
        ) AS c ON c.amt = s.amt AND c.jb = s.jb AND ABS(c.t - s.at) <= {tol}
          AND ((s.leg = 'in' AND c.into_casino = 1) OR (s.leg = 'out' AND c.out_of_casino = 1))
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
