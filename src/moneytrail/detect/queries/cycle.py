"""G4 cycles: money that returns to its origin through 2 to ``max_length`` accounts in time order."""

from __future__ import annotations

from moneytrail.detect.queries._paths import hop_links_sql, path_levels_sql
from moneytrail.detect.sql import clamp01, edges_sql, metrics_sql, pairs_sql


def cycle_sql(params: dict) -> str:
    """Time-ordered cycles of 2 to ``max_length`` transfers completed within ``window_days``.

    Each hop must be at least ``min_amount``; amounts between consecutive hops may shrink by at
    most ``max_fee`` (a fee) or grow by ``max_growth``. The same set of transactions is reported
    once, on the account where the cycle starts. Only relations that carried at most
    ``max_txns_per_counterparty`` transactions are followed: cycles are built from fresh relations,
    and routine back-and-forth between regular counterparties would otherwise swamp the search.
    """
    w = int(params["window_days"]) * 86400
    max_len = int(params["max_length"])
    lo, hi = 1.0 - float(params["max_fee"]), 1.0 + float(params["max_growth"])
    levels = path_levels_sql(
        "cand",
        max_len,
        total_window_s=w,
        hop_delay_s=None,
        min_ratio=lo,
        max_ratio=hi,
        close_at_origin=True,
    )
    closed = " UNION ALL ".join(
        f"SELECT * FROM p{i} WHERE node = origin"
        for i in range(max(2, int(params["min_length"])), max_len + 1)
    )
    return f"""
    WITH edges AS ({edges_sql(f"COALESCE(amount_cad, amount) >= {float(params['min_amount'])}")}),
    pairs AS ({pairs_sql()}),
    fresh AS (SELECT src, dst FROM pairs WHERE n <= {int(params["max_txns_per_counterparty"])}),
    -- an edge can only lie on a cycle if its payer received and its payee paid on fresh relations
    ins AS (SELECT DISTINCT dst AS acct FROM fresh),
    outs AS (SELECT DISTINCT src AS acct FROM fresh),
    base AS (
        SELECT e.* FROM edges e JOIN fresh f ON f.src = e.src AND f.dst = e.dst
        JOIN ins i ON i.acct = e.src JOIN outs o ON o.acct = e.dst
    ),
    -- an edge on a cycle has a valid next hop or a valid previous hop: prune the rest up front
    links AS ({hop_links_sql("base", max_gap_s=w, min_ratio=lo, max_ratio=hi)}),
    cand AS (
        SELECT b.* FROM base b
        WHERE b.txn_id IN (SELECT first_id FROM links) OR b.txn_id IN (SELECT next_id FROM links)
    ),
    {", ".join(levels)},
    closed AS ({closed}),
    keyed AS (
        SELECT c.*, array_to_string(array_sort(string_split(c.txns, ';')), ';') AS txn_set
        FROM closed c
    ),
    uniq AS (
        SELECT * FROM (
            SELECT k.*, ROW_NUMBER() OVER (PARTITION BY txn_set ORDER BY start_t, start_txn) AS rn FROM keyed k
        ) AS r WHERE rn = 1
    )
    SELECT 'account' AS entity_kind, origin AS entity_id, start_ts AS window_start, last_ts AS window_end,
           {metrics_sql({"length": "hops", "first_cad": "first_amt", "returned_cad": "last_amt", "days": "(last_t - start_t) / 86400.0"})}
               AS metrics,
           txn_set AS evidence_txn_ids, {clamp01("0.5 + hops / 12.0")} AS strength
    FROM uniq
    """
