"""U4 student or homemaker accounts with high volume."""

from __future__ import annotations

from moneytrail.detect.sql import (
    LOW_INCOME_OCCUPATIONS,
    account_holders_sql,
    clamp01,
    epoch,
    evidence_sql,
    in_list,
    metrics_sql,
)


def low_income_high_volume_sql(p: dict) -> str:
    """Accounts held by students, homemakers or the unemployed (or with declared income below
    ``max_income``) that receive at least ``min_inflow`` within ``window_days`` and pay most of it on.

    A wire from abroad into such an account (yuan 'tuition') is often the far half of a swap: the
    money was handed over in cash in Canada up to ``swap_lag_hours`` before, less the banker's fee
    (``swap_min_fee`` to ``swap_max_fee``). Value and time alone cannot always tell which hand-over
    paid for a wire, so the evidence adds the ``swap_candidates`` cash hand-overs nearest in time
    before each wire that match it.
    """
    w = int(p["window_days"]) * 86400
    lag = max(int(float(p["swap_lag_hours"]) * 3600), 1)
    lo, hi = 1.0 - float(p["swap_max_fee"]), 1.0 - float(p["swap_min_fee"])
    return f"""
    WITH h AS ({account_holders_sql()}),
    low AS (SELECT account_id FROM h WHERE h.party_kind = 'person' AND (h.occupation IN {in_list(LOW_INCOME_OCCUPATIONS)}
            OR COALESCE(h.declared_income, 1e18) < {float(p["max_income"])})),
    -- the edges with the paying side's country (a wire from abroad may pair with cash in Canada)
    e AS (
        SELECT txn_id, ts, {epoch("ts")} AS t, src_account_id AS src, dst_account_id AS dst,
               CAST(COALESCE(amount_cad, amount) AS DOUBLE) AS amt, country_src
        FROM transactions WHERE src_account_id <> dst_account_id
    ),
    flows AS (
        SELECT l.account_id AS acct, e.txn_id, e.t, e.ts, CASE WHEN e.dst = l.account_id THEN e.amt ELSE 0 END AS inflow,
               CASE WHEN e.src = l.account_id THEN e.amt ELSE 0 END AS outflow, e.country_src AS from_country
        FROM low l JOIN e ON e.dst = l.account_id
        UNION ALL
        SELECT l.account_id, e.txn_id, e.t, e.ts, 0, e.amt, CAST(NULL AS VARCHAR) FROM low l JOIN e ON e.src = l.account_id
    ),
    bucket AS (
        SELECT acct, FLOOR(t / {w}) AS b, SUM(inflow) AS inflow, SUM(outflow) AS outflow, MIN(ts) AS window_start, MAX(ts) AS window_end
        FROM flows GROUP BY acct, FLOOR(t / {w})
        HAVING SUM(inflow) >= {float(p["min_inflow"])} AND SUM(outflow) >= {float(p["min_pass_share"])} * SUM(inflow)
    ),
    -- wires from abroad into the flagged accounts, listed under their time bucket and the one
    -- before, so an equality join meets the cash handed over up to one lag earlier
    wires AS (
        SELECT DISTINCT f.acct, f.txn_id AS wire_id, f.t, f.inflow AS amt
        FROM flows f JOIN (SELECT DISTINCT acct FROM bucket) AS b ON b.acct = f.acct
        WHERE f.from_country IS NOT NULL AND f.from_country <> 'CA'
    ),
    wire_keys AS (
        SELECT acct, wire_id, t, amt, FLOOR(t / {lag}) AS k FROM wires
        UNION ALL SELECT acct, wire_id, t, amt, FLOOR(t / {lag}) - 1 FROM wires
    ),
    swap_cash AS (
        SELECT acct, txn_id FROM (
            SELECT w.acct, c.txn_id,
                   ROW_NUMBER() OVER (PARTITION BY w.acct, w.wire_id ORDER BY w.t - c.t, c.txn_id) AS rn
            FROM wire_keys w
            JOIN (
                SELECT txn_id, {epoch("ts")} AS t, CAST(COALESCE(amount_cad, amount) AS DOUBLE) AS amt,
                       FLOOR({epoch("ts")} / {lag}) AS k
                FROM transactions
                WHERE channel = 'cash' AND COALESCE(country_src, 'CA') = 'CA' AND COALESCE(country_dst, 'CA') = 'CA'
            ) AS c ON c.k = w.k AND c.t BETWEEN w.t - {lag} AND w.t
              AND w.amt BETWEEN c.amt * {lo!r} AND c.amt * {hi!r}
        ) AS r WHERE rn <= {int(p["swap_candidates"])}
    ),
    -- the account's largest inflows lead the evidence, then its outflows and the swaps' cash
    ev_rows AS (
        SELECT f.acct, f.txn_id, -f.inflow AS prio FROM flows f JOIN bucket b ON b.acct = f.acct AND FLOOR(f.t / {w}) = b.b
        UNION ALL SELECT acct, txn_id, CAST(0 AS DOUBLE) FROM swap_cash
    ),
    ev AS ({evidence_sql("ev_rows", ["acct"], priority="prio")})
    SELECT 'account' AS entity_kind, b.acct AS entity_id, MIN(b.window_start) AS window_start, MAX(b.window_end) AS window_end,
           {metrics_sql({"max_inflow_cad": "MAX(b.inflow)", "max_outflow_cad": "MAX(b.outflow)"})} AS metrics,
           MIN(ev.evidence_txn_ids) AS evidence_txn_ids, {clamp01(f"MAX(b.inflow) / {4 * float(p['min_inflow'])} + 0.5")} AS strength
    FROM bucket b JOIN ev ON ev.acct = b.acct GROUP BY b.acct
    """
