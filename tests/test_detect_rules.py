"""Record-level detectors (casino, real estate, supply side, identifiers): positive and near miss."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.test_detect_motifs import hits
from tests.utils.detect_worlds import T0, party

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
    got = hits(workspace, det_id, {"casino_sessions": [session("s1", **positive)]})
    assert [(r["entity_kind"], r["entity_id"]) for r in got] == [("session", "s1")]
    assert hits(workspace, det_id, {"casino_sessions": [session("s1", **near_miss)]}) == []


def test_split_buy_ins_under_threshold(workspace):
    two = [
        session("a", buy_in_cad=9000.0),
        session("b", buy_in_cad=9000.0, start_ts=T0 + dt.timedelta(hours=3)),
    ]
    assert [r["entity_id"] for r in hits(workspace, "casino_split_buy_in", {"casino_sessions": two})] == [
        "pl"
    ]
    apart = [two[0], session("b", buy_in_cad=9000.0, start_ts=T0 + dt.timedelta(days=45))]
    assert hits(workspace, "casino_split_buy_in", {"casino_sessions": apart}) == []


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
