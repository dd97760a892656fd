"""Shared builder of time-ordered paths: bounded, unrolled self-joins of candidate edges.

Each level extends the paths of the previous one by one edge that starts where the path ends, no
earlier than its last edge and within the time limits, with an amount ratio to the previous edge
inside ``[min_ratio, max_ratio]``. A path never revisits an account (except its origin, which
closes a cycle). Per level only the earliest path per (first transaction, current account) is
kept, which bounds the frontier on dense graphs (with amount-ratio bounds it can hide a later path
whose amount would have carried on; cycles first drop paths that cannot go on, see
``continuing``). Hops are matched on (account, time bucket, amount band), so a busy account's
inflows meet only the outflows near them in time and amount.
"""

from __future__ import annotations

from moneytrail.detect.sql import amount_band_sql, amount_band_width, key_offsets, listed_sql, prev_band_sql


def path_levels_sql(
    edges: str,
    max_len: int,
    *,
    total_window_s: int | None,
    hop_delay_s: int | None,
    min_ratio: float,
    max_ratio: float,
    close_at_origin: bool,
    start_edges: str | None = None,
    close_edges: str | None = None,
    prefix: str = "",
    continuing: str | None = None,
    step_edges: str | None = None,
) -> list[str]:
    """CTE bodies ``jb_edges, p1 .. p{max_len}`` (as ``name AS MATERIALIZED (...)`` strings) over
    ``edges``, their names preceded by ``prefix`` (so one query can hold several searches).

    Every level is materialised: each is read by the next level and by the query's result, and an
    engine that inlines common table expressions (Spark) would otherwise rebuild all earlier
    levels at every use; the Spark engine computes each level as its own checkpointed step.

    Paths start with an edge of ``start_edges`` (default ``edges``) and continue over
    ``step_edges`` (default ``edges``; a subset, e.g. the edges leaving accounts a path may pass
    through).
    With ``close_edges`` (and ``close_at_origin``), a path returns to its origin only over an edge
    of that relation. Both relations then carry a column ``wide`` (1 for an edge outside ``edges``)
    and a path takes at most one wide edge: a cycle may leave or come back over a wider relation
    while its inner hops keep to the narrow one.

    With ``continuing`` (a query of the ``txn_id`` of every edge that has a valid next hop) and
    ``close_at_origin``, only paths that can still grow or that closed are kept: a path whose last
    edge has no next hop and did not come home can never close. Give it only when every step of a
    path is an edge of ``edges`` whose next hops ``continuing`` lists.

    Path columns: start_txn, origin, node, start_t, start_ts, last_t, last_ts, last_amt, first_amt,
    hops, txns (';'-joined ids), accts (';'-wrapped account ids), wide.
    """
    # Join on (account, time bucket) rather than on the account alone: a busy account's whole
    # history would otherwise meet every path that reaches it. A next hop lies within one bucket
    # length of the path's last time, so it falls in that time's bucket or the next; each edge is
    # listed under its own bucket and the one before. With amount-ratio bounds the join also
    # matches on the amount band (see :func:`hop_links_sql`).
    bucket = max(int(min(v for v in (total_window_s, hop_delay_s) if v is not None)), 1)
    closing = close_edges is not None and close_at_origin
    # one relation of next hops, so each level reads the previous one once (an engine that
    # inlines common table expressions would otherwise double the plan at every level)
    cols_e = "e.txn_id, e.ts, e.t, e.src, e.dst, e.amt, " + (
        "e.wide, e.closing" if closing else "0 AS wide, 0 AS closing"
    )
    steps = (
        f"(SELECT n.*, 0 AS wide, 0 AS closing FROM {step_edges or edges} n UNION ALL SELECT c.*, 1 AS closing FROM {close_edges} c)"
        if closing
        else step_edges or edges
    )
    width = amount_band_width(min_ratio, max_ratio)
    if continuing is not None and close_at_origin and not closing:
        cols_e += f", CASE WHEN e.txn_id IN ({continuing}) THEN 1 ELSE 0 END AS grows"
        prune = True
    else:
        prune = False
    keyed = f"SELECT {cols_e}, FLOOR(e.t / {bucket}) AS jb0, {amount_band_sql('e.amt', width) if width else '0'} AS ab0 FROM {steps} e"
    ctes = [
        f"""{prefix}jb_edges AS MATERIALIZED (
            {listed_sql(keyed, width is not None)})""",
        f"""{prefix}p1 AS MATERIALIZED (
        SELECT txn_id AS start_txn, src AS origin, dst AS node, t AS start_t, ts AS start_ts, t AS last_t,
               ts AS last_ts, amt AS last_amt, amt AS first_amt, 1 AS hops, txn_id AS txns,
               ';' || src || ';' || dst || ';' AS accts, {"wide" if start_edges else "0"} AS wide
        FROM {start_edges or edges}{f" WHERE txn_id IN ({continuing})" if prune else ""})""",
    ]
    for i in range(2, max_len + 1):
        conds = [
            "e.src = p.node",
            "e.t >= p.last_t",
            f"e.amt >= p.last_amt * {min_ratio}",
            f"e.amt <= p.last_amt * {max_ratio}",
        ]
        if total_window_s is not None:
            conds.append(f"e.t <= p.start_t + {int(total_window_s)}")
        if hop_delay_s is not None:
            conds.append(f"e.t <= p.last_t + {int(hop_delay_s)}")
        band = prev_band_sql("p.last_amt", width, min_ratio) if width else "0"
        step = [f"e.jb = FLOOR(p.last_t / {bucket})", f"e.ab = {band}", *conds]
        if closing:
            step.append(
                "((e.closing = 0 AND NOT contains(p.accts, ';' || e.dst || ';'))"
                " OR (e.closing = 1 AND e.dst = p.origin AND (p.wide = 0 OR e.wide = 0)))"
            )
        elif close_at_origin:
            step.append("(e.dst = p.origin OR NOT contains(p.accts, ';' || e.dst || ';'))")
        else:
            step.append("NOT contains(p.accts, ';' || e.dst || ';')")
        if prune and i < max_len:
            step.append("(e.grows = 1 OR e.dst = p.origin)")
        open_only = "p.node <> p.origin" if close_at_origin else "TRUE"
        cols = f"""p.start_txn, p.origin, e.dst AS node, p.start_t, p.start_ts, e.t AS last_t, e.ts AS last_ts,
                   e.amt AS last_amt, p.first_amt, {i} AS hops, p.txns || ';' || e.txn_id AS txns,
                   p.accts || e.dst || ';' AS accts, p.wide"""
        joined = f"SELECT {cols} FROM {prefix}p{i - 1} p JOIN {prefix}jb_edges e ON {' AND '.join(step)} WHERE {open_only}"
        ctes.append(
            f"""{prefix}p{i} AS MATERIALIZED (
        SELECT start_txn, origin, node, start_t, start_ts, last_t, last_ts, last_amt, first_amt, hops, txns, accts, wide
        FROM (
            SELECT y.*, ROW_NUMBER() OVER (PARTITION BY y.start_txn, y.node ORDER BY y.last_t, y.txns) AS _rn
            FROM ({joined}) AS y
        ) AS x WHERE _rn = 1)"""
        )
    return ctes


def hop_links_sql(
    edges: str,
    *,
    max_gap_s: int,
    min_ratio: float,
    max_ratio: float,
    allow_return: bool = True,
    next_edges: str | None = None,
) -> str:
    """Pairs ``(first_id, next_id)`` of edges that can follow each other on a path: the second leaves
    the first's payee within ``max_gap_s`` (back to the first's payer only if ``allow_return``) and
    carries an amount inside the ratio bounds; the second is taken from ``next_edges`` (default
    ``edges``). Joined on (account, time bucket, amount band) so busy
    accounts stay cheap: without the band a hub's every inflow meets every outflow of its month."""
    gap, a_band, b_band, offsets = _hop_keys(max_gap_s, min_ratio, max_ratio)
    back = "" if allow_return else " AND b.dst <> a.src"
    # the first edges are listed under the keys of their possible next hops (their time bucket and
    # the next, their band and the next), so the hash table is built on the next hops once
    keyed = f"SELECT e.*, FLOOR(e.t / {gap}) AS jb0, {a_band} AS ab0 FROM {edges} e"
    listed = "\n            UNION ALL\n            ".join(
        f"SELECT k.txn_id, k.t, k.src, k.dst, k.amt, k.jb0 + {dj} AS jb, k.ab0 + {da} AS ab FROM ({keyed}) AS k"
        for dj, da in offsets
    )
    return f"""
        SELECT DISTINCT a.txn_id AS first_id, b.txn_id AS next_id
        FROM ({listed}) AS a
        JOIN (SELECT e.*, FLOOR(e.t / {gap}) AS jb, {b_band} AS ab FROM {next_edges or edges} e) AS b
          ON b.src = a.dst AND b.jb = a.jb AND b.ab = a.ab AND b.t >= a.t AND b.t <= a.t + {gap}
         AND b.amt >= a.amt * {min_ratio} AND b.amt <= a.amt * {max_ratio} AND b.txn_id <> a.txn_id{back}"""


def hop_link_keys_sql(
    edges: str, *, max_gap_s: int, min_ratio: float, max_ratio: float, next_edges: str
) -> str:
    """:func:`hop_links_sql` on 64-bit hashes: pairs ``(first_h, next_h)`` of hashed transaction ids.

    ``edges`` and ``next_edges`` carry ``h`` (the hashed ``txn_id``), ``t``, ``amt``, ``hs`` and
    ``hd`` (the hashed payer and payee). Every pair of :func:`hop_links_sql` (with returns allowed)
    is here, and a few more when hashes of different values are equal, so use it only to pick the
    edges a search starts from, whose paths are then checked on the real columns. Fixed-width keys
    keep the join's hash table a third of the size of one on text ids, so it stays in memory on
    transaction tables of a hundred million rows.
    """
    gap, a_band, b_band, offsets = _hop_keys(max_gap_s, min_ratio, max_ratio)
    keyed = (
        f"SELECT e.h, e.t, e.amt, e.hd, CAST(FLOOR(e.t / {gap}) AS BIGINT) AS jb0, "
        f"CAST({a_band} AS BIGINT) AS ab0 FROM {edges} e"
    )
    # one read of ``edges``, each row listed under every key a next hop of it may have
    offset_rows = ", ".join(f"({dj}, {da})" for dj, da in offsets)
    listed = (
        f"SELECT k.h, k.t, k.amt, hash(k.hd, k.jb0 + o.dj, k.ab0 + o.da) AS jk "
        f"FROM ({keyed}) AS k CROSS JOIN (VALUES {offset_rows}) AS o(dj, da)"
    )
    return f"""
        SELECT DISTINCT a.h AS first_h, b.h AS next_h
        FROM ({listed}) AS a
        JOIN (
            SELECT e.h, e.t, e.amt,
                   hash(e.hs, CAST(FLOOR(e.t / {gap}) AS BIGINT), CAST({b_band} AS BIGINT)) AS jk
            FROM {next_edges} e
        ) AS b
          ON b.jk = a.jk AND b.t >= a.t AND b.t <= a.t + {gap}
         AND b.amt >= a.amt * {min_ratio} AND b.amt <= a.amt * {max_ratio}"""


def _hop_keys(
    max_gap_s: int, min_ratio: float, max_ratio: float
) -> tuple[int, str, str, list[tuple[int, int]]]:
    """The keys of a hop join: the time bucket length, the amount band of a first edge's next hops
    and of a next hop itself (``0`` without bands), and the offsets a first edge is listed under."""
    width = amount_band_width(min_ratio, max_ratio)
    a_band = prev_band_sql("e.amt", width, min_ratio) if width else "0"
    b_band = amount_band_sql("e.amt", width) if width else "0"
    return max(int(max_gap_s), 1), a_band, b_band, key_offsets(width is not None)
