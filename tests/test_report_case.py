"""A report on a workbench case: the case's lead, subjects, status and notes."""

from __future__ import annotations

import json

import pytest

from moneytrail.investigate.cases import open_store
from moneytrail.investigate.reports import render_report
from moneytrail.investigate.reports.bundle import parse_case_id
from moneytrail.workspace import Workspace
from tests.utils.report_fixtures import LEAD_ID, build_report_workspace


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Workspace:
    ws = build_report_workspace(Workspace(tmp_path_factory.mktemp("case") / "ws"))
    store = open_store(ws)
    try:
        user = store.add_user("analyst1", "correct horse battery", "analyst")
        # The case adds the relative as a subject besides the lead's members.
        case = store.open_case(
            LEAD_ID, "Golden Harbour MSB", user, ["A1", "A2", "A3"], ["P1", "P2", "P3", "P4"]
        )
        store.add_note(case.id, "Casino confirms the $20 bricks on 4 March.", user)
    finally:
        store.close()
    return ws


def test_case_ids_are_recognised():
    assert [parse_case_id(t) for t in ("12", "case-12", "Case:3", "C7", "L0001", "case-x")] == [
        12,
        12,
        3,
        7,
        None,
        None,
    ]


def test_str_of_a_case_carries_its_subjects_and_notes(ws):
    doc = json.loads(render_report(ws, "case-1", "str").content)
    assert doc["report_id"] == "STR-case-1"
    assert doc["case"]["status"] == "open" and doc["case"]["lead_id"] == LEAD_ID
    assert {s["party_id"] for s in doc["subjects"]} == {"P1", "P2", "P3", "P4"}
    assert "Casino confirms the $20 bricks on 4 March." in doc["suspicion"]["narrative"]


def test_case_subjects_are_not_redacted(ws):
    html = render_report(ws, "case-1", "html", redact=True).content.decode("utf-8")
    assert "Wong Mei Ling" in html  # a subject of the case
    assert "Zhang San" not in html and "Counterparty" in html
    assert "Case dossier: Golden Harbour MSB" in html


def test_a_missing_case_is_named(ws):
    from moneytrail.errors import WorkspaceError

    with pytest.raises(WorkspaceError, match="'case-99' is neither a lead"):
        render_report(ws, "case-99", "str")
