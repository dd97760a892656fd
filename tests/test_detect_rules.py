"""Record-level detectors (casino, real estate, supply side, identifiers): positive and near miss."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.test_detect_motifs import hits
from tests.utils.detect_worlds import T0, account, party, txn

pytestmark = pytest.mark.duckdb


def session(i: str, **kw) -> dict:
    row = {
        "session_id": i,
        "party_id": "pl",
        "casino": "River",
        "start_ts": T0,
        "source": "test",
        "source_id": i,
    }
    row.update(kw)
    return row


def transfer(i: str, **kw) -> dict:
    row = {
        "transfer_id": i,
        "property_id": "h1",
        "ts": T0,
        "price": 1_500_000.0,
        "source": "test",
        "source_id": i,
    }
    row.update(kw)
    return row


def shipment(i: str, **kw) -> dict:
    row = {"shipment_id": i, "ts": T0, "mode": "mail", "source": "test", "source_id": i}
    row.update(kw)
    return row


@pytest.mark.parametrize(
    ("det_id", "positive", "near_miss"),
    [
        (
            "casino_small_bill_buy_in",
            {"buy_in_cad": 50000.0, "share_small_bills": 0.9},
            {"buy_in_cad": 50000.0, "share_small_bills": 0.2},
        ),
        ("casino_cash_delivery", {"delivered_by_party_id": "runner"}, {"delivered_by_party_id": "pl"}),
        (
            "casino_minimal_play",
            {"buy_in_cad": 20000.0, "wagered_cad": 1000.0, "cash_out_cad": 19000.0},
            {"buy_in_cad": 20000.0, "wagered_cad": 60000.0, "cash_out_cad": 19000.0},
        ),
        (
            "casino_refining",
            {"share_small_bills": 0.8, "cash_out_form": "cheque", "cash_out_cad": 30000.0},
            {"share_small_bills": 0.8, "cash_out_form": "cash_small", "cash_out_cad": 30000.0},
        ),
        ("casino_third_party_cheque", {"cheque_payee_party_id": "other"}, {"cheque_payee_party_id": "pl"}),
    ],
)
def test_session_rules(workspace, det_id, positive, near_miss):
    empty = {"transactions": [], "accounts": []}
    got = hits(workspace, det_id, {"casino_sessions": [session("s1", **positive)], **empty})
    assert [(r["entity_kind"], r["entity_id"]) for r in got] == [("session", "s1")]
    assert hits(workspace, det_id, {"casino_sessions": [session("s1", **near_miss)], **empty}) == []


def test_session_hits_carry_the_sessions_money_as_evidence(workspace):
    """The cage and the bank name the player differently: the buy-in and the pay-out are found at
    the casino's account by amount and time, and a same-amount payment hours later is not."""
    end = T0 + dt.timedelta(hours=2)
    s1 = session("s1", end_ts=end, buy_in_cad=20000.0, wagered_cad=1000.0, cash_out_cad=19000.0)
    accts = [account("cage", "casino", kind="casino"), account("patron", "p-bank"), account("other", "o")]
    txns = [
        txn("in", "patron", "cage", 20000, 0, "casino_buy_in"),
        txn("out", "cage", "other", 19000, 2, "cheque"),
        txn("later", "cage", "other", 19000, 9, "cheque"),
        txn("unrelated", "patron", "other", 20000, 0, "eft"),
    ]
    got = hits(
        workspace, "casino_minimal_play", {"casino_sessions": [s1], "transactions": txns, "accounts": accts}
    )
    assert [r["evidence_txn_ids"] for r in got] == ["in;out"]


def test_split_buy_ins_under_threshold(workspace):
    two = [
        session("a", buy_in_cad=9000.0),
        session("b", buy_in_cad=9000.0, start_ts=T0 + dt.timedelta(hours=3)),
    ]
    accts = [account("cage", "casino", kind="casino"), account("patron", "p-bank")]
    txns = [
        txn("ba", "patron", "cage", 9000, 0, "casino_buy_in"),
        txn("bb", "patron", "cage", 9000, 3, "casino_buy_in"),
    ]
    tables = {"casino_sessions": two, "transactions": txns, "accounts": accts}
    got = hits(workspace, "casino_split_buy_in", tables)
    assert [(r["entity_id"], r["evidence_txn_ids"]) for r in got] == [("pl", "ba;bb")]
    apart = [two[0], session("b", buy_in_cad=9000.0, start_ts=T0 + dt.timedelta(days=45))]
    assert hits(workspace, "casino_split_buy_in", {**tables, "casino_sessions": apart}) == []


def test_private_lender_and_cluster(workspace):
    rows = [
        transfer(
            f"t{i}", property_id=f"h{i}", buyer_party_id=f"b{i}", lender_party_id="L", lender_kind="private"
        )
        for i in range(3)
    ]
    assert [r["entity_id"] for r in hits(workspace, "private_lender", {"property_transfers": rows})] == ["L"]
    owners = hits(workspace, "lender_property_cluster", {"property_transfers": rows})
    assert sorted(r["entity_id"] for r in owners) == ["b0", "b1", "b2"]
    banked = [{**r, "lender_kind": "bank"} for r in rows]
    assert hits(workspace, "private_lender", {"property_transfers": banked}) == []


def test_luxury_vehicle_paid_by_draft_names_the_payment(workspace):
    car = {"property_id": "car", "kind": "vehicle", "source": "test", "source_id": "car"}
    sale = transfer("v", property_id="car", price=60000.0, cash_amount=60000.0, seller_party_id="dealer")
    accts = [account("buyer-acct", "b-bank"), account("dealer-acct", "dealer")]
    pay = txn("pay", "buyer-acct", "dealer-acct", 60000, 0, "bank_draft")
    other = txn("other", "buyer-acct", "dealer-acct", 60000, 24 * 30, "bank_draft")
    tables = {
        "property_transfers": [sale],
        "properties": [car],
        "transactions": [pay, other],
        "accounts": accts,
    }
    got = hits(workspace, "cash_luxury_vehicle", tables)
    assert [(r["entity_id"], r["evidence_txn_ids"]) for r in got] == [("car", "pay")]
    financed = {**sale, "cash_amount": 5000.0}
    assert hits(workspace, "cash_luxury_vehicle", {**tables, "property_transfers": [financed]}) == []


def test_rapid_resale(workspace):
    rows = [
        transfer("a", price=1_000_000.0),
        transfer("b", price=1_400_000.0, ts=T0 + dt.timedelta(days=100)),
    ]
    assert [r["entity_id"] for r in hits(workspace, "rapid_resale", {"property_transfers": rows})] == ["h1"]
    slow = [rows[0], transfer("b", price=1_400_000.0, ts=T0 + dt.timedelta(days=900))]
    assert hits(workspace, "rapid_resale", {"property_transfers": slow}) == []


def test_low_income_owner(workspace):
    tables = {
        "property_transfers": [transfer("a", buyer_party_id="kid")],
        "parties": [party("kid", occupation="student")],
    }
    assert [r["entity_id"] for r in hits(workspace, "low_income_owner", tables)] == ["kid"]
    tables["parties"] = [party("kid", occupation="surgeon", declared_income=400000.0)]
    assert hits(workspace, "low_income_owner", tables) == []


def test_shipment_rules(workspace):
    parcel = shipment("p", origin_country="CN", weight_kg=0.8, description="Protein supplement")
    assert [r["entity_id"] for r in hits(workspace, "small_parcel_cover", {"shipments": [parcel]})] == ["p"]
    heavy = {**parcel, "weight_kg": 300.0}
    assert hits(workspace, "small_parcel_cover", {"shipments": [heavy]}) == []
    press = shipment("m", origin_country="CN", description="TDP-5 tablet press", mode="courier")
    assert [r["entity_id"] for r in hits(workspace, "pill_press_import", {"shipments": [press]})] == ["m"]
    assert hits(workspace, "pill_press_import", {"shipments": [{**press, "description": "desk lamp"}]}) == []


def test_shared_identifiers(workspace):
    people = [
        party(f"p{i}", name=f"Ann {s}", phone="604-555-0199") for i, s in enumerate(["Li", "Wong", "Chan"])
    ]
    got = hits(workspace, "shared_identifiers", {"parties": people})
    assert sorted(r["entity_id"] for r in got) == ["p0", "p1", "p2"]
    family = [party(f"p{i}", name="Ann Li", phone="604-555-0199") for i in range(3)]
    assert hits(workspace, "shared_identifiers", {"parties": family}) == []
