"""Graph-motif and transaction detectors fire on a small positive and not on a near miss."""

from __future__ import annotations

import pytest

from moneytrail.detect.catalog import load_catalog
from moneytrail.detect.runner import detector_rows, register_resolved_parties
from moneytrail.engine import make_engine
from tests.utils.detect_worlds import account, txn, write_tables

pytestmark = pytest.mark.duckdb


def hits(ws, det_id: str, tables: dict, **params) -> list[dict]:
    """Write ``tables`` to ``ws`` and return the rows of one detector."""
    write_tables(ws, tables)
    with make_engine("duckdb", ws) as eng:
        register_resolved_parties(eng)
        return detector_rows(eng, load_catalog()[det_id], params or None).to_pylist()


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
    # one hit on the scattering source and one on the gathering sink, with the same evidence
    assert sorted(r["entity_id"] for r in got) == ["D", "S"]
    assert [len(r["evidence_txn_ids"].split(";")) for r in got] == [6, 6]
    # near miss: the mules forward after the window
    late = [r if r["txn_id"].startswith("a") else {**r, "ts": r["ts"].replace(year=2021)} for r in rows]
    assert hits(workspace, "scatter_gather", {"transactions": late}) == []


def _standing_mules(receipt_days: list[int], forward_days: list[int]) -> list[dict]:
    """Source S pays three mules on ``receipt_days``; each mule pays sink D on ``forward_days``."""
    rows = []
    for i in range(3):
        rows += [txn(f"a{i}-{d:03d}", "S", f"m{i}", 1000, 24 * d + i) for d in receipt_days]
        rows += [txn(f"b{i}-{d:03d}", f"m{i}", "D", 950, 24 * d + i + 1) for d in forward_days]
    return rows


def test_scatter_gather_standing_mules_forward_long_after_first_receipt(workspace):
    # paid daily for 60 days, forwarding from day 45: the first forward is 45 days after the first
    # receipt but within a day of the latest one
    rows = _standing_mules(list(range(60)), [45, 50])
    got = hits(workspace, "scatter_gather", {"transactions": rows}, window_days=30)
    assert sorted(r["entity_id"] for r in got) == ["D", "S"]
    assert '"intermediaries":3.0' in got[0]["metrics"]


def test_scatter_gather_near_miss_no_receipt_within_window_before_a_forward(workspace):
    # the relations overlap in time (a receipt on day 100 follows the forwards), but every forward
    # comes 40 days or more after the latest receipt before it
    rows = _standing_mules([0, 5, 100], [45, 50])
    assert hits(workspace, "scatter_gather", {"transactions": rows}, window_days=30) == []


def test_scatter_gather_counts_only_mules_whose_forward_follows_a_recent_receipt(workspace):
    # two mules forward within the window of a receipt; the third's last receipt before its first
    # forward is 40 days old: two intermediaries, below the three needed
    rows = _standing_mules([0, 44], [45])
    rows = [r for r in rows if r["txn_id"] != "a2-044"]
    assert hits(workspace, "scatter_gather", {"transactions": rows}, window_days=30) == []
    assert (
        len(hits(workspace, "scatter_gather", {"transactions": rows}, window_days=30, min_intermediaries=2))
        == 2
    )


def test_scatter_gather_evidence_leads_with_the_shape_of_a_busy_source(workspace):
    # 40 receipts per mule fill the evidence cap; each mule's one forward and the receipt just
    # before it must still be in the evidence
    rows = _standing_mules(list(range(40)), [39])
    got = hits(workspace, "scatter_gather", {"transactions": rows}, window_days=30)
    assert len(got) == 2
    for hit in got:
        ids = set(hit["evidence_txn_ids"].split(";"))
        assert len(ids) == 50
        assert {"b0-039", "b1-039", "b2-039", "a0-039", "a1-039", "a2-039"} <= ids


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
    # near miss: no account's transfers go round in time order (each hop precedes the one before it)
    back = [rows[0], txn("c2", "B", "C", 9700, 10), txn("c3", "C", "A", 9500, 5)]
    assert hits(workspace, "cycle", {"transactions": back}) == []
    # near miss for the amount-keeping search: a hop keeps 50% (beyond the 10% fee)
    greedy = [rows[0], txn("c2", "B", "C", 5000, 5), rows[2]]
    assert hits(workspace, "cycle", {"transactions": greedy}, fresh_max_txns=0) == []


def _amlsim_like_cycle() -> list[dict]:
    """A round trip as AMLSim draws it: one transfer a day or two apart, each amount drawn afresh,
    the first hop over a relation the origin uses every week."""
    regular = [txn(f"r{i}", "O", "M1", 300, -24 * 7 * i) for i in range(1, 6)]
    hops = [("O", "M1", 640), ("M1", "M2", 120), ("M2", "M3", 910), ("M3", "M4", 455), ("M4", "O", 730)]
    ring = [txn(f"h{i}", a, b, amt, 30 * i) for i, (a, b, amt) in enumerate(hops)]
    return regular + ring


def test_cycle_over_fresh_relations_whatever_the_amounts(workspace):
    got = hits(workspace, "cycle", {"transactions": _amlsim_like_cycle()})
    assert [(r["entity_id"], r["evidence_txn_ids"]) for r in got] == [("O", "h0;h1;h2;h3;h4")]


def test_cycle_fresh_search_near_misses(workspace):
    rows = _amlsim_like_cycle()
    # an inner hop over a regular relation as well as the first one: not a fresh cycle
    busy_inner = rows + [txn(f"x{i}", "M2", "M3", 50, -24 * 7 * i) for i in range(1, 6)]
    assert hits(workspace, "cycle", {"transactions": busy_inner}) == []
    # a busy intermediary (a shop paid by many customers) is no layering account
    shop = rows + [txn(f"c{i}", f"cust{i}", "M2", 20, -24 - i) for i in range(60)]
    assert hits(workspace, "cycle", {"transactions": shop}) == []
    # the fresh search switched off, the hops do not keep the amount
    assert hits(workspace, "cycle", {"transactions": rows}, fresh_max_txns=0) == []


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


def test_bipartite_layer_used_round_after_round(workspace):
    """Three mules pay the same two students every week: a layer however many payments it carried."""
    rows = [
        txn(f"t{r}{s}{d}", f"m{s}", f"st{d}", 900, 24 * 7 * r + s + d)
        for r in range(5)
        for s in range(3)
        for d in range(2)
    ]
    got = hits(workspace, "bipartite_layers", {"transactions": rows})
    assert sorted(r["entity_id"] for r in got) == ["m0", "m1", "m2"]
    # the same pattern into two shops that many customers pay is no layer
    shoppers = [txn(f"c{i}{d}", f"cust{i}", f"st{d}", 30, 24 * i) for i in range(12) for d in range(2)]
    assert hits(workspace, "bipartite_layers", {"transactions": rows + shoppers}) == []


def test_cash_structuring_24_hour_rule(workspace):
    accts = [account("cash", kind="other", is_external=True), account("acc", "p1")]
    rows = [txn("d1", "cash", "acc", 9000, 0, "cash"), txn("d2", "cash", "acc", 9500, 20, "cash")]
    got = hits(workspace, "cash_structuring", {"transactions": rows, "accounts": accts})
    assert [r["entity_id"] for r in got] == ["acc"]
    spread = [rows[0], txn("d2", "cash", "acc", 9500, 30, "cash")]
    assert hits(workspace, "cash_structuring", {"transactions": spread, "accounts": accts}) == []


def test_cash_structuring_piece_kept_under_and_topped_up(workspace):
    accts = [account("cash", kind="other", is_external=True), account("acc", "p1")]
    topped = [txn("d1", "cash", "acc", 9400, 0, "cash"), txn("d2", "cash", "acc", 1200, 3, "cash")]
    got = hits(workspace, "cash_structuring", {"transactions": topped, "accounts": accts})
    assert [(r["entity_id"], r["evidence_txn_ids"]) for r in got] == [("acc", "d1;d2")]
    # no piece close to the threshold: two ordinary deposits that happen to add up
    even = [txn("d1", "cash", "acc", 4000, 0, "cash"), txn("d2", "cash", "acc", 6500, 3, "cash")]
    assert hits(workspace, "cash_structuring", {"transactions": even, "accounts": accts}) == []


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
