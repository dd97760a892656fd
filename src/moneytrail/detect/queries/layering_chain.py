"""G5 layering chains: A pays B pays C ... with small fee deductions and short delays."""

from __future__ import annotations

from moneytrail.detect.queries._paths import hop_link_keys_sql, hop_links_sql, path_levels_sql
from moneytrail.detect.sql import EDGES, PAIRS, clamp01, counterparties_sql, metrics_sql


def layering_chain_sql(params: dict) -> str:
    """Chains of ``min_hops`` or more transfers where each hop follows the previous within
    ``max_delay_hours`` and passes on between ``1 - max_fee`` and ``1 - min_fee`` of its amount.

    Chains pass only through accounts with at most ``max_degree`` counterparties (the account a
    chain starts from and the last payee may be busier): a casino, a bank's settlement account or
    a merchant is no layering intermediary, and through one every inflow of a few days meets every
    outflow of a similar amount (at 100 million transactions, nearly all of 240 million hop pairs).

    Only maximal chains are reported: a chain whose first transfer continues an earlier valid hop
    is part of a longer chain.
    """
    delay = int(float(params["max_delay_hours"]) * 3600)
    lo, hi = 1.0 - float(params["max_fee"]), 1.0 - float(params["min_fee"])
    max_len = int(params["max_hops"])
    levels = path_levels_sql(
        "cand",
        max_len,
        total_window_s=None,
        hop_delay_s=delay,
        min_ratio=lo,
        max_ratio=hi,
        close_at_origin=False,
        step_edges="cand_steps",
    )
    chains = " UNION ALL ".join(f"SELECT * FROM p{i}" for i in range(int(params["min_hops"]), max_len + 1))
    amount = f"amt >= {float(params['min_amount'])!r}"
    small = "(SELECT acct FROM small)"
    # the runner's shared edges (every transaction between two accounts) of at least the least
    # amount, with hashed ids: read twice by the join that finds candidate edges, never copied;
    # a next hop leaves an intermediary, so it leaves a small account
    hashed = "(SELECT hash(txn_id) AS h, t, amt, hash(src) AS hs, hash(dst) AS hd FROM {} WHERE {})"
    firsts = hashed.format(EDGES, amount)
    steps = hashed.format(EDGES, f"{amount} AND src IN {small}")
    return f"""
    WITH
    small AS MATERIALIZED (
        SELECT acct FROM ({counterparties_sql(PAIRS)}) AS c WHERE n_cp <= {int(params["max_degree"])}
    ),
    -- candidate edges, on hashed ids (a superset of the exact ones): those with a valid next hop
    -- or a valid previous hop
    links AS ({hop_link_keys_sql(firsts, max_gap_s=delay, min_ratio=lo, max_ratio=hi, next_edges=steps)}),
    link_ids AS (SELECT first_h AS h FROM links UNION SELECT next_h FROM links),
    edges AS MATERIALIZED (SELECT * FROM {EDGES} WHERE {amount} AND hash(txn_id) IN (SELECT h FROM link_ids)),
    steps AS (SELECT * FROM edges WHERE src IN {small}),
    -- the exact next hops, among the candidates (every edge of an exact hop is one)
    nxt AS ({hop_links_sql("edges", max_gap_s=delay, min_ratio=lo, max_ratio=hi, allow_return=False, next_edges="steps")}),
    cand AS (
        SELECT e.* FROM edges e
        WHERE e.txn_id IN (SELECT first_id FROM nxt) OR e.txn_id IN (SELECT next_id FROM nxt)
    ),
    cand_steps AS (SELECT * FROM cand WHERE src IN {small}),
    {", ".join(levels)},
    chains AS ({chains}),
    maximal AS (
        SELECT c.*, ROW_NUMBER() OVER (PARTITION BY c.start_txn ORDER BY c.hops DESC, c.last_t, c.txns) AS rn
        FROM chains c WHERE c.start_txn NOT IN (SELECT next_id FROM nxt)
    )
    SELECT 'account' AS entity_kind, origin AS entity_id, start_ts AS window_start, last_ts AS window_end,
           {metrics_sql({"hops": "hops", "first_cad": "first_amt", "last_cad": "last_amt", "retained_share": "1 - last_amt / first_amt", "hours": "(last_t - start_t) / 3600.0"})}
               AS metrics,
           array_to_string(array_sort(string_split(txns, ';')), ';') AS evidence_txn_ids,
           {clamp01("0.4 + hops / 10.0")} AS strength
    FROM maximal WHERE rn = 1
    """
