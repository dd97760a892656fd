"""Small pure builders of portable SQL shared by the detector queries.

Every detector query returns the *core* of a hit: ``entity_kind, entity_id, window_start,
window_end, metrics, evidence_txn_ids, strength`` (strength from 0 to 1 scales the detector's
severity). The runner adds the id, the detector's ids and the severity (:func:`hit_sql`).

Only functions that sqlglot transpiles to Spark are used: JSON metrics are built by string
concatenation of formatted numbers, and evidence lists by ``array_to_string(array_sort(array_agg))``
over at most ``EVIDENCE_CAP`` ids.
"""

from __future__ import annotations

import math
from collections.abc import Collection

EVIDENCE_CAP = 50
# Channels that move physical cash; casino buy-ins are cash unless their form says otherwise.
CASH_CHANNELS = ("cash", "casino_buy_in")
# ``party_id, entity_id`` from entity resolution, registered by the runner (empty when unresolved).
RESOLVED_PARTIES = "_resolved_parties"
LOW_INCOME_OCCUPATIONS = ("student", "homemaker", "unemployed", "housewife", "retired")
# Relations many detectors would otherwise each compute from every transaction; the runner computes
# the ones the chosen detectors read once per run (see ``moneytrail.detect.runner.shared_inputs``).
# ``EDGES``: every transaction between two different accounts, as ``edges_sql()`` returns it.
EDGES = "_edges"
# ``PAIRS``: one row per (src, dst) account pair of ``EDGES``, as ``pairs_sql(txn_ids=True)`` returns it.
PAIRS = "_pairs"
SHARED_RELATIONS = (EDGES, PAIRS)  # in the order they are computed (pairs read edges)


def lit(value: str) -> str:
    """A string as a SQL literal."""
    return "'" + str(value).replace("'", "''") + "'"


def in_list(values: tuple[str, ...] | list[str]) -> str:
    """``('a', 'b')`` for an IN clause."""
    return "(" + ", ".join(lit(v) for v in values) + ")"


def num(expr: str, digits: int = 2) -> str:
    """A numeric expression as JSON text (``null`` when missing)."""
    return f"COALESCE(CAST(ROUND(CAST({expr} AS DOUBLE), {digits}) AS VARCHAR), 'null')"


def metrics_sql(fields: dict[str, str]) -> str:
    """A JSON object of numeric metrics, built by portable string concatenation.

    >>> metrics_sql({"n": "cnt"})
    '\\'{\\' || \\'"n":\\' || COALESCE(CAST(ROUND(CAST(cnt AS DOUBLE), 2) AS VARCHAR), \\'null\\') || \\'}\\''
    """
    parts = []
    for i, (name, expr) in enumerate(fields.items()):
        sep = "" if i == 0 else ","
        parts.append(f"'{sep}\"{name}\":' || {num(expr)}")
    return "'{' || " + " || ".join(parts) + " || '}'" if parts else "'{}'"


def evidence_sql(
    source: str,
    keys: list[str],
    txn_col: str = "txn_id",
    cap: int = EVIDENCE_CAP,
    priority: str | None = None,
    distinct: bool = True,
) -> str:
    """Aggregate ``source`` rows (keys + one transaction id) into one ';'-joined, sorted, capped list.

    When there are more than ``cap`` ids, those with the lowest ``priority`` (a column of
    ``source``) are kept first. Returns the ``keys`` columns, ``evidence_txn_ids`` and
    ``evidence_count`` (before the cap). ``distinct=False`` skips removing repeated ids, for
    sources that hold each transaction at most once per key.
    """
    k = ", ".join(keys)
    if distinct:
        prio = f"MIN({priority})" if priority else "0"
        rows = f"SELECT {k}, {txn_col}, {prio} AS _ev_p FROM {source} GROUP BY {k}, {txn_col}"
    else:
        rows = f"SELECT {k}, {txn_col}, {priority or '0'} AS _ev_p FROM {source}"
    return f"""
        SELECT {k}, array_to_string(array_sort(array_agg({txn_col})), ';') AS evidence_txn_ids,
               MAX(_ev_n) AS evidence_count
        FROM (
            SELECT {k}, {txn_col},
                   ROW_NUMBER() OVER (PARTITION BY {k} ORDER BY _ev_p, {txn_col}) AS _ev_rn,
                   COUNT(*) OVER (PARTITION BY {k}) AS _ev_n
            FROM ({rows}) AS _ev_d
        ) AS _ev
        WHERE _ev_rn <= {int(cap)}
        GROUP BY {k}"""


def epoch(expr: str) -> str:
    """Seconds since 1970 of a timestamp (portable: DuckDB epoch, Spark unix_timestamp)."""
    return f"CAST(epoch({expr}) AS BIGINT)"


def distinct_ahead_sql(events: str, key: str, member: str, window_s: int) -> str:
    """``(key, t, n)``: for each event of ``events`` (columns ``key``, ``member``, ``t`` in
    seconds), the number of distinct non-null members of its ``key`` with an event in
    ``[t, t + window_s]``.

    One sorted pass instead of a self-join, which grows with the square of a busy key's events.
    An event at ``t`` of a member whose previous event was at ``prev`` counts for the windows that
    start in ``[t - window_s, t]`` and after ``prev`` (an earlier start already counts that
    member through ``prev``), so a member counts once per window. The count at a start is a
    running sum of +1 where such a range opens and -1 after it closes; at equal times a range
    that includes its opening time opens before the starts there, and one that excludes it opens,
    like every close, after them.
    """
    w = int(window_s)
    return f"""
        SELECT {key}, x AS t, n FROM (
            SELECT {key}, x, kind, SUM(delta) OVER (
                PARTITION BY {key} ORDER BY x, kind ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS n
            FROM (
                SELECT {key}, t AS x, 1 AS kind, 0 AS delta FROM {events}
                UNION ALL
                SELECT {key}, CASE WHEN prev_t >= t - {w} THEN prev_t ELSE t - {w} END,
                       CASE WHEN prev_t >= t - {w} THEN 2 ELSE 0 END, 1
                FROM (
                    SELECT {key}, t, LAG(t) OVER (PARTITION BY {key}, {member} ORDER BY t) AS prev_t
                    FROM {events} WHERE {member} IS NOT NULL
                ) AS m
                UNION ALL
                SELECT {key}, t, 2, -1 FROM {events} WHERE {member} IS NOT NULL
            ) AS pts
        ) AS c
        WHERE kind = 1"""


def clamp01(expr: str) -> str:
    """``expr`` limited to the range 0 to 1."""
    return f"LEAST(1.0, GREATEST(0.0, CAST({expr} AS DOUBLE)))"


def account_holders_sql() -> str:
    """Accounts with their holder's profile (works without a parties table only via accounts)."""
    return """
        SELECT a.account_id, a.holder_party_id, a.institution_type, a.country AS account_country,
               p.kind AS party_kind, LOWER(COALESCE(p.occupation, '')) AS occupation,
               p.declared_income, p.country AS party_country, p.nationality
        FROM accounts a LEFT JOIN parties p ON p.party_id = a.holder_party_id"""


def same_person_sql() -> str:
    """``(party_id, other_id)``: every party with itself and with each party record resolved to the
    same entity (the same person across casino, bank and land-title records)."""
    return f"""
        SELECT party_id, party_id AS other_id FROM parties
        UNION
        SELECT r1.party_id, r2.party_id FROM {RESOLVED_PARTIES} r1
        JOIN {RESOLVED_PARTIES} r2 ON r2.entity_id = r1.entity_id AND r2.party_id <> r1.party_id"""


def hit_sql(detector_id: str, indicator_ids: str, severity: float, core_sql: str) -> str:
    """Complete a detector's core query into ``detector_hits`` rows with a deterministic ``hit_id``."""
    return f"""
        SELECT md5({lit(detector_id)} || '|' || entity_kind || '|' || entity_id || '|'
                   || COALESCE(CAST({epoch("window_start")} AS VARCHAR), '') || '|'
                   || COALESCE(CAST({epoch("window_end")} AS VARCHAR), '') || '|'
                   || COALESCE(evidence_txn_ids, '')) AS hit_id,
               {lit(detector_id)} AS detector_id,
               {lit(indicator_ids)} AS indicator_ids,
               CAST(entity_kind AS VARCHAR) AS entity_kind,
               CAST(entity_id AS VARCHAR) AS entity_id,
               CAST(window_start AS TIMESTAMP) AS window_start,
               CAST(window_end AS TIMESTAMP) AS window_end,
               CAST(metrics AS VARCHAR) AS metrics,
               CAST(evidence_txn_ids AS VARCHAR) AS evidence_txn_ids,
               CAST(ROUND({float(severity)} * {clamp01("COALESCE(strength, 1.0)")}, 4) AS DOUBLE) AS severity
        FROM ({core_sql}) AS _core"""


def edges_sql(where: str = "TRUE") -> str:
    """Transactions as money-flow edges (``txn_id, ts, t, src, dst, amt, channel``); ``t`` is epoch seconds."""
    return f"""
        SELECT txn_id, ts, {epoch("ts")} AS t, src_account_id AS src, dst_account_id AS dst,
               CAST(COALESCE(amount_cad, amount) AS DOUBLE) AS amt, channel
        FROM transactions
        WHERE src_account_id <> dst_account_id AND ({where})"""


def pairs_sql(edges: str = "edges", txn_ids: bool = False) -> str:
    """Counterparty pairs from an edges relation: count, first and last time, total; with
    ``txn_ids`` also the smallest and largest transaction id (``first_txn_id``, ``last_txn_id``:
    all of a pair's transactions when it has at most two)."""
    ids = ", MIN(txn_id) AS first_txn_id, MAX(txn_id) AS last_txn_id" if txn_ids else ""
    return f"""
        SELECT src, dst, COUNT(*) AS n, MIN(t) AS first_t, MAX(t) AS last_t, MIN(ts) AS first_ts,
               MAX(ts) AS last_ts, SUM(amt) AS total{ids}
        FROM {edges} GROUP BY src, dst"""


def mutual_counts_sql(pairs: str) -> str:
    """Per account, how many of its counterparties it both paid and was paid by (``acct, mutual``),
    from a relation of distinct ``(src, dst)`` pairs: one group per couple, not a self-join."""
    couples = (
        f"SELECT LEAST(src, dst) AS a, GREATEST(src, dst) AS b FROM {pairs} "
        "GROUP BY LEAST(src, dst), GREATEST(src, dst) HAVING COUNT(*) = 2"
    )
    return f"""
        SELECT CASE WHEN k.i = 0 THEN c.a ELSE c.b END AS acct, COUNT(*) AS mutual
        FROM ({couples}) AS c CROSS JOIN (VALUES (0), (1)) AS k(i)
        GROUP BY CASE WHEN k.i = 0 THEN c.a ELSE c.b END"""


def counterparties_sql(pairs: str) -> str:
    """Distinct counterparties per account (``acct, n_cp``), paid or paying, from a relation of
    distinct ``(src, dst)`` pairs."""
    return f"""
        SELECT d.acct, d.n - COALESCE(m.mutual, 0) AS n_cp
        FROM (
            SELECT acct, SUM(c) AS n FROM (
                SELECT src AS acct, COUNT(*) AS c FROM {pairs} GROUP BY src
                UNION ALL SELECT dst, COUNT(*) FROM {pairs} GROUP BY dst
            ) AS u GROUP BY acct
        ) AS d
        LEFT JOIN ({mutual_counts_sql(pairs)}) AS m ON m.acct = d.acct"""


def shared_relation_sql(name: str, provided: Collection[str] = ()) -> str:
    """The query of one of the :data:`SHARED_RELATIONS`; it reads the shared relations in
    ``provided`` by name and computes the others inline.

    >>> "GROUP BY src, dst" in shared_relation_sql(PAIRS, provided=(EDGES,))
    True
    """
    if name == EDGES:
        return edges_sql()
    if name == PAIRS:
        return pairs_sql(EDGES if EDGES in provided else f"({edges_sql()}) AS _e", txn_ids=True)
    raise ValueError(f"Unknown shared relation {name!r}; known are {', '.join(SHARED_RELATIONS)}.")


# Amount-band keys are computed with this relative margin, so rounding in LN never drops a pair.
_BAND_MARGIN = 1e-6
# Key of the band for amounts of zero or less (they can only follow each other).
_NONPOSITIVE_BAND = -1000000000


def amount_band_width(min_ratio: float, max_ratio: float) -> float | None:
    """Width in ``LN(amount)`` of the bands that bound an amount-ratio join, or None when the
    ratio bounds are too loose for bands to help (``min_ratio`` 0, or a span over 1000 times)."""
    if min_ratio <= 0 or max_ratio < min_ratio or max_ratio / min_ratio > 1000:
        return None
    return max(math.log(max_ratio / min_ratio), 1e-6) / (1 - 2 * _BAND_MARGIN)


def amount_band_sql(amt: str, width: float) -> str:
    """The band of an amount: next hops are listed under their band and the one below."""
    return f"CASE WHEN {amt} > 0 THEN FLOOR(LN({amt}) / {width!r}) ELSE {_NONPOSITIVE_BAND} END"


def prev_band_sql(amt: str, width: float, min_ratio: float) -> str:
    """The band under which every valid next hop of an edge carrying ``amt`` is listed.

    A next hop's amount lies in ``[amt * min_ratio, amt * max_ratio]``, an interval narrower than
    one band (see :func:`amount_band_width`), so its band is this one or the next; the margin keeps
    rounding at a band's edge on the safe side.
    """
    lo = math.log(min_ratio)
    return (
        f"CASE WHEN {amt} > 0 THEN FLOOR((LN({amt}) + {lo!r}) / {width!r} - {_BAND_MARGIN!r}) "
        f"ELSE {_NONPOSITIVE_BAND} END"
    )


def key_offsets(banded: bool) -> list[tuple[int, int]]:
    """The (time bucket, amount band) steps under which an edge is listed so that an equality join
    meets every neighbour: the next bucket, and when ``banded`` the next band too."""
    return [(0, 0), (1, 0), (0, 1), (1, 1)] if banded else [(0, 0), (1, 0)]


def listed_sql(keyed: str, banded: bool) -> str:
    """Next hops (``keyed`` carries their time bucket ``jb0`` and amount band ``ab0``) listed under
    that bucket and the one before, and when ``banded`` under that band and the one below, so an
    equality join on ``(jb, ab)`` meets every neighbour."""
    return "\n            UNION ALL\n            ".join(
        f"SELECT k.*, k.jb0 - {dj} AS jb, k.ab0 - {da} AS ab FROM ({keyed}) AS k"
        for dj, da in key_offsets(banded)
    )
