"""Shared builder of time-ordered paths: bounded, unrolled self-joins of candidate edges.

Each level extends the paths of the previous one by one edge that starts where the path ends, no
earlier than its last edge and within the time limits, with an amount ratio to the previous edge
inside ``[min_ratio, max_ratio]``. A path never revisits an account (except its origin, which
closes a cycle). Per level only the earliest path per (first transaction, current account) is
kept, which bounds the frontier on dense graphs without losing any time-ordered reachability.
"""

from __future__ import annotations


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
) -> list[str]:
    """CTE bodies ``jb_edges, p1 .. p{max_len}`` (as ``name AS MATERIALIZED (...)`` strings) over
    ``edges``, their names preceded by ``prefix`` (so one query can hold several searches).

    Every level is materialised: each is read by the next level and by the query's result, and an
    engine that inlines common table expressions (Spark) would otherwise rebuild all earlier
    levels at every use; the Spark engine computes each level as its own checkpointed step.

    Paths start with an edge of ``start_edges`` (default ``edges``) and continue over ``edges``.
    With ``close_edges`` (and ``close_at_origin``), a path returns to its origin only over an edge
    of that relation. Both relations then carry a column ``wide`` (1 for an edge outside ``edges``)
    and a path takes at most one wide edge: a cycle may leave or come back over a wider relation
    while its inner hops keep to the narrow one.

    Path columns: start_txn, origin, node, start_t, start_ts, last_t, last_ts, last_amt, first_amt,
    hops, txns (';'-joined ids), accts (';'-wrapped account ids), wide.
    """
    # Join on (account, time bucket) rather than on the account alone: a busy account's whole
    # history would otherwise meet every path that reaches it. A next hop lies within one bucket
    # length of the path's last time, so it falls in that time's bucket or the next; each edge is
    # listed under its own bucket and the one before.
    bucket = max(int(min(v for v in (total_window_s, hop_delay_s) if v is not None)), 1)
    closing = close_edges is not None and close_at_origin
    # one relation of next hops, so each level reads the previous one once (an engine that
    # inlines common table expressions would otherwise double the plan at every level)
    cols_e = "e.txn_id, e.ts, e.t, e.src, e.dst, e.amt, " + (
        "e.wide, e.closing" if closing else "0 AS wide, 0 AS closing"
    )
    steps = (
        f"(SELECT n.*, 0 AS wide, 0 AS closing FROM {edges} n UNION ALL SELECT c.*, 1 AS closing FROM {close_edges} c)"
        if closing
        else edges
    )
    ctes = [
        f"""{prefix}jb_edges AS MATERIALIZED (
        SELECT {cols_e}, FLOOR(e.t / {bucket}) AS jb FROM {steps} e
        UNION ALL
        SELECT {cols_e}, FLOOR(e.t / {bucket}) - 1 AS jb FROM {steps} e)""",
        f"""{prefix}p1 AS MATERIALIZED (
        SELECT txn_id AS start_txn, src AS origin, dst AS node, t AS start_t, ts AS start_ts, t AS last_t,
               ts AS last_ts, amt AS last_amt, amt AS first_amt, 1 AS hops, txn_id AS txns,
               ';' || src || ';' || dst || ';' AS accts, {"wide" if start_edges else "0"} AS wide
        FROM {start_edges or edges})""",
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
        step = [f"e.jb = FLOOR(p.last_t / {bucket})", *conds]
        if closing:
            step.append(
                "((e.closing = 0 AND NOT contains(p.accts, ';' || e.dst || ';'))"
                " OR (e.closing = 1 AND e.dst = p.origin AND (p.wide = 0 OR e.wide = 0)))"
            )
        elif close_at_origin:
            step.append("(e.dst = p.origin OR NOT contains(p.accts, ';' || e.dst || ';'))")
        else:
            step.append("NOT contains(p.accts, ';' || e.dst || ';')")
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
    edges: str, *, max_gap_s: int, min_ratio: float, max_ratio: float, allow_return: bool = True
) -> str:
    """Pairs ``(first_id, next_id)`` of edges that can follow each other on a path: the second leaves
    the first's payee within ``max_gap_s`` (back to the first's payer only if ``allow_return``) and
    carries an amount inside the ratio bounds. Joined on (account, time bucket) so busy accounts
    stay cheap."""
    gap = max(int(max_gap_s), 1)
    back = "" if allow_return else " AND b.dst <> a.src"
    return f"""
        SELECT DISTINCT a.txn_id AS first_id, b.txn_id AS next_id
        FROM (SELECT e.*, FLOOR(e.t / {gap}) AS jb FROM {edges} e) AS a
        JOIN (
            SELECT e.*, FLOOR(e.t / {gap}) AS jb FROM {edges} e
            UNION ALL
            SELECT e.*, FLOOR(e.t / {gap}) - 1 AS jb FROM {edges} e
        ) AS b
          ON b.src = a.dst AND b.jb = a.jb AND b.t >= a.t AND b.t <= a.t + {gap}
         AND b.amt >= a.amt * {min_ratio} AND b.amt <= a.amt * {max_ratio} AND b.txn_id <> a.txn_id{back}"""
