"""Amount bands and time buckets turn ratio and range joins into equality joins without losing pairs."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from moneytrail.detect.catalog import load_catalog
from moneytrail.detect.queries._casino import SESSION_TXN_TOLERANCE_S, session_txns_sql
from moneytrail.detect.queries._paths import hop_link_keys_sql, hop_links_sql
from moneytrail.detect.runner import detector_rows, register_resolved_parties
from moneytrail.detect.sql import (
    amount_band_sql,
    amount_band_width,
    counterparties_sql,
    distinct_ahead_sql,
    listed_sql,
    mutual_counts_sql,
    prev_band_sql,
)
from moneytrail.engine import make_engine
from tests.utils.detect_worlds import account, txn, write_tables

pytestmark = pytest.mark.duckdb


def _amounts(lo: float, hi: float) -> list[float]:
    rng = np.random.default_rng(7)
    base = [float(x) for x in np.round(np.exp(rng.uniform(0, 12, 400)), 2)]
    # exact ratio bounds, band edges and amounts of zero or less
    edges = [1000.0, 1000.0 * lo, 1000.0 * hi, 0.0, -5.0, 1.0, float(np.exp(amount_band_width(lo, hi) * 40))]
    return base + edges


@pytest.mark.parametrize(("lo", "hi"), [(0.9, 1.0), (0.9, 0.98), (0.5, 2.0), (1.0, 1.0)])
def test_amount_bands_find_every_pair_within_the_ratio(lo, hi):
    width = amount_band_width(lo, hi)
    con = duckdb.connect()
    con.execute("CREATE TABLE a AS SELECT UNNEST(?::DOUBLE[]) AS amt", [_amounts(lo, hi)])
    con.execute("CREATE TABLE b AS SELECT amt FROM a")
    brute = con.execute(
        f"SELECT a.amt, b.amt FROM a, b WHERE b.amt >= a.amt * {lo} AND b.amt <= a.amt * {hi}"
    )
    expected = sorted(brute.fetchall())
    listed = listed_sql(f"SELECT b.amt, 0 AS jb0, {amount_band_sql('b.amt', width)} AS ab0 FROM b", True)
    banded = con.execute(
        f"SELECT a.amt, l.amt FROM a JOIN ({listed}) AS l ON l.jb = 0 AND l.ab = {prev_band_sql('a.amt', width, lo)}"
        f" WHERE l.amt >= a.amt * {lo} AND l.amt <= a.amt * {hi}"
    )
    assert len(expected) > 400
    assert sorted(banded.fetchall()) == expected


def test_amount_bands_are_off_when_the_ratio_is_open():
    assert amount_band_width(0.0, 1.0) is None
    assert amount_band_width(0.5, 1e18) is None


def test_distinct_members_ahead_match_the_self_join():
    """The sorted pass counts, for every event, the distinct members of its key within the window
    that starts there, as the self-join does: repeated members, equal times, events exactly one
    window apart and members left unknown included."""
    rng = np.random.default_rng(11)
    n, w = 600, 100
    keys = rng.integers(0, 4, n)
    members = [None if m == 0 else f"m{m}" for m in rng.integers(0, 12, n)]
    times = rng.integers(0, 1000, n) // 10 * 10  # many equal times, many exactly w apart
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE ev AS SELECT UNNEST(?::BIGINT[]) AS k, UNNEST(?::VARCHAR[]) AS m, UNNEST(?::BIGINT[]) AS t",
        [keys.tolist(), members, times.tolist()],
    )
    brute = con.execute(
        f"SELECT a.k, a.t, COUNT(DISTINCT b.m) FROM ev a JOIN ev b ON b.k = a.k AND b.t BETWEEN a.t AND a.t + {w} "
        "GROUP BY a.k, a.t, a.rowid"
    ).fetchall()
    got = con.execute(f"SELECT * FROM ({distinct_ahead_sql('ev', 'k', 'm', w)})").fetchall()
    assert len(got) == n
    assert sorted(got) == sorted(brute)
    assert max(c for *_, c in got) >= 5


def test_sessions_meet_every_payment_within_the_tolerance():
    """Sessions and casino payments matched on amount and time bucket pair up as the plain
    amount join with the tolerance does: payments exactly at the tolerance, one second beyond,
    and on either side of bucket edges, with round amounts shared by many sessions."""
    tol = SESSION_TXN_TOLERANCE_S
    rng = np.random.default_rng(5)
    con = duckdb.connect()
    con.execute("CREATE TABLE accounts AS SELECT 'CAS' AS account_id, 'casino' AS institution_type")
    starts = (rng.integers(0, 200, 300) * tol // 2 + rng.choice([0, 1, tol - 1, tol, tol + 1], 300)).tolist()
    amounts = rng.choice([1000.0, 5000.0, 20000.0], 300).tolist()
    con.execute(
        "CREATE TABLE casino_sessions AS SELECT 's' || i AS session_id, a AS buy_in_cad, a AS cash_out_cad, "
        "to_timestamp(t) AS start_ts, to_timestamp(t + 600) AS end_ts "
        "FROM (SELECT UNNEST(range(300)) AS i, UNNEST(?::BIGINT[]) AS t, UNNEST(?::DOUBLE[]) AS a)",
        [starts, amounts],
    )
    offsets = [-tol - 1, -tol, -1, 0, tol, tol + 1]
    pay = [
        (f"p{i}_{j}", t + d, a)
        for i, (t, a) in enumerate(zip(starts, amounts, strict=True))
        for j, d in enumerate(offsets)
    ]
    con.execute(
        "CREATE TABLE transactions AS SELECT id AS txn_id, to_timestamp(t) AS ts, a AS amount, a AS amount_cad, "
        "CASE WHEN i % 2 = 0 THEN 'P' ELSE 'CAS' END AS src_account_id, "
        "CASE WHEN i % 2 = 0 THEN 'CAS' ELSE 'P' END AS dst_account_id "
        "FROM (SELECT UNNEST(range(?)) AS i, UNNEST(?::VARCHAR[]) AS id, UNNEST(?::BIGINT[]) AS t, "
        "UNNEST(?::DOUBLE[]) AS a)",
        [len(pay), [p[0] for p in pay], [p[1] for p in pay], [p[2] for p in pay]],
    )
    # the plain join: every payment of the amount, into (buy-in) or out of (pay-out) the casino,
    # within the tolerance; the nearest one wins
    plain = f"""
        SELECT session_id, txn_id FROM (
            SELECT s.session_id, c.txn_id, ROW_NUMBER() OVER (
                PARTITION BY s.session_id, s.leg ORDER BY ABS(epoch(c.ts) - s.at), c.txn_id) AS rn
            FROM (
                SELECT session_id, 'in' AS leg, buy_in_cad AS amt, epoch(start_ts) AS at FROM casino_sessions
                UNION ALL SELECT session_id, 'out', cash_out_cad, epoch(end_ts) FROM casino_sessions
            ) AS s
            JOIN transactions c ON c.amount = s.amt AND ABS(epoch(c.ts) - s.at) <= {tol}
             AND ((s.leg = 'in' AND c.dst_account_id = 'CAS') OR (s.leg = 'out' AND c.src_account_id = 'CAS'))
        ) AS r WHERE rn = 1"""
    expected = sorted(con.execute(plain).fetchall())
    assert len(expected) > 300
    assert sorted(con.execute(session_txns_sql()).fetchall()) == expected


def _hits(ws, det_id: str, tables: dict, **params) -> list[dict]:
    write_tables(ws, tables)
    with make_engine("duckdb", ws) as eng:
        register_resolved_parties(eng)
        return detector_rows(eng, load_catalog()[det_id], params or None).to_pylist()


def test_cycle_found_behind_an_earlier_dead_end_path(workspace):
    """B pays C twice; the earlier payment cannot go on (C returns more than it got), the later can:
    the search must keep the later path to C rather than only the earliest one."""
    rows = [
        txn("c1", "A", "B", 10000, 0),
        txn("c2", "B", "C", 9500, 5),  # a dead end: C's payment back is larger than this
        txn("c3", "B", "C", 9900, 6),
        txn("c4", "C", "A", 9800, 10),
    ]
    got = _hits(workspace, "cycle", {"transactions": rows}, fresh_max_txns=0)
    assert [(r["entity_id"], r["evidence_txn_ids"]) for r in got] == [("A", "c1;c3;c4")]


def test_cash_structuring_evidence_is_every_deposit_of_a_qualifying_window(workspace):
    accts = [account("cash", kind="other", is_external=True), account("acc", "p1")]
    rows = [
        txn("d0", "cash", "acc", 9000, -100, "cash"),  # alone in its 24 hours: not evidence
        txn("d1", "cash", "acc", 9000, 0, "cash"),
        txn("d2", "cash", "acc", 9500, 20, "cash"),
        txn("d3", "cash", "acc", 9200, 40, "cash"),  # a second window, with d2 but not d1
    ]
    got = _hits(workspace, "cash_structuring", {"transactions": rows, "accounts": accts})
    assert [(r["entity_id"], r["evidence_txn_ids"]) for r in got] == [("acc", "d1;d2;d3")]
    assert '"windows":2.0' in got[0]["metrics"]


@pytest.mark.parametrize(
    ("lag_hours", "cny_cad", "matched"),
    [
        (-120, 90000.0, True),
        (120, 98000.0, True),
        (121, 95000.0, False),
        (0, 89990.0, False),
        (0, 98010.0, False),
    ],
)
def test_mirror_swap_at_the_edges_of_time_and_fee(workspace, lag_hours, cny_cad, matched):
    accts = [
        account("cash", "banker", kind="other"),
        account("client", "c1"),
        account("cn1", "x"),
        account("cn2", "y"),
    ]
    cash = txn("h1", "cash", "client", 100000, 500, "cash", country_src="CA", country_dst="CA")
    cny = txn(
        "y1",
        "cn1",
        "cn2",
        cny_cad,
        500 + lag_hours,
        "wire",
        currency="CNY",
        country_src="CN",
        country_dst="CN",
    )
    got = _hits(workspace, "mirror_swap", {"transactions": [cash, cny], "accounts": accts})
    assert [r["evidence_txn_ids"] for r in got] == (["h1;y1"] if matched else [])


def test_amount_keeping_cycles_do_not_pass_through_busy_accounts(workspace):
    """A ring through a shop that many customers pay is no layering: the bound on counterparties
    drops it, and a ring that only starts and ends at the busy account is still found."""
    ring = [txn("c1", "A", "SHOP", 10000, 0), txn("c2", "SHOP", "C", 9700, 5), txn("c3", "C", "A", 9500, 10)]
    customers = [txn(f"k{i}", f"cust{i}", "SHOP", 20, -24 - i) for i in range(6)]
    rows = ring + customers
    assert len(_hits(workspace, "cycle", {"transactions": rows}, fresh_max_txns=0)) == 1
    assert _hits(workspace, "cycle", {"transactions": rows}, fresh_max_txns=0, max_degree=5) == []
    origin = [
        txn("c1", "SHOP", "B", 10000, 0),
        txn("c2", "B", "C", 9700, 5),
        txn("c3", "C", "SHOP", 9500, 10),
    ]
    got = _hits(workspace, "cycle", {"transactions": origin + customers}, fresh_max_txns=0, max_degree=5)
    assert [(r["entity_id"], r["evidence_txn_ids"]) for r in got] == [("SHOP", "c1;c2;c3")]


def test_layering_chains_do_not_pass_through_busy_accounts(workspace):
    """A chain through a casino that many patrons pay is no layering: the bound on counterparties
    drops it, and chains that start or end at the busy account are still found."""
    chain = [
        txn("l1", "A", "CASINO", 50000, 0),
        txn("l2", "CASINO", "C", 48500, 20),
        txn("l3", "C", "D", 47000, 40),
    ]
    patrons = [txn(f"k{i}", f"patron{i}", "CASINO", 300, -24 - i) for i in range(6)]
    rows = chain + patrons
    assert [r["evidence_txn_ids"] for r in _hits(workspace, "layering_chain", {"transactions": rows})] == [
        "l1;l2;l3"
    ]
    assert _hits(workspace, "layering_chain", {"transactions": rows}, max_degree=5) == []
    starts = [
        txn("s1", "CASINO", "B", 50000, 0),
        txn("s2", "B", "C", 48500, 20),
        txn("s3", "C", "D", 47000, 40),
    ]
    ends = [
        txn("e1", "X", "Y", 50000, 0),
        txn("e2", "Y", "Z", 48500, 20),
        txn("e3", "Z", "CASINO", 47000, 40),
    ]
    got = _hits(workspace, "layering_chain", {"transactions": starts + ends + patrons}, max_degree=5)
    assert sorted((r["entity_id"], r["evidence_txn_ids"]) for r in got) == [
        ("CASINO", "s1;s2;s3"),
        ("X", "e1;e2;e3"),
    ]


def test_amount_keeping_cycles_follow_only_relations_within_the_transaction_bound(workspace):
    """A ring whose B-to-C relation also carries two earlier payments is found while every
    relation counts, and not when relations of more than two transactions are left out."""
    ring = [txn("c1", "A", "B", 10000, 0), txn("c2", "B", "C", 9700, 5), txn("c3", "C", "A", 9500, 10)]
    rows = ring + [txn("o1", "B", "C", 50, -48), txn("o2", "B", "C", 60, -24)]
    got = _hits(workspace, "cycle", {"transactions": rows}, fresh_max_txns=0)
    assert [r["evidence_txn_ids"] for r in got] == ["c1;c2;c3"]
    assert (
        _hits(workspace, "cycle", {"transactions": rows}, fresh_max_txns=0, max_txns_per_counterparty=3) != []
    )
    assert (
        _hits(workspace, "cycle", {"transactions": rows}, fresh_max_txns=0, max_txns_per_counterparty=2) == []
    )


def _random_edges(con, n: int = 3000, accounts: int = 60) -> None:
    rng = np.random.default_rng(11)
    src = rng.integers(0, accounts, n)
    dst = (src + rng.integers(1, accounts, n)) % accounts
    con.execute(
        "CREATE TABLE e AS SELECT 'tx' || i AS txn_id, t, 'acct' || s AS src, 'acct' || d AS dst, amt "
        "FROM (SELECT UNNEST(range(?)) AS i, UNNEST(?::BIGINT[]) AS t, UNNEST(?::BIGINT[]) AS s, "
        "UNNEST(?::BIGINT[]) AS d, UNNEST(?::DOUBLE[]) AS amt)",
        [
            n,
            [int(x) for x in rng.integers(0, 90 * 86400, n)],
            [int(x) for x in src],
            [int(x) for x in dst],
            [float(x) for x in np.round(np.exp(rng.uniform(0, 8, n)), 2)],
        ],
    )


@pytest.mark.parametrize(("lo", "hi"), [(0.9, 1.0), (0.0, 1e18)])
def test_hashed_hop_links_hold_every_exact_link(lo, hi):
    """The hashed links a cycle search starts from are a superset of the exact ones (equal here)."""
    con = duckdb.connect()
    _random_edges(con)
    exact = con.execute(
        f"SELECT hash(first_id), hash(next_id) FROM ({hop_links_sql('e', max_gap_s=7 * 86400, min_ratio=lo, max_ratio=hi)})"
    ).fetchall()
    con.execute("CREATE TABLE k AS SELECT hash(txn_id) AS h, t, amt, hash(src) AS hs, hash(dst) AS hd FROM e")
    hashed = con.execute(
        hop_link_keys_sql("k", max_gap_s=7 * 86400, min_ratio=lo, max_ratio=hi, next_edges="k")
    ).fetchall()
    assert len(exact) > 100
    assert sorted(hashed) == sorted(exact)


def test_counterparties_count_each_account_once():
    con = duckdb.connect()
    _random_edges(con)
    con.execute("CREATE TABLE p AS SELECT DISTINCT src, dst FROM e")
    brute = dict(
        con.execute(
            "SELECT acct, COUNT(DISTINCT cp) FROM (SELECT src AS acct, dst AS cp FROM p UNION ALL "
            "SELECT dst, src FROM p) GROUP BY acct"
        ).fetchall()
    )
    mutual = dict(con.execute(mutual_counts_sql("p")).fetchall())
    assert sum(mutual.values()) > 0  # some accounts paid each other both ways
    assert dict(con.execute(counterparties_sql("p")).fetchall()) == brute
