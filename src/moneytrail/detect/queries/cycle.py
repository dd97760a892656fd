"""G4 cycles: money that returns to its origin through 2 to ``max_length`` accounts in time order."""

from __future__ import annotations

from moneytrail.detect.queries._paths import hop_link_keys_sql, hop_links_sql, path_levels_sql
from moneytrail.detect.sql import EDGES, PAIRS, clamp01, metrics_sql, mutual_counts_sql, pairs_sql

# ``max_txns_per_counterparty`` at this value (its largest) counts every relation as fresh.
MAX_TXNS_ANY = 1_000_000


def cycle_sql(params: dict) -> str:
    """Time-ordered cycles of ``min_length`` to ``max_length`` transfers completed within ``window_days``.

    Two searches, whose cycles are reported together:

    - *Amount-keeping* cycles over relations that carried at most ``max_txns_per_counterparty``
      transactions: between consecutive hops the amount may shrink by at most ``max_fee`` (a fee)
      or grow by ``max_growth``, as when the same money goes round.
    - *Fresh-relation* cycles, whatever the amounts (generators and launderers alike mix other
      money in on the way): every inner hop uses a relation that carried at most
      ``fresh_max_txns`` transactions; the first or the last hop (not both) may use a regular
      relation of the origin, as when the money leaves through, or comes home over, an account the
      origin already deals with. ``fresh_max_txns = 0`` turns this search off.

    Amount-keeping cycles pass only through accounts with at most ``max_degree`` counterparties
    (the origin may be busier): a merchant, a payroll or a casino account is no layering
    intermediary, and through one every inflow would meet every outflow. Each hop must be at least
    ``min_amount``. The same set of transactions is reported once, on
    the account where the cycle starts.
    """
    w = int(params["window_days"]) * 86400
    max_len = int(params["max_length"])
    lo, hi = 1.0 - float(params["max_fee"]), 1.0 + float(params["max_growth"])
    fresh_n = int(params["fresh_max_txns"])
    first = max(2, int(params["min_length"]))
    min_amount = float(params["min_amount"])
    # amounts are never negative: without a least amount the runner's shared edges and pairs
    # (of every transaction) are this search's own
    if min_amount > 0:
        shared = (
            f"edges AS MATERIALIZED (SELECT * FROM {EDGES} WHERE amt >= {min_amount!r}),\n"
            f"    pairs AS MATERIALIZED ({pairs_sql()}),\n    "
        )
        E, P = "edges", "pairs"
    else:
        # read by name: a common table expression over them would be copied whole when read twice
        shared = ""
        E, P = EDGES, PAIRS
    max_n = int(params["max_txns_per_counterparty"])
    # the parameter's largest value lets every relation through: no join needed
    fresh_any = max_n >= MAX_TXNS_ANY
    fresh_flag = "1" if fresh_any else f"CASE WHEN n <= {max_n} THEN 1 ELSE 0 END"
    fresh_join = (
        "" if fresh_any else f"\n        JOIN {P} f ON f.src = e.src AND f.dst = e.dst AND f.n <= {max_n}"
    )

    def base(source: str) -> str:
        """The edges of ``source`` a cycle may use (see ``kb``): read twice rather than copied whole."""
        return (
            f"{source} e{fresh_join}\n        JOIN degree i ON i.acct = e.src AND i.fresh_in = 1 "
            "JOIN degree o ON o.acct = e.dst AND o.fresh_out = 1"
        )

    src_small = f"CASE WHEN i.n_cp <= {int(params['max_degree'])} THEN 1 ELSE 0 END AS src_small"
    keep_levels = path_levels_sql(
        "cand",
        max_len,
        total_window_s=w,
        hop_delay_s=None,
        min_ratio=lo,
        max_ratio=hi,
        close_at_origin=True,
        continuing="SELECT txn_id FROM cand WHERE grows = 1",
        step_edges="k_cand",
    )
    closed = [f"SELECT * FROM p{i} WHERE node = origin" for i in range(first, max_len + 1)]
    fresh_ctes = ""
    if fresh_n > 0:
        fresh_levels = path_levels_sql(
            "f_cand",
            max_len,
            total_window_s=w,
            hop_delay_s=None,
            min_ratio=0.0,
            max_ratio=1e18,
            close_at_origin=True,
            start_edges="f_starts",
            close_edges="f_closes",
            prefix="f_",
        )
        closed += [
            f"SELECT start_txn, origin, node, start_t, start_ts, last_t, last_ts, last_amt, first_amt, hops, txns, accts, wide "
            f"FROM f_p{i} WHERE node = origin"
            for i in range(first, max_len + 1)
        ]
        fresh_ctes = f""",
    -- the accounts a fresh cycle passes through are small: a busy account (a merchant, a payroll,
    -- a customer paying dozens of shops) is no layering intermediary
    f_small AS (SELECT acct FROM degree WHERE n_cp <= {int(params["fresh_max_degree"])}),
    f_fresh AS (SELECT p.src, p.dst FROM {P} p JOIN f_small m ON m.acct = p.dst WHERE p.n <= {fresh_n}),
    f_base AS (SELECT e.* FROM {E} e JOIN f_fresh f ON f.src = e.src AND f.dst = e.dst),
    -- with at most one hop over a regular relation, every fresh hop of a cycle of three or more
    -- has a fresh neighbour on it
    f_links AS ({hop_links_sql("f_base", max_gap_s=w, min_ratio=0.0, max_ratio=1e18)}),
    f_cand AS MATERIALIZED (
        SELECT b.* FROM f_base b
        WHERE b.txn_id IN (SELECT first_id FROM f_links) OR b.txn_id IN (SELECT next_id FROM f_links)
    ),
    f_cand_src AS (SELECT DISTINCT src AS acct FROM f_cand),
    f_cand_dst AS (SELECT DISTINCT dst AS acct FROM f_cand),
    f_narrow AS (SELECT DISTINCT txn_id FROM f_cand),
    -- the edges a fresh cycle may start or end with, from one read of the transactions
    f_touch AS MATERIALIZED (
        SELECT e.txn_id, e.ts, e.t, e.src, e.dst, e.amt, e.channel, r.n AS pair_n
        FROM (
            SELECT * FROM {E}
            WHERE dst IN (SELECT acct FROM f_cand_src) OR src IN (SELECT acct FROM f_cand_dst)
        ) AS e
        JOIN {P} r ON r.src = e.src AND r.dst = e.dst
    ),
    -- the first hop: a fresh edge, or an edge over a regular relation into a fresh path
    f_starts AS (
        SELECT c.*, 0 AS wide FROM f_cand c
        UNION ALL
        SELECT e.txn_id, e.ts, e.t, e.src, e.dst, e.amt, e.channel, 1 AS wide FROM f_touch e
        WHERE e.dst IN (SELECT acct FROM f_cand_src) AND e.pair_n > {fresh_n}
    ),
    -- the closing hop back to the origin (which may be a busy account): over any relation
    f_closes AS (
        SELECT e.txn_id, e.ts, e.t, e.src, e.dst, e.amt, e.channel,
               CASE WHEN e.pair_n > {fresh_n} THEN 1 ELSE 0 END AS wide
        FROM f_touch e WHERE e.src IN (SELECT acct FROM f_cand_dst)
    ),
    {", ".join(fresh_levels)}"""
    return f"""
    WITH {shared}
    -- counterparties per account, and whether it received and paid on fresh relations; cycles pass
    -- only through small accounts: a busy account (a merchant, a payroll, a casino) is no layering
    -- intermediary, and its every inflow would otherwise meet every outflow
    degree AS MATERIALIZED (
        SELECT d.acct, d.n_out + d.n_in - COALESCE(m.mutual, 0) AS n_cp, d.fresh_in, d.fresh_out
        FROM (
            SELECT acct, SUM(n_out) AS n_out, SUM(n_in) AS n_in, MAX(fresh_in) AS fresh_in, MAX(fresh_out) AS fresh_out
            FROM (
                SELECT src AS acct, COUNT(*) AS n_out, 0 AS n_in, 0 AS fresh_in, MAX({fresh_flag}) AS fresh_out
                FROM {P} GROUP BY src
                UNION ALL
                SELECT dst, 0, COUNT(*), MAX({fresh_flag}), 0 FROM {P} GROUP BY dst
            ) AS u GROUP BY acct
        ) AS d
        -- a counterparty paid and paid by counts once
        LEFT JOIN ({mutual_counts_sql(P)}) AS m ON m.acct = d.acct
    ),
    -- an edge can only lie on a cycle if its payer received and its payee paid on fresh relations;
    -- whether its payer is small enough to pass a cycle on is kept beside it. Candidate edges are
    -- found on a compact copy (hashed ids), then read again in full.
    kb AS MATERIALIZED (
        SELECT hash(e.txn_id) AS h, e.t, e.amt, hash(e.src) AS hs, hash(e.dst) AS hd, {src_small}
        FROM {base(E)}
    ),
    -- an edge on a cycle has a valid next hop or a valid previous hop: prune the rest up front
    -- a next hop leaves an intermediary; the first hop may leave a busy origin and the last come home to it
    k_steps AS (SELECT * FROM kb WHERE src_small = 1),
    links AS ({hop_link_keys_sql("kb", max_gap_s=w, min_ratio=lo, max_ratio=hi, next_edges="k_steps")}),
    link_ids AS (SELECT first_h AS h FROM links UNION SELECT next_h FROM links),
    cand AS MATERIALIZED (
        SELECT e.txn_id, e.ts, e.t, e.src, e.dst, e.amt, e.channel, {src_small},
               CASE WHEN hash(e.txn_id) IN (SELECT first_h FROM links) THEN 1 ELSE 0 END AS grows
        FROM {base(f"(SELECT * FROM {E} WHERE hash(txn_id) IN (SELECT h FROM link_ids))")}
    ),
    k_cand AS (SELECT txn_id, ts, t, src, dst, amt, channel FROM cand WHERE src_small = 1),
    {", ".join(keep_levels)}{fresh_ctes},
    closed AS ({" UNION ALL ".join(closed)}),
    keyed AS (
        SELECT c.*, array_to_string(array_sort(string_split(c.txns, ';')), ';') AS txn_set,
               -- a ring entered over a regular relation is one ring whichever of its payments began it
               CASE WHEN c.wide = 1 THEN c.origin || '|' || substr(c.txns, strpos(c.txns, ';') + 1) END AS ring
        FROM closed c
    ),
    uniq AS (
        SELECT * FROM (
            -- ties (the same path found by both searches) go to the narrow one, whose ring is its own
            SELECT k.*, ROW_NUMBER() OVER (PARTITION BY txn_set ORDER BY start_t, start_txn, wide, txns) AS rn,
                   ROW_NUMBER() OVER (
                       PARTITION BY COALESCE(ring, txn_set) ORDER BY start_t DESC, start_txn, wide, txns) AS ring_rn
            FROM keyed k
        ) AS r WHERE rn = 1 AND ring_rn = 1
    )
    SELECT 'account' AS entity_kind, origin AS entity_id, start_ts AS window_start, last_ts AS window_end,
           {metrics_sql({"length": "hops", "first_cad": "first_amt", "returned_cad": "last_amt", "days": "(last_t - start_t) / 86400.0"})}
               AS metrics,
           txn_set AS evidence_txn_ids, {clamp01("0.5 + hops / 12.0")} AS strength
    FROM uniq
    """
