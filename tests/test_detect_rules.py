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
    empty = {"transactions": [], "accounts": []}
    rows = [
        transfer("a", price=1_000_000.0),
        transfer("b", price=1_400_000.0, ts=T0 + dt.timedelta(days=100)),
    ]
    got = hits(workspace, "rapid_resale", {"property_transfers": rows, **empty})
    assert [r["entity_id"] for r in got] == ["h1"]
    slow = [rows[0], transfer("b", price=1_400_000.0, ts=T0 + dt.timedelta(days=900))]
    assert hits(workspace, "rapid_resale", {"property_transfers": slow, **empty}) == []


def test_property_hits_list_the_payments_through_the_trust_account(workspace):
    """Land-title and bank records name the buyer differently: the purchase money is found in and
    out of a lawyer's trust account by the price and the date; other payments are not evidence."""
    resale = T0 + dt.timedelta(days=100)
    hours = 100 * 24
    rows = [transfer("a", price=1_000_000.0), transfer("b", price=1_400_000.0, ts=resale)]
    tables = {
        "property_transfers": rows,
        "accounts": [
            account("buyer"),
            account("trust", kind="lawyer_trust"),
            account("seller"),
            account("x"),
        ],
        "transactions": [
            txn("in", "buyer", "trust", 1_400_000.0, hours - 24, channel="wire"),
            txn("out", "trust", "seller", 1_400_000.0, hours, channel="wire"),
            txn("same_amount_no_trust", "buyer", "x", 1_400_000.0, hours - 2, channel="wire"),
            txn("trust_other_amount", "buyer", "trust", 1_399_000.0, hours - 2, channel="wire"),
            txn("trust_too_early", "buyer", "trust", 1_400_000.0, hours - 24 * 10, channel="wire"),
        ],
    }
    got = hits(workspace, "rapid_resale", tables)
    assert [r["evidence_txn_ids"] for r in got] == ["in;out"]


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


def test_msb_hopping_lists_each_burst_with_the_businesses_onward_transfers(workspace):
    """Payments to three businesses within hours, each business wiring the same amount on in yuan:
    the wires are evidence; a burst a month later is a hit of its own; a different amount is not."""
    accts = [account("mule", holder="m", institution="Bank")]
    accts += [account(f"msb{i}", holder=f"b{i}", kind="msb", institution=f"MSB {i}") for i in range(3)]
    accts.append(account("cn", holder="boss", institution="Bank of China"))
    rows = []
    for burst, start in enumerate((0, 24 * 30)):
        for i in range(3):
            rows.append(txn(f"p{burst}{i}", "mule", f"msb{i}", 900.0, start + i, channel="etransfer"))
            rows.append(txn(f"w{burst}{i}", f"msb{i}", "cn", 900.4, start + 20 + i, channel="wire"))
    rows.append(txn("other", "msb0", "cn", 5000.0, 21, channel="wire"))
    got = hits(workspace, "msb_hopping", {"transactions": rows, "accounts": accts})
    assert [r["entity_id"] for r in got] == ["m", "m"]
    assert sorted(r["evidence_txn_ids"] for r in got) == [
        "p00;p01;p02;w00;w01;w02",
        "p10;p11;p12;w10;w11;w12",
    ]


def test_chemical_counterparty_follows_money_routed_through_hong_kong(workspace):
    """Canada to Hong Kong and on to China for the same amount within hours is one routed hit with
    both legs; a chemical vendor is a hit as a party; an onward payment of another amount is not."""
    tables = {
        "parties": [party("shell", kind="company", name="Maple Import"), party("front", kind="company", name="HK Trade"),
                    party("chem", kind="company", name="Hubei Sunrise Chemical Co"), party("cn", name="Li Wei")],
        "accounts": [account("a_shell", holder="shell", country="CA"), account("a_hk", holder="front", country="HK"),
                     account("a_chem", holder="chem", country="CN"), account("a_cn", holder="cn", country="CN")],
        "transactions": [
            txn("leg1", "a_shell", "a_hk", 20000.0, 0, channel="wire"),
            txn("leg2", "a_hk", "a_cn", 20100.0, 10, channel="wire"),
            txn("leg3", "a_hk", "a_chem", 3000.0, 12, channel="wire"),
        ],
    }  # fmt: skip
    got = {
        (r["entity_kind"], r["entity_id"]): r["evidence_txn_ids"]
        for r in hits(workspace, "chemical_counterparty", tables)
    }
    assert got == {
        ("transaction", "leg1"): "leg1;leg2",
        ("transaction", "leg3"): "leg3",
        ("party", "chem"): "leg3",
    }


def test_card_paydown_counts_purchases_after_each_deposit(workspace):
    """Each cash deposit followed within the window by phone purchases of at least half of it
    counts; the account's unrelated cash (not followed by purchases) does not dilute it."""
    rows = [txn("big_cash", "payer", "m", 50000.0, 0, channel="cash", memo="deposit")]
    for k in range(4):
        rows.append(txn(f"c{k}", "stash", "m", 3000.0, 24 * 40 * (k + 1), channel="cash", memo="deposit"))
        rows.append(txn(f"b{k}", "m", "shop", 2900.0, 24 * 40 * (k + 1) + 5, memo="phones bulk purchase"))
    got = hits(workspace, "card_paydown_bulk_purchase", {"transactions": rows})
    assert [r["entity_id"] for r in got] == ["m"]
    assert got[0]["evidence_txn_ids"] == "b0;b1;b2;b3;c0;c1;c2;c3"
    fewer = [r for r in rows if r["txn_id"] not in ("c3", "b3", "c2", "b2")]
    assert hits(workspace, "card_paydown_bulk_purchase", {"transactions": fewer}) == []


def test_foreign_vip_cash_adds_the_repayment_abroad_of_the_same_person(workspace):
    """The casino's patron record and the bank's customer are one person only through entity
    resolution: with it, the player's yuan transfers after the session are evidence; without it
    (or too late) they are not."""
    tables = {
        "casino_sessions": [session("s1", party_id="vip_casino", buy_in_cad=200000.0, buy_in_form="cash")],
        "parties": [party("vip_casino", country="CN"), party("vip_bank", country="CN")],
        "accounts": [account("vip_cny", holder="vip_bank", country="CN"), account("payout", country="CN")],
        "transactions": [
            txn("repay1", "vip_cny", "payout", 120000.0, 30, channel="wire"),
            txn("repay2", "vip_cny", "payout", 80000.0, 31, channel="wire"),
            txn("late", "vip_cny", "payout", 5000.0, 24 * 30, channel="wire"),
        ],
    }
    assert [r["evidence_txn_ids"] for r in hits(workspace, "casino_foreign_vip_cash", tables)] == [None]
    tables["resolved_entities"] = [
        {"party_id": p, "entity_id": "vip_bank", "entity_size": 2} for p in ("vip_casino", "vip_bank")
    ]
    got = hits(workspace, "casino_foreign_vip_cash", tables)
    assert [r["evidence_txn_ids"] for r in got] == ["repay1;repay2"]


def _tuition_world(cash_hours_before: float, cash_amount: float) -> dict:
    """A student receives a yuan 'tuition' wire from China and pays it on; cash was handed over in
    Canada ``cash_hours_before`` the wire, between two accounts the student never touches."""
    return {
        "parties": [party("kid", occupation="student"), party("boss"), party("banker")],
        "accounts": [
            account("stu", "kid"),
            account("stash", "boss", "other"),
            account("agent", "banker", "other"),
        ],
        "transactions": [
            txn(
                "cash",
                "stash",
                "agent",
                cash_amount,
                100 - cash_hours_before,
                "cash",
                country_src="CA",
                country_dst="CA",
            ),
            txn("wire", "cn", "stu", 200000, 100, "wire", country_src="CN", country_dst="CA", memo="tuition"),
            txn("out1", "stu", "x1", 100000, 150),
            txn("out2", "stu", "x2", 90000, 160),
        ],
    }


def test_low_income_high_volume_evidence_adds_the_cash_that_paid_for_a_wire(workspace):
    got = hits(workspace, "low_income_high_volume", _tuition_world(40, 210000))
    assert [r["entity_id"] for r in got] == ["stu"]
    assert got[0]["evidence_txn_ids"] == "cash;out1;out2;wire"


def test_low_income_high_volume_evidence_leaves_out_cash_too_early_or_too_small(workspace):
    # handed over four days before the wire, or smaller than the wire: no swap paid for it
    for hours, amount in [(96, 210000), (40, 190000)]:
        got = hits(workspace, "low_income_high_volume", _tuition_world(hours, amount))
        assert [r["evidence_txn_ids"] for r in got] == ["out1;out2;wire"]
