"""The policy brief of ``simulate --report``: calibration table and the what-if comparison with plots."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from moneytrail.errors import InputFileError
from moneytrail.simulate.brief import WorldFigures, brief_html, comparison_rows

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
CALIBRATION = [
    {
        "figure_id": "cal_fee_underground",
        "what": "fee charged by underground bankers",
        "target": 6.0,
        "measured": 6.2,
        "ratio": 1.0333,
        "covered": True,
    },
    {
        "figure_id": "cal_ml_bc_total",
        "what": "money laundered in B.C. in a year",
        "target": 370_000_000.0,
        "measured": 1_150_000.0,
        "ratio": 0.0031,
        "covered": False,
    },
    {
        "figure_id": "cal_cash_drop_typ",
        "what": "typical cash hand-over",
        "target": 225_000,
        "measured": None,
        "ratio": None,
        "covered": False,
    },
]


def _world(name: str, casino: float, drafts: float, interventions: dict | None = None) -> WorldFigures:
    """A world of half a year shaped like ``report_data``: ``casino`` and ``drafts`` are per month."""
    months = ["2018-01", "2018-02", "2018-03", "2018-04", "2018-05", "2018-06"]
    vol = [{"month": m, "channel": "casino cash", "cad": casino} for m in months]
    vol += [{"month": m, "channel": "casino bank drafts", "cad": drafts} for m in months]
    data = {
        "days": 182.5,
        "calibration": CALIBRATION,
        "volume_by_channel_month": vol,
        "annual_by_channel": {"casino cash": casino * 12, "casino bank drafts": drafts * 12},
        "books": [
            {"network_id": "alpha", "revenue": 5e6, "placed": 4e6, "held": 5e5, "fees": 2e5, "sent_back": 3e6}
        ],
    }
    summary = {
        "preset": name,
        "seed": 7,
        "scale": 0.1,
        "days": 182,
        "start": "2018-01-01",
        "parameters": {"interventions": interventions or {}},
    }
    return WorldFigures(summary=summary, data=data)


BASE = _world("bc-2015", casino=400_000.0, drafts=50_000.0)
ALT = _world(
    "bc-2018",
    casino=100_000.0,
    drafts=300_000.0,
    interventions={"source_of_funds_rule": {"date": "2018-01-01"}},
)


def test_comparison_measures_the_displacement():
    rows = {r["channel"]: r for r in comparison_rows(BASE, ALT)}
    assert set(rows) == {"casino cash", "casino bank drafts"}
    assert rows["casino cash"]["change"] == pytest.approx(-3_600_000.0)
    assert rows["casino bank drafts"]["change"] == pytest.approx(3_000_000.0)
    assert rows["casino cash"]["change_pct"] == pytest.approx(-75.0)


def test_brief_shows_calibration_and_what_if_with_plots():
    html = brief_html(BASE, ALT, now=NOW)
    assert "What-if comparison" in html
    assert "Source-of-funds declaration for casino buy-ins of C$10,000+ from 2018-01-01" in html
    assert html.count("<svg ") == 3  # calibration ratios, channels, months
    for r in CALIBRATION:
        assert r["figure_id"] in html
    assert "1 of 2" in html  # one of the two measured figures within a factor of 2
    assert "−C$600,000.00" in html  # 5.4 M placed a year before, 4.8 M after
    assert "C$3,000,000.00 a year" in html  # moved into bank drafts
    assert "Where the drug money went" in html
    assert not set(re.findall(r"https?://[^\s\"')<>]+", html)) - {"http://www.w3.org/2000/svg"}


def test_brief_of_one_world_has_no_comparison():
    html = brief_html(BASE, None, now=NOW)
    assert "What-if comparison" not in html and "Where the drug cash is placed" in html
    assert html.count("<svg ") == 3


def test_a_folder_that_is_not_a_world_is_named(tmp_path):
    from moneytrail.simulate.brief import load_figures

    (tmp_path / "world.json").write_text(json.dumps({}), encoding="utf-8")
    with pytest.raises(InputFileError, match="is not a simulated world"):
        load_figures(tmp_path)


@pytest.mark.slow
def test_brief_of_real_tiny_worlds(tmp_path):
    from moneytrail.simulate.brief import write_brief
    from moneytrail.simulate.world import simulate

    simulate("tiny", 3, tmp_path / "a", scale=0.05)
    simulate(
        "tiny", 3, tmp_path / "b", scale=0.05, overrides=["interventions.cash_buy_in_cap.date=2015-03-01"]
    )
    (html,) = write_brief(tmp_path / "b", compare=tmp_path / "a", pdf=False, now=NOW)
    text = html.read_text(encoding="utf-8")
    assert html == tmp_path / "b" / "report" / "brief.html"
    assert "Cap on cash buy-ins from 2015-03-01" in text and "cal_fee_underground" in text
