"""bc-2015 over a reduced time window reproduces the published figures it is calibrated to."""

from __future__ import annotations

import pytest

from moneytrail.simulate import simulate
from moneytrail.simulate.calibration import measure, published

pytestmark = [pytest.mark.xdist_group("simulate"), pytest.mark.slow]


@pytest.fixture(scope="module")
def bc2015(tmp_path_factory):
    out = tmp_path_factory.mktemp("bc2015") / "world"
    simulate("bc-2015", seed=2015, out=out, days=90)
    return out


def test_bc2015_reduced_window_within_25_percent_of_each_covered_target(bc2015):
    rows = measure(bc2015)
    covered = [r for r in rows if r["covered"]]
    # every figure the preset lists is measured, and the ids are the published ones
    assert {r["figure_id"].split(":")[0] for r in covered} >= {
        "cal_silver_annual",
        "cal_bc_susp_cash_peak",
        "cal_cash_drop_typ",
    }
    assert all(r["figure_id"].split(":")[0] in published() for r in rows)
    off = {
        r["figure_id"]: r["ratio"] for r in covered if r["ratio"] is None or not 0.75 <= r["ratio"] <= 1.25
    }
    assert off == {}
    assert len(covered) >= 20
