"""The workbench's reader: cached answers follow the workspace; the legs index and the lookups agree
with the tables they come from; large networks are aggregated without losing money."""

from __future__ import annotations

import threading

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from moneytrail.investigate.web import flow, leads, network, profile
from moneytrail.investigate.web import reader as reader_mod
from moneytrail.investigate.web.reader import Reader
from tests.utils.web_fixtures import make_web_workspace


@pytest.fixture
def ws(workspace):
    return make_web_workspace(workspace, legit_parties=120, legit_txns=1500)


def test_reader_sees_rewritten_tables_and_drops_its_cache(workspace):
    ws = make_web_workspace(workspace, legit_parties=10, legit_txns=50)
    reader = Reader(ws).open()
    assert reader.cached(("n",), lambda: leads.list_leads(reader)["total"]) == 2
    ws.write("leads", ws.read("leads").slice(0, 1))
    reader._version_checked = 0.0  # skip the five-second wait between looks
    assert leads.list_leads(reader)["total"] == 1
    assert reader.cached(("n",), lambda: leads.list_leads(reader)["total"]) == 1
    assert leads.get_lead(reader, "L0002") is None
    assert reader.wait_for_legs(60)
    legs = list((ws.root / ".cache").glob("workbench_legs-*"))
    assert len(legs) == 1
    reader.close()


def _pages(reader: Reader) -> dict:
    lead = leads.get_lead(reader, "L0001")
    return {
        "profiles": {p: profile.get_profile(reader, p) for p in ("P001", "P003", "P012", "P020", "P105")},
        "network": network.build_network(reader, lead["account_ids"]),
        "small network": network.build_network(reader, lead["account_ids"], max_nodes=10),
        "neighbours": network.build_network(reader, ["A101"], max_nodes=5, focus="A101"),
        "flow": flow.build_flow(reader, lead["account_ids"], lead["party_ids"], label="L0001"),
        "legs": reader.legs_of(["A003", "A101"]).sort_by(
            [("txn_id", "ascending"), ("direction", "ascending")]
        ),
    }


def test_pages_answer_the_same_before_and_after_the_legs_index(ws, monkeypatch):
    # Hold the index build so the reader answers from the Parquet file first.
    release = threading.Event()
    build = reader_mod.LegsIndex.build

    def held(*args, **kwargs):
        release.wait(60)
        return build(*args, **kwargs)

    monkeypatch.setattr(reader_mod.LegsIndex, "build", staticmethod(held))
    reader = Reader(ws).open()
    assert not reader.legs_ready  # the server does not wait for the index
    before = _pages(reader)
    release.set()
    assert reader.wait_for_legs(60)
    after = _pages(reader)
    assert before["legs"].num_rows == after["legs"].num_rows > 0
    assert before["legs"].to_pylist() == after["legs"].to_pylist()
    for key in ("profiles", "network", "small network", "neighbours", "flow"):
        assert before[key] == after[key], key
    assert after["profiles"]["P003"]["evidence"] and after["profiles"]["P003"]["timeline"]
    reader.close()


def test_the_index_is_reused_when_the_server_starts_again(ws):
    first = Reader(ws).open()
    assert first.wait_for_legs(60)
    first.close()
    second = Reader(ws).open()
    assert second.legs_ready  # opened from the cache folder, nothing rebuilt
    assert second.legs_of(["A001"]).num_rows == first.legs_of(["A001"]).num_rows > 0
    second.close()


def test_a_large_network_is_aggregated_under_the_cap_without_losing_money(ws):
    reader = Reader(ws).open()
    assert reader.wait_for_legs(60)
    members = [f"A{100 + i:03d}" for i in range(60)]
    net = network.build_network(reader, members, max_nodes=20)
    accounts = [n for n in net["nodes"] if not n["id"].startswith("group:")]
    groups = [n for n in net["nodes"] if n["id"].startswith("group:")]
    assert len(accounts) == 20 and net["aggregated"]
    # 60 members do not fit: three quarters of the budget go to the members with the most money.
    assert sum(n["member"] for n in accounts) == 15
    assert any(g["member"] and g["id"] == "group:lead:bank" for g in groups)
    # Every transaction touching a member is drawn exactly once, on some edge.
    txns = ws.read("transactions")
    touching = pc.or_(
        pc.is_in(txns["src_account_id"], value_set=pa.array(members)),
        pc.is_in(txns["dst_account_id"], value_set=pa.array(members)),
    )
    expected = txns.filter(touching)
    assert sum(e["count"] for e in net["edges"]) == expected.num_rows
    assert sum(e["amount_cad"] for e in net["edges"]) == pytest.approx(pc.sum(expected["amount_cad"]).as_py())
    # The kept members are the ones with the most money through them.
    money: dict[str, float] = {}
    for t in expected.to_pylist():
        for side in ("src_account_id", "dst_account_id"):
            money[t[side]] = money.get(t[side], 0.0) + t["amount_cad"]
    top = sorted((m for m in members if m in money), key=lambda m: (-money[m], m))[:15]
    assert {n["id"] for n in accounts if n["member"]} == set(top)
    assert net["hidden_nodes"] == sum(g["group_size"] for g in groups)
    reader.close()


def test_lookups_return_the_rows_a_query_returns(ws):
    reader = Reader(ws).open()
    for table, column, keys in (
        ("accounts", "holder_party_id", ["P012", "P001", "NOPE"]),
        ("detector_hits", "entity_id", ["A003", "P001"]),
        ("parties", "party_id", ["P022"]),
    ):
        got = sorted(reader.lookup(table, column, keys), key=str)
        ids = ", ".join(f"'{k}'" for k in keys)
        want = sorted(reader.rows(f"SELECT * FROM {table} WHERE {column} IN ({ids})"), key=str)
        assert got == want and got
    assert reader.lookup("parties", "no_such_column", ["P001"]) == []
    reader.close()


def test_networks_of_leads_with_hub_accounts_are_drawn_at_start(ws, monkeypatch):
    import json

    from moneytrail.investigate.web.api.models import NetworkOut
    from moneytrail.investigate.web.api.routes import leads as lead_routes

    monkeypatch.setattr(lead_routes, "LARGE_NETWORK_LEGS", 100)  # L0001 has hundreds of legs, L0002 30
    reader = Reader(ws).open()
    assert reader.wait_for_legs(60)
    assert lead_routes.pin_large_networks(reader) == 1
    body = reader.cached(("network", "L0001", network.MAX_NODES), lambda: pytest.fail("not drawn at start"))
    fresh = network.build_network(reader, leads.get_lead(reader, "L0001")["account_ids"])
    assert json.loads(body) == NetworkOut.model_validate(fresh).model_dump(mode="json")
    assert reader.cached(("network", "L0002", network.MAX_NODES), lambda: None) is None
    reader.close()
