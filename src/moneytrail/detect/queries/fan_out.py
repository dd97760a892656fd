"""G2 fan-out: one account paying many one-off receivers within a window."""

from __future__ import annotations

from moneytrail.detect.queries._fan import fan_sql


def fan_out_sql(params: dict) -> str:
    """Accounts paying at least ``min_counterparties`` one-off receivers within ``window_days``."""
    return fan_sql(params, "out")
