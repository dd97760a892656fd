"""``moneytrail ingest --format ftm``: the round trip from a report, and FtM data as others publish it."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from moneytrail.ingest import ingest
from moneytrail.investigate.reports import render_report
from moneytrail.workspace import Workspace
from tests.utils.report_fixtures import (
    ACCOUNTS,
    EVIDENCE_TXNS,
    LEAD_ID,
    PARTIES,
    TRANSACTIONS,
    build_report_workspace,
)

SANCTIONED = [
    {
        "id": "ofac-1",
        "schema": "Person",
        "datasets": ["us_ofac_sdn"],
        "properties": {
            "name": ["Viktor Sample"],
            "alias": ["Виктор Пример"],
            "topics": ["sanction"],
            "birthDate": ["1960"],
            "country": ["ru"],
        },
    },
    {
        "id": "co-1",
        "schema": "Company",
        "properties": {"name": ["Sample Trading FZE"], "jurisdiction": ["ae"], "addressEntity": ["addr-1"]},
    },
    {"id": "sanc-1", "schema": "Sanction", "properties": {"entity": ["co-1"], "program": ["SDGT"]}},
    {
        "id": "pay-1",
        "schema": "Payment",
        "properties": {
            "payer": ["ofac-1"],
            "beneficiary": ["co-1"],
            "amount": ["12000"],
            "currency": ["usd"],
            "date": ["2024-05-02"],
        },
    },
    {"id": "v-1", "schema": "Vessel", "properties": {"name": ["Sea Sample"]}},
    {"id": "id-1", "schema": "Passport", "properties": {"holder": ["ofac-1"], "number": ["P1234567"]}},
    {"id": "addr-1", "schema": "Address", "properties": {"full": ["1 Sample Street, Dubai"]}},
    {"id": "own-1", "schema": "Ownership", "properties": {"owner": ["ofac-1"], "asset": ["co-1"]}},
]


def _rows(ws: Workspace, name: str, area: str = "tables") -> list[dict]:
    return pq.read_table(ws.path(name, area)).to_pylist()


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    base = tmp_path_factory.mktemp("ftm_rt")
    src = build_report_workspace(Workspace(base / "src"))
    path = base / "lead.ftm.json"
    path.write_bytes(render_report(src, LEAD_ID, "ftm").content)
    dst = Workspace(base / "dst")
    report = ingest(path, "ftm", dst, progress=False)
    return src, dst, report


def test_round_trip_preserves_parties(round_trip):
    _, dst, _ = round_trip
    got = {(p["kind"], p["name"], p["name_native"]) for p in _rows(dst, "parties")}
    want = {(p["kind"], p["name"], p.get("name_native")) for p in PARTIES}
    assert got == want
    li = next(p for p in _rows(dst, "parties") if p["name"] == "Li Wei")
    assert str(li["birth_date"]) == "1975-04-02" and li["document_number"] == "E12345678"


def test_round_trip_preserves_accounts_and_payments(round_trip):
    _, dst, report = round_trip
    parties = {p["party_id"]: p["name"] for p in _rows(dst, "parties")}
    accounts = {a["account_id"]: a for a in _rows(dst, "accounts")}
    holder = {
        a["account_id"]: next(p["name"] for p in PARTIES if p["party_id"] == a["holder_party_id"])
        for a in ACCOUNTS
    }
    orig = {
        (
            t["ts"],
            t["amount"],
            t["currency"],
            t["channel"],
            holder[t["src_account_id"]],
            holder[t["dst_account_id"]],
        )
        for t in TRANSACTIONS
        if t["txn_id"] in EVIDENCE_TXNS
    }
    got = {
        (
            t["ts"],
            t["amount"],
            t["currency"],
            t["channel"],
            parties[accounts[t["src_account_id"]]["holder_party_id"]],
            parties[accounts[t["dst_account_id"]]["holder_party_id"]],
        )
        for t in _rows(dst, "transactions")
    }
    assert got == orig
    assert report.tables["transactions"].quarantined == 0 and report.tables["accounts"].placeholders == 0


def test_round_trip_is_idempotent(round_trip, tmp_path):
    src, dst, _ = round_trip
    path = tmp_path / "again.ftm.json"
    path.write_bytes(render_report(src, LEAD_ID, "ftm").content)
    before = {n: _rows(dst, n) for n in ("parties", "accounts", "transactions")}
    ingest(path, "ftm", dst, progress=False)
    assert {n: _rows(dst, n) for n in before} == before


def test_published_ftm_with_bad_lines(tmp_path):
    path = tmp_path / "entities.ftm.json"
    lines = [json.dumps(e, ensure_ascii=False) for e in SANCTIONED]
    lines.insert(2, "this is not json {")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ws = Workspace(tmp_path / "ws")
    report = ingest(path, "auto", ws, progress=False)
    assert report.format == "ftm"
    watch = {w["entry_id"]: w for w in _rows(ws, "watchlist")}
    assert set(watch) == {"ofac-1", "co-1"}
    assert watch["ofac-1"]["list_name"] == "us_ofac_sdn" and watch["ofac-1"]["aliases"] == "Виктор Пример"
    assert watch["co-1"]["program"] == "SDGT"
    # A payment between parties without accounts gets placeholder accounts held by the parties.
    (txn,) = _rows(ws, "transactions")
    accounts = {a["account_id"]: a for a in _rows(ws, "accounts")}
    assert accounts[txn["src_account_id"]]["holder_party_id"] == "ftm:ofac-1"
    assert accounts[txn["src_account_id"]]["is_external"] is True
    assert txn["currency"] == "USD" and txn["amount"] == 12000.0
    # Supporting entities fill in their subjects: documents, addresses, ownership as a link.
    parties = {p["party_id"]: p for p in _rows(ws, "parties")}
    assert parties["ftm:ofac-1"]["document_number"] == "P1234567"
    assert (
        parties["ftm:ofac-1"]["name_native"] == "Виктор Пример"
        and parties["ftm:ofac-1"]["birth_date"] is None
    )
    assert (
        parties["ftm:co-1"]["address"] == "1 Sample Street, Dubai" and parties["ftm:co-1"]["country"] == "AE"
    )
    (link,) = _rows(ws, "links")
    assert (link["party_a"], link["party_b"], link["kind"]) == ("ftm:ofac-1", "ftm:co-1", "director_of")
    # The non-JSON line and the vessel are quarantined with their line numbers, not dropped.
    q = {r["line"]: r["reason"] for r in _rows(ws, "parties", "quarantine")}
    assert "not valid JSON" in q[3]
    assert "'Vessel' has no canonical table" in q[6]
    assert str(path) in {r["source_file"] for r in _rows(ws, "parties", "quarantine")}
