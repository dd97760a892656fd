"""C10 online-gambling round trips."""

from __future__ import annotations

from moneytrail.detect.sql import clamp01, edges_sql, evidence_sql, metrics_sql


def online_gambling_round_trip_sql(p: dict) -> str:
    """Accounts sending e-transfers to gambling accounts and receiving payouts back from gambling
    accounts or their payment processors (accounts abroad paying at least ``min_processor_payees``
    distinct accounts that stake at gambling sites) within ``window_days`` after a stake, with payouts at least
    ``min_return_share`` of the stakes."""
    w = int(p["window_days"]) * 86400
    return f"""
    -- gambling sites: casino accounts, or offshore accounts paid for (or paying out) online gaming
    -- (the memos are read once: the pattern is the costly part of the scan)
    WITH gm AS MATERIALIZED (
        SELECT src_account_id, dst_account_id FROM transactions
        WHERE regexp_matches(LOWER(COALESCE(memo, '')), 'gaming|gambl|casino|poker|betting')
    ),
    g AS (
        SELECT account_id FROM accounts WHERE institution_type = 'casino'
        UNION
        SELECT dst_account_id FROM gm
        UNION
        SELECT src_account_id FROM gm
    ),
    e AS ({edges_sql("channel IN ('etransfer', 'eft', 'wire', 'crypto')")}),
    stakers AS (SELECT DISTINCT e.src AS account_id FROM e JOIN g ON g.account_id = e.dst),
    -- payment processors: accounts abroad paying out to several accounts that stake at gambling sites
    processors AS (
        SELECT e.src AS account_id FROM e
        JOIN stakers s ON s.account_id = e.dst
        JOIN accounts a ON a.account_id = e.src AND COALESCE(a.country, 'CA') <> 'CA'
        WHERE e.src NOT IN (SELECT account_id FROM g)
        GROUP BY e.src HAVING COUNT(DISTINCT e.dst) >= {int(p["min_processor_payees"])}
    ),
    payers AS (SELECT account_id FROM g UNION SELECT account_id FROM processors),
    stake AS (SELECT e.src AS acct, e.txn_id, e.t, e.ts, e.amt FROM e JOIN g ON g.account_id = e.dst),
    payout AS (SELECT e.dst AS acct, e.txn_id, e.t, e.ts, e.amt FROM e JOIN payers g ON g.account_id = e.src),
    trips AS (
        SELECT s.acct, s.txn_id AS stake_id, o.txn_id AS payout_id, s.amt AS staked, o.amt AS paid, s.ts AS s_ts, o.ts AS o_ts
        FROM stake s JOIN payout o ON o.acct = s.acct AND o.t BETWEEN s.t AND s.t + {w}
    ),
    agg AS (
        SELECT acct, SUM(DISTINCT_staked) AS staked, SUM(DISTINCT_paid) AS paid, MIN(s_ts) AS window_start, MAX(o_ts) AS window_end
        FROM (SELECT acct, stake_id, payout_id, s_ts, o_ts,
                     CASE WHEN ROW_NUMBER() OVER (PARTITION BY acct, stake_id ORDER BY payout_id) = 1 THEN staked ELSE 0 END AS DISTINCT_staked,
                     CASE WHEN ROW_NUMBER() OVER (PARTITION BY acct, payout_id ORDER BY stake_id) = 1 THEN paid ELSE 0 END AS DISTINCT_paid
              FROM trips) AS x
        GROUP BY acct HAVING SUM(DISTINCT_staked) >= {float(p["min_amount"])}
           AND SUM(DISTINCT_paid) >= {float(p["min_return_share"])} * SUM(DISTINCT_staked)
    ),
    ev_rows AS (SELECT t.acct, t.stake_id AS txn_id FROM trips t UNION ALL SELECT t.acct, t.payout_id FROM trips t),
    ev AS ({evidence_sql("ev_rows", ["acct"])})
    SELECT 'account' AS entity_kind, a.acct AS entity_id, a.window_start, a.window_end,
           {metrics_sql({"staked_cad": "a.staked", "paid_back_cad": "a.paid"})} AS metrics,
           ev.evidence_txn_ids, {clamp01("a.paid / a.staked")} AS strength
    FROM agg a JOIN ev ON ev.acct = a.acct
    """
