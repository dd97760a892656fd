"""The STR draft: schema-valid JSON whose transactions all exist in the workspace, and its narrative."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow.parquet as pq
import pytest

from moneytrail.errors import SchemaError, WorkspaceError
from moneytrail.investigate.reports import render_report
from moneytrail.investigate.reports.indicators import catalogue
from moneytrail.investigate.reports.str_report import validate_str
from moneytrail.workspace import Workspace
from tests.utils.report_fixtures import EVIDENCE_TXNS, LEAD_ID, SUBJECT_PARTIES, build_report_workspace

NOW = dt.datetime(2024, 4, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Workspace:
    return build_report_workspace(Workspace(tmp_path_factory.mktemp("str") / "ws"))


@pytest.fixture(scope="module")
def doc(ws) -> dict:
    return json.loads(render_report(ws, LEAD_ID, "str", now=NOW).content)


def test_str_validates_against_its_schema(doc):
    validate_str(doc)  # raises on any violation
    assert doc["report_type"] == "STR" and doc["status"] == "draft"


def test_every_str_transaction_exists_in_the_workspace(ws, doc):
    txns = {r["txn_id"]: r for r in pq.read_table(ws.path("transactions")).to_pylist()}
    assert doc["transactions"], "the STR lists no transaction"
    for t in doc["transactions"]:
        assert t["txn_id"] in txns
        stored = txns[t["txn_id"]]
        assert t["amount"] == stored["amount"] and t["currency"] == stored["currency"]
        assert t["reference"] == stored["source_id"]
        assert t["conductor"]["account_id"] == stored["src_account_id"]
    assert sorted(t["txn_id"] for t in doc["transactions"]) == sorted(EVIDENCE_TXNS)


def test_str_subjects_carry_identifiers(doc):
    subjects = {s["party_id"]: s for s in doc["subjects"]}
    assert set(subjects) == set(SUBJECT_PARTIES)
    assert subjects["P1"]["name_native"] == "李伟"
    assert {"type": "identity document", "value": "E12345678", "issuer": "CN"} in subjects["P1"][
        "identifiers"
    ]
    assert "ACC-A1" in subjects["P1"]["accounts"]


def test_narrative_cites_indicators_and_sources(doc):
    narrative = doc["suspicion"]["narrative"]
    cat = catalogue()
    for ind in doc["suspicion"]["indicators"]:
        assert f"indicator {ind['id']}" in narrative
        for src in cat[ind["id"]].sources:
            assert src.id in narrative
    cited = {s["id"] for s in doc["sources"]}
    assert cited == {s for i in doc["suspicion"]["indicators"] for s in i["sources"]}
    assert all(len(s["citation"]) > 20 for s in doc["sources"])
    # Figures come from the evidence: the three structured deposits total C$28,700.
    assert "C$28,700.00" in narrative


def test_schema_rejects_a_broken_draft(doc):
    broken = json.loads(json.dumps(doc))
    broken["transactions"][0]["currency"] = "dollars"
    with pytest.raises(SchemaError, match="transactions/0/currency"):
        validate_str(broken)


def test_str_html_is_readable(ws):
    html = render_report(ws, LEAD_ID, "str-html", now=NOW).content.decode()
    assert "Part G: why the activity is suspicious" in html
    assert "TX-T01" in html and "陈晓明" in html


def test_unknown_lead_is_a_clear_error(ws):
    with pytest.raises(WorkspaceError, match="'L9999' is neither a lead"):
        render_report(ws, "L9999", "str")


def test_same_input_same_bytes(ws):
    a = render_report(ws, LEAD_ID, "str", now=NOW).content
    b = render_report(ws, LEAD_ID, "str", now=NOW).content
    assert a == b
