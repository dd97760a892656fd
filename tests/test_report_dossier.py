"""The HTML dossier: self-contained, with its three charts, evidence tables and sources."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from moneytrail.investigate.reports import render_report
from moneytrail.workspace import Workspace
from tests.utils.report_fixtures import EVIDENCE_TXNS, LEAD_ID, build_report_workspace

NOW = dt.datetime(2024, 4, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Workspace:
    return build_report_workspace(Workspace(tmp_path_factory.mktemp("dossier") / "ws"))


@pytest.fixture(scope="module")
def html(ws) -> str:
    return render_report(ws, LEAD_ID, "html", now=NOW).content.decode("utf-8")


def test_dossier_has_its_sections_and_charts(html):
    for section in (
        "Summary",
        "Network",
        "Timeline",
        "Money flows",
        "Indicators and evidence",
        "Entities",
        "Evidence transactions",
        "Sources",
    ):
        assert f"<h2>{section}" in html
    assert html.count("<svg ") == 3
    assert (
        'aria-label="Network of the lead"' in html
        and 'aria-label="Money flows from payers to payees"' in html
    )
    # Every evidence transaction is listed, and the Sankey draws bands.
    for tid in EVIDENCE_TXNS:
        assert f"TX-{tid}" in html
    assert html.count('<path d="M') >= 5


def test_dossier_is_self_contained(html):
    # The only URL allowed is the SVG namespace, which is a name and never fetched.
    urls = set(re.findall(r"https?://[^\s\"')<>]+", html))
    assert urls <= {"http://www.w3.org/2000/svg"}
    assert "<script" not in html and "<link" not in html and "@import" not in html


def test_dossier_cites_sources_in_full(html):
    assert "Cullen Commission" in html and "FIN-2025-A003" in html
    assert "<h3>S1: Cash deposits or buy-ins just under C$10,000" in html


def test_dossier_is_reproducible(ws, html):
    assert render_report(ws, LEAD_ID, "html", now=NOW).content.decode("utf-8") == html
