"""A small workspace with one lead, for the report and FollowTheMoney tests.

The lead is a casino / underground-bank network: an underground banker (Li Wei, 李伟), a "student"
VIP gambler (Chen Xiaoming, 陈晓明) and a pass-through money services business. Everyone else
(a relative, a beneficiary in China, the casino, a house seller, a cash counter) is a counterparty,
a non-subject for redaction.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from moneytrail.schema import table
from moneytrail.workspace import Workspace

LEAD_ID = "L0001"
SUBJECT_PARTIES = ("P1", "P2", "P3")
SUBJECT_ACCOUNTS = ("A1", "A2", "A3")
# Names of parties who are not subjects: redaction must remove every one of them.
NON_SUBJECT_NAMES = (
    "Wong Mei Ling",
    "黄美玲",
    "Zhang San",
    "张三",
    "Riverside Casino Resort",
    "Margaret Thompson",
    "Harbour Cash Couriers",
)
EVIDENCE_TXNS = ("T01", "T02", "T03", "T04", "T05", "T06", "T07", "T08", "T09")
# The network export covers the lead's transactions: these parties appear in it.
NETWORK_PARTIES = ("P1", "P2", "P3", "P4", "P6", "P7", "P8")


def _ts(day: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime(2024, 3, day, hour, minute)


def _table(name: str, rows: list[dict]) -> pa.Table:
    schema = table(name).arrow_schema()
    cols = {f.name: [r.get(f.name) for r in rows] for f in schema}
    return pa.table(cols, schema=schema)


PARTIES = [
    dict(
        party_id="P1",
        kind="person",
        name="Li Wei",
        name_native="李伟",
        birth_date=dt.date(1975, 4, 2),
        nationality="CN",
        occupation="consultant",
        declared_income=40000.0,
        address="8100 Westminster Hwy, Richmond BC",
        phone="+1 604 555 0101",
        email="liwei@example.com",
        document_number="E12345678",
        country="CA",
    ),
    dict(
        party_id="P2",
        kind="person",
        name="Chen Xiaoming",
        name_native="陈晓明",
        birth_date=dt.date(1998, 9, 17),
        nationality="CN",
        occupation="student",
        declared_income=0.0,
        address="6200 No. 3 Rd, Richmond BC",
        phone="+1 604 555 0102",
        email="xm.chen@example.com",
        document_number="E87654321",
        country="CA",
    ),
    dict(
        party_id="P3",
        kind="company",
        name="Golden Harbour Trading Ltd",
        address="4000 No. 3 Rd, Richmond BC",
        phone="+1 604 555 0103",
        country="CA",
        document_number="BC1234567",
    ),
    dict(
        party_id="P4",
        kind="person",
        name="Wong Mei Ling",
        name_native="黄美玲",
        birth_date=dt.date(1970, 1, 30),
        nationality="CA",
        occupation="homemaker",
        address="15 Garden Lane, Vancouver BC",
        phone="+1 604 555 0104",
        email="meiling.w@example.com",
        country="CA",
    ),
    dict(
        party_id="P5",
        kind="person",
        name="Margaret Thompson",
        address="22 Oak Street, Vancouver BC",
        country="CA",
        phone="+1 604 555 0105",
    ),
    dict(
        party_id="P6",
        kind="person",
        name="Zhang San",
        name_native="张三",
        nationality="CN",
        country="CN",
        address="88 Renmin Road, Guangzhou",
    ),
    dict(
        party_id="P7",
        kind="company",
        name="Riverside Casino Resort",
        country="CA",
        address="8811 River Rd, Richmond BC",
    ),
    dict(party_id="P8", kind="company", name="Harbour Cash Couriers", country="CA"),
]
for _p in PARTIES:
    _p.update(source="bank", source_id=f"CUST-{_p['party_id']}")

ACCOUNTS = [
    dict(
        account_id="A1",
        holder_party_id="P1",
        institution="Pacific Bank",
        institution_type="bank",
        currency="CAD",
    ),
    dict(
        account_id="A2",
        holder_party_id="P2",
        institution="Pacific Bank",
        institution_type="bank",
        currency="CAD",
    ),
    dict(
        account_id="A3",
        holder_party_id="P3",
        institution="Golden Harbour MSB",
        institution_type="msb",
        currency="CAD",
    ),
    dict(
        account_id="A4",
        holder_party_id="P4",
        institution="Maple Credit Union",
        institution_type="bank",
        currency="CAD",
    ),
    dict(
        account_id="A5",
        holder_party_id="P6",
        institution="Bank of Guangzhou",
        institution_type="bank",
        currency="CNY",
        country="CN",
    ),
    dict(
        account_id="A6",
        holder_party_id="P7",
        institution="Riverside Casino Resort",
        institution_type="casino",
        currency="CAD",
    ),
    dict(
        account_id="A7",
        holder_party_id="P8",
        institution="Harbour Cash Couriers",
        institution_type="other",
        currency="CAD",
    ),
    dict(
        account_id="A8",
        holder_party_id="P5",
        institution="Maple Credit Union",
        institution_type="bank",
        currency="CAD",
    ),
]
for _a in ACCOUNTS:
    _a.setdefault("country", "CA")
    _a.update(
        source="bank",
        source_id=f"ACC-{_a['account_id']}",
        opened_at=dt.datetime(2020, 1, 1),
        is_external=False,
    )


def _txn(txn_id, ts, src, dst, amount, channel, currency="CAD", denom=None, memo=None, country_dst="CA"):
    rate = {"CAD": 1.0, "CNY": 0.19}[currency]
    return dict(
        txn_id=txn_id,
        ts=ts,
        src_account_id=src,
        dst_account_id=dst,
        amount=amount,
        currency=currency,
        amount_cad=round(amount * rate, 2),
        channel=channel,
        cash_denomination=denom,
        country_src="CA",
        country_dst=country_dst,
        memo=memo,
        source="bank",
        source_id=f"TX-{txn_id}",
    )


TRANSACTIONS = [
    # Structured cash into the pass-through MSB (S1), three times in 24 hours.
    _txn("T01", _ts(1, 9), "A7", "A3", 9500.0, "cash", denom=20),
    _txn("T02", _ts(1, 15), "A7", "A3", 9400.0, "cash", denom=20),
    _txn("T03", _ts(1, 21), "A7", "A3", 9800.0, "cash", denom=20),
    # Out to China (U2).
    _txn(
        "T04",
        _ts(2, 10),
        "A3",
        "A5",
        150000.0,
        "wire",
        currency="CNY",
        country_dst="CN",
        memo="invoice 2024-17",
    ),
    # The banker hands cash to the gambler, who buys in with $20s and cashes out as a cheque (C1, C5).
    _txn("T05", _ts(3, 23, 30), "A1", "A2", 50000.0, "etransfer", memo="loan"),
    _txn("T06", _ts(4, 1), "A2", "A6", 48000.0, "casino_buy_in", denom=20),
    _txn("T07", _ts(4, 3), "A6", "A2", 46500.0, "casino_cash_out", memo="winnings cheque"),
    # The relative pays the MSB (a counterparty flow) and tuition-labelled money reaches the student (U4).
    _txn("T08", _ts(5, 11), "A4", "A3", 20000.0, "eft", memo="family support Wong Mei Ling"),
    _txn("T09", _ts(6, 14), "A3", "A2", 25000.0, "eft", memo="tuition"),
    # Ordinary activity outside the evidence.
    _txn("T10", _ts(10, 9), "A4", "A8", 120.0, "etransfer", memo="groceries"),
    _txn("T11", _ts(12, 9), "A8", "A4", 80.0, "etransfer"),
]

HITS = [
    dict(
        hit_id="H1",
        detector_id="cash_structuring_24h",
        indicator_ids="S1;C7",
        entity_kind="account",
        entity_id="A3",
        window_start=_ts(1, 0),
        window_end=_ts(2, 0),
        metrics='{"cash_count": 3, "cash_total_cad": 28700.0}',
        evidence_txn_ids="T01;T02;T03",
        severity=0.8,
    ),
    dict(
        hit_id="H2",
        detector_id="casino_refining",
        indicator_ids="C1;C5",
        entity_kind="account",
        entity_id="A2",
        window_start=_ts(4, 0),
        window_end=_ts(5, 0),
        metrics='{"small_bill_share": 1.0, "cash_out_cad": 46500.0}',
        evidence_txn_ids="T06;T07",
        severity=0.9,
    ),
    dict(
        hit_id="H3",
        detector_id="pass_through",
        indicator_ids="U2;G1",
        entity_kind="account",
        entity_id="A3",
        window_start=_ts(1, 0),
        window_end=_ts(7, 0),
        metrics='{"in_cad": 48700.0, "out_cad": 53500.0}',
        evidence_txn_ids="T01;T02;T03;T04;T08;T09",
        severity=0.7,
    ),
    dict(
        hit_id="H4",
        detector_id="student_high_volume",
        indicator_ids="U4",
        entity_kind="party",
        entity_id="P2",
        window_start=_ts(1, 0),
        window_end=_ts(7, 0),
        metrics='{"in_cad": 121500.0}',
        evidence_txn_ids="T05;T07;T09",
        severity=0.6,
    ),
]

ACCOUNT_SCORES = [
    dict(
        account_id="A3",
        score=0.93,
        alert=True,
        typologies="C7;G1;S1;U2",
        reason="Structured cash in, wires to China out",
        contributions='{"hit_S": 0.31, "fan_in": 0.22}',
    ),
    dict(
        account_id="A2",
        score=0.88,
        alert=True,
        typologies="C1;C5;U4",
        reason="Student account cycling casino funds",
        contributions='{"hit_C": 0.4}',
    ),
    dict(
        account_id="A1",
        score=0.61,
        alert=True,
        typologies="",
        reason="Funds a gambler late at night",
        contributions='{"night_share": 0.2}',
    ),
]

LEADS = [
    dict(
        lead_id=LEAD_ID,
        rank=1,
        score=0.93,
        total_value_cad=240000.0,
        first_ts=_ts(1, 9),
        last_ts=_ts(6, 14),
        typologies="C1;C5;C7;G1;S1;U2;U4",
        member_account_ids="A1;A2;A3",
        member_party_ids="P1;P2;P3",
        narrative="A money services business takes structured cash and wires it to China while a student gambler "
        "buys in with $20 bills funded by a late-night transfer.",
    ),
]

LINKS = [
    dict(party_a="P1", party_b="P3", kind="director_of", weight=1.0, source="registry", source_id="DIR-1"),
    dict(party_a="P1", party_b="P2", kind="associate", weight=1.0, source="police", source_id="AS-1"),
    dict(party_a="P2", party_b="P4", kind="family", weight=1.0, source="bank", source_id="FAM-1"),
    dict(party_a="P1", party_b="P4", kind="shares_phone", weight=1.0, source="resolve", source_id=None),
]

PROPERTIES = [
    dict(
        property_id="PR1",
        address="7300 Granville Ave, Richmond BC",
        kind="detached",
        assessed_value=2_400_000.0,
        source="land_title",
        source_id="PID-001",
    ),
]
TRANSFERS = [
    dict(
        transfer_id="TR1",
        property_id="PR1",
        ts=_ts(20),
        buyer_party_id="P2",
        seller_party_id="P5",
        price=2_500_000.0,
        mortgage_amount=1_500_000.0,
        lender_party_id="P1",
        lender_kind="private",
        cash_amount=300_000.0,
        via_trust_account=True,
        source="land_title",
        source_id="XFER-001",
    ),
]


def build_report_workspace(ws: Workspace) -> Workspace:
    """Write the fixture tables into ``ws`` (created if needed) and return it."""
    ws.ensure()
    ws.write("parties", _table("parties", PARTIES))
    ws.write("accounts", _table("accounts", ACCOUNTS))
    ws.write("transactions", _table("transactions", TRANSACTIONS))
    ws.write("detector_hits", _table("detector_hits", HITS))
    ws.write("account_scores", _table("account_scores", ACCOUNT_SCORES))
    ws.write("leads", _table("leads", LEADS))
    ws.write("links", _table("links", LINKS))
    ws.write("properties", _table("properties", PROPERTIES))
    ws.write("property_transfers", _table("property_transfers", TRANSFERS))
    return ws
