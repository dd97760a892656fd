"""G1 fan-in: many one-off senders paying one account within a window."""

from __future__ import annotations

from moneytrail.detect.queries._fan import fan_sql


def fan_in_sql(params: dict) -> str:
    """Accounts paid by at least ``min_counterparties`` one-off senders within ``window_days``."""
    return fan_sql(params, "in")
