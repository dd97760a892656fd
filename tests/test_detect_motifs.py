"""Graph-motif and transaction detectors fire on a small positive and not on a near miss."""

from __future__ import annotations

import pytest

from moneytrail.detect.catalog import load_catalog
from moneytrail.detect.runner import detector_hits_sql
from moneytrail.engine import make_engine
from tests.utils.detect_worlds import account, txn, write_tables

pytestmark = pytest.mark.duckdb


def hits(ws, det_id: str, tables: dict, **params) -> list[dict]:
    """Write ``tables`` to ``ws`` and return the rows of one detector."""
    write_tables(ws, tables)
    with make_engine("duckdb", ws) as eng:
        return eng.query(detector_hits_sql(load_catalog()[det_id], params or None)).to_pylist()


def _fan_in(n: int) -> list[dict]:
    return [txn(f"t{i}", f"s{i}", "hub", 500, 24 * i) for i in range(n)]


def test_fan_in_fires_on_many_one_off_senders(workspace):
    rows = hits(workspace, "fan_in", {"transactions": _fan_in(6)})
    assert [r["entity_id"] for r in rows] == ["hub"]
    assert len(rows[0]["evidence_txn_ids"].split(";")) == 6
    assert '"counterparties":6.0' in rows[0]["metrics"]
    assert rows[0]["indicator_ids"] == "G1"


def test_fan_in_near_miss_too_few_senders(workspace):
    assert hits(workspace, "fan_in", {"transactions": _fan_in(4)}) == []


def test_fan_in_near_miss_senders_outside_window(workspace):
    rows = [txn(f"t{i}", f"s{i}", "hub", 500, 24 * 40 * i) for i in range(6)]
    assert hits(workspace, "fan_in", {"transactions": rows}, window_days=30) == []


def test_fan_out_fires_and_misses(workspace):
    rows = [txn(f"t{i}", "hub", f"r{i}", 500, 24 * i) for i in range(5)]
    assert [r["entity_id"] for r in hits(workspace, "fan_out", {"transactions": rows})] == ["hub"]
    assert hits(workspace, "fan_out", {"transactions": rows[:4]}) == []


def test_scatter_gather(workspace):
    rows = []
    for i in range(3):
        rows.append(txn(f"a{i}", "S", f"m{i}", 1000, i))
        rows.append(txn(f"b{i}", f"m{i}", "D", 950, 48 + i))
    got = hits(workspace, "scatter_gather", {"transactions": rows})
    assert [r["entity_id"] for r in got] == ["S"]
    assert len(got[0]["evidence_txn_ids"].split(";")) == 6
    # near miss: the mules forward after the window
    late = [r if r["txn_id"].startswith("a") else {**r, "ts": r["ts"].replace(year=2021)} for r in rows]
    assert hits(workspace, "scatter_gather", {"transactions": late}) == []


def test_gather_scatter(workspace):
    rows = [txn(f"i{i}", f"p{i}", "H", 1000, i) for i in range(3)]
    rows += [txn(f"o{i}", "H", f"q{i}", 900, 24 + i) for i in range(3)]
    assert [r["entity_id"] for r in hits(workspace, "gather_scatter", {"transactions": rows})] == ["H"]
    assert hits(workspace, "gather_scatter", {"transactions": rows[:5]}) == []


def test_cycle_time_ordered_with_fee(workspace):
    rows = [txn("c1", "A", "B", 10000, 0), txn("c2", "B", "C", 9700, 5), txn("c3", "C", "A", 9500, 10)]
    got = hits(workspace, "cycle", {"transactions": rows})
    assert len(got) == 1 and got[0]["entity_id"] == "A"
    assert got[0]["evidence_txn_ids"] == "c1;c2;c3"
    # near miss: the closing transfer happens before the first one (not time-ordered)
    back = [*rows[:2], txn("c3", "C", "A", 9500, -10)]
    assert hits(workspace, "cycle", {"transactions": back}) == []
    # near miss: a hop keeps 50% (beyond the 10% fee)
    greedy = [rows[0], txn("c2", "B", "C", 5000, 5), rows[2]]
    assert hits(workspace, "cycle", {"transactions": greedy}) == []


def test_layering_chain(workspace):
    rows = [
        txn("l1", "A", "B", 50000, 0),
        txn("l2", "B", "C", 48500, 20),
        txn("l3", "C", "D", 47000, 40),
        txn("l4", "D", "E", 46000, 60),
    ]
    got = hits(workspace, "layering_chain", {"transactions": rows})
    assert [r["entity_id"] for r in got] == ["A"]  # only the maximal chain
    assert got[0]["evidence_txn_ids"] == "l1;l2;l3;l4"
    slow = [rows[0], rows[1], txn("l3", "C", "D", 47000, 20 + 24 * 10)]
    assert hits(workspace, "layering_chain", {"transactions": slow}) == []


def test_bipartite_layers(workspace):
    rows = [txn(f"t{s}{d}", f"s{s}", f"d{d}", 800, s + d) for s in range(3) for d in range(3)]
    got = hits(workspace, "bipartite_layers", {"transactions": rows})
    assert sorted(r["entity_id"] for r in got) == ["s0", "s1", "s2"]
    sparse = [r for r in rows if not (r["src_account_id"] == "s0" and r["dst_account_id"] != "d0")]
    assert "s0" not in {r["entity_id"] for r in hits(workspace, "bipartite_layers", {"transactions": sparse})}


def test_cash_structuring_24_hour_rule(workspace):
    accts = [account("cash", kind="other", is_external=True), account("acc", "p1")]
    rows = [txn("d1", "cash", "acc", 9000, 0, "cash"), txn("d2", "cash", "acc", 9500, 20, "cash")]
    got = hits(workspace, "cash_structuring", {"transactions": rows, "accounts": accts})
    assert [r["entity_id"] for r in got] == ["acc"]
    spread = [rows[0], txn("d2", "cash", "acc", 9500, 30, "cash")]
    assert hits(workspace, "cash_structuring", {"transactions": spread, "accounts": accts}) == []


def test_eft_structuring(workspace):
    rows = [
        txn("w1", "a", "x", 6000, 0, "wire", country_src="CA", country_dst="HK"),
        txn("w2", "a", "y", 6000, 5, "wire", country_src="CA", country_dst="HK"),
    ]
    assert [r["entity_id"] for r in hits(workspace, "eft_structuring", {"transactions": rows})] == ["a"]
    domestic = [{**r, "country_dst": "CA"} for r in rows]
    assert hits(workspace, "eft_structuring", {"transactions": domestic}) == []


def test_mirror_swap_matches_value_less_fee_and_time(workspace):
    accts = [
        account("cash", "banker", kind="other"),
        account("client", "c1"),
        account("cn1", "c1"),
        account("cn2", "b2"),
    ]
    cash = txn("h1", "cash", "client", 100000, 0, "cash", country_src="CA", country_dst="CA")
    cny = txn("y1", "cn1", "cn2", 95000, 30, "wire", currency="CNY", country_src="CN", country_dst="CN")
    got = hits(workspace, "mirror_swap", {"transactions": [cash, cny], "accounts": accts})
    assert [r["entity_id"] for r in got] == ["h1"] and got[0]["evidence_txn_ids"] == "h1;y1"
    assert '"same_party":1.0' in got[0]["metrics"]
    no_fee = {**cny, "amount_cad": 100500.0}
    assert hits(workspace, "mirror_swap", {"transactions": [cash, no_fee], "accounts": accts}) == []
    too_late = {**cny, "ts": cny["ts"].replace(year=2021)}
    assert hits(workspace, "mirror_swap", {"transactions": [cash, too_late], "accounts": accts}) == []
