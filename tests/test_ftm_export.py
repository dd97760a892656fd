"""FollowTheMoney export: every entity valid for the followthemoney library, ids deterministic."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from followthemoney import model

from moneytrail.errors import SchemaError
from moneytrail.investigate.reports import render_report
from moneytrail.investigate.reports.ftm_export import validate_entity
from moneytrail.workspace import Workspace
from tests.utils.report_fixtures import EVIDENCE_TXNS, LEAD_ID, build_report_workspace


@pytest.fixture(scope="module")
def entities(tmp_path_factory) -> list[dict]:
    ws = build_report_workspace(Workspace(tmp_path_factory.mktemp("ftm") / "ws"))
    text = render_report(ws, LEAD_ID, "ftm").content.decode("utf-8")
    return [json.loads(line) for line in text.splitlines()]


def test_every_entity_is_valid(entities):
    for data in entities:
        validate_entity(data)
        proxy = model.get_proxy(data)  # the library's own cleaning keeps every value
        for prop, values in data["properties"].items():
            assert len(proxy.get(prop)) == len(values), (data["schema"], prop)


def test_schemata_and_counts(entities):
    counts = Counter(e["schema"] for e in entities)
    assert counts["Person"] == 5 and counts["Company"] == 3
    assert counts["BankAccount"] == 7 and counts["Payment"] == len(EVIDENCE_TXNS)
    assert counts["RealEstate"] == 1 and counts["Debt"] == 1
    assert counts["Directorship"] == 1 and counts["Family"] == 1 and counts["Associate"] == 1
    assert counts["UnknownLink"] == 1
    assert len({e["id"] for e in entities}) == len(entities)


def test_payments_reference_entities_in_the_file(entities):
    ids = {e["id"]: e["schema"] for e in entities}
    for p in (e for e in entities if e["schema"] == "Payment"):
        props = p["properties"]
        assert ids[props["payerAccount"][0]] == "BankAccount"
        assert ids[props["beneficiary"][0]] in ("Person", "Company", "LegalEntity")
        assert props["currency"][0] in ("CAD", "CNY")


def test_ids_are_deterministic(entities, tmp_path):
    ws = build_report_workspace(Workspace(tmp_path / "again"))
    again = [json.loads(line) for line in render_report(ws, LEAD_ID, "ftm").content.decode().splitlines()]
    assert [e["id"] for e in again] == [e["id"] for e in entities]


def test_validation_catches_a_bad_entity():
    with pytest.raises(SchemaError, match="birthDate"):
        validate_entity({"id": "x", "schema": "Person", "properties": {"name": ["A"], "birthDate": ["soon"]}})
    with pytest.raises(SchemaError, match="lacks required"):
        validate_entity({"id": "y", "schema": "Ownership", "properties": {"owner": ["x"]}})
