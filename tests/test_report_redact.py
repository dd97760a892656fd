"""Redaction: no name or identifier of a non-subject survives in any format; subjects stay named."""

from __future__ import annotations

import json

import pytest

from moneytrail.investigate.reports import render_report
from moneytrail.workspace import Workspace
from tests.utils.report_fixtures import NON_SUBJECT_NAMES, PARTIES, SUBJECT_PARTIES, build_report_workspace

LEAD_ID = "L0001"
# Everything that identifies a non-subject: names, native names, phones, e-mails, addresses, ids.
NON_SUBJECT_STRINGS = sorted(
    {
        str(p[k])
        for p in PARTIES
        if p["party_id"] not in SUBJECT_PARTIES
        for k in ("name", "name_native", "phone", "email", "address", "source_id")
        if p.get(k)
    }
    | set(NON_SUBJECT_NAMES)
    | {"ACC-A4", "ACC-A5", "ACC-A6", "ACC-A7", "ACC-A8"}
)
TEXT_FORMATS = ["html", "str", "str-html", "graphml", "gexf", "ftm"]


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Workspace:
    return build_report_workspace(Workspace(tmp_path_factory.mktemp("redact") / "ws"))


def leaks(text: str) -> list[str]:
    low = text.lower()
    return [s for s in NON_SUBJECT_STRINGS if s.lower() in low]


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_redacted_output_names_no_non_subject(ws, fmt):
    plain = render_report(ws, LEAD_ID, fmt).content.decode("utf-8")
    redacted = render_report(ws, LEAD_ID, fmt, redact=True).content.decode("utf-8")
    # The unredacted report does name them, so the check below can see a leak.
    assert "Wong Mei Ling" in plain or "黄美玲" in plain
    assert leaks(redacted) == []
    assert "Counterparty A" in redacted
    for name in ("Li Wei", "Chen Xiaoming", "Golden Harbour Trading Ltd"):
        assert name in redacted


def test_pseudonyms_are_stable_within_a_document(ws):
    doc = json.loads(render_report(ws, LEAD_ID, "str", redact=True).content)
    seen: dict[str, set[str]] = {}
    for t in doc["transactions"]:
        for side in (t["conductor"], t["beneficiary"]):
            seen.setdefault(side["holder_party_id"], set()).add(side["holder_name"])
    assert all(len(names) == 1 for names in seen.values())
    related = {p["party_id"]: p["name"] for p in doc["related_parties"]}
    for pid, names in seen.items():
        if pid in related:
            assert names == {related[pid]}
    # A memo that named a counterparty names its pseudonym instead.
    memo = next(t["memo"] for t in doc["transactions"] if t["txn_id"] == "T08")
    assert memo.startswith("family support Counterparty ")
    # Two renderings give the same pseudonyms.
    again = json.loads(render_report(ws, LEAD_ID, "str", redact=True).content)
    assert [p["name"] for p in again["related_parties"]] == [p["name"] for p in doc["related_parties"]]
