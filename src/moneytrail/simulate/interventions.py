"""Policy interventions as dated parameters, so a user can ask "what if".

Each intervention is off while its ``date`` is empty. From its date on:

- ``source_of_funds_rule``: casinos ask where cash buy-ins of C$10,000+ come from. Laundering
  channels through casino cash keep only ``casino_cash_kept`` of their share; the rest moves to
  the channels in ``displaced_to`` (bank drafts, real estate, ...). Legitimate VIPs bring drafts.
- ``cash_buy_in_cap``: cash buy-ins above ``cap_cad`` are refused, so laundering buy-ins are split
  under the cap (C7) and legitimate large buy-ins are paid by draft.
- ``beneficial_ownership_registry``: nominee purchases keep ``nominee_kept`` of their share; the
  rest moves to ``displaced_to``.
- ``precursor_controls``: shipments shrink to ``supply_kept`` of their volume, and the cash with them.
- ``courier_enforcement``: ``pressure`` (0 to 1) of the cash runs to the underground bank move to
  ``displaced_to``, and underground bankers charge ``fee_increase`` more.
"""

from __future__ import annotations

import datetime as dt

from moneytrail.errors import ConfigError
from moneytrail.simulate.book import US_PER_DAY

CASINO_CASH_CHANNELS = ("ub_swap", "casino_proxy")
UB_CHANNELS = ("ub_swap", "ub_msb")


def _date_us(value, name: str) -> int | None:
    if value in (None, "", "none", "null"):
        return None
    try:
        d = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(
            f"The option 'interventions.{name}.date' must be a date like 2018-01-15. Got {value!r} instead."
        ) from None
    return (dt.date(d.year, d.month, d.day) - dt.date(1970, 1, 1)).days * US_PER_DAY


class Interventions:
    """The interventions of a parameter set, queried by time (microseconds since 1970)."""

    def __init__(self, cfg: dict):
        self.cfg = cfg or {}
        self.dates = {k: _date_us((v or {}).get("date"), k) for k, v in self.cfg.items()}

    def active(self, name: str, t: int) -> bool:
        d = self.dates.get(name)
        return d is not None and t >= d

    def supply_factor(self, t: int) -> float:
        if self.active("precursor_controls", t):
            return float(self.cfg["precursor_controls"].get("supply_kept", 1.0))
        return 1.0

    def cash_cap(self, t: int) -> float | None:
        if self.active("cash_buy_in_cap", t):
            return float(self.cfg["cash_buy_in_cap"].get("cap_cad", 10_000))
        return None

    def fee_add(self, t: int) -> float:
        if self.active("courier_enforcement", t):
            return float(self.cfg["courier_enforcement"].get("fee_increase", 0.0))
        return 0.0

    def weights(self, base: dict[str, float], t: int, *, has_ub: bool) -> dict[str, float]:
        """The channel weights in force at ``t`` (they always sum to the base total)."""
        w = {k: float(v) for k, v in base.items()}
        if not has_ub:
            for ch in UB_CHANNELS:
                w["structuring"] = w.get("structuring", 0.0) + w.pop(ch, 0.0)

        def move(channels, kept: float, to: dict[str, float]) -> None:
            freed = 0.0
            for ch in channels:
                if ch in w:
                    freed += w[ch] * (1 - kept)
                    w[ch] *= kept
            total = sum(to.values()) or 1.0
            for ch, share in to.items():
                if ch in UB_CHANNELS and not has_ub:
                    ch = "structuring"
                w[ch] = w.get(ch, 0.0) + freed * share / total

        if self.active("source_of_funds_rule", t):
            c = self.cfg["source_of_funds_rule"]
            move(
                CASINO_CASH_CHANNELS,
                float(c.get("casino_cash_kept", 0.01)),
                c.get("displaced_to", {"drafts": 1.0}),
            )
        if self.active("beneficial_ownership_registry", t):
            c = self.cfg["beneficial_ownership_registry"]
            move(("real_estate",), float(c.get("nominee_kept", 0.3)), c.get("displaced_to", {"ub_msb": 1.0}))
        if self.active("courier_enforcement", t):
            c = self.cfg["courier_enforcement"]
            move(
                UB_CHANNELS,
                1 - float(c.get("pressure", 0.0)),
                c.get("displaced_to", {"structuring": 0.5, "trade": 0.5}),
            )
        return w

    def legit_params(self, t0: int) -> dict:
        """Day offsets of the interventions that change legitimate behaviour (for the bulk generator)."""
        out: dict = {}
        if self.dates.get("cash_buy_in_cap") is not None:
            out["_cash_cap"] = (
                (self.dates["cash_buy_in_cap"] - t0) // US_PER_DAY,
                float(self.cfg["cash_buy_in_cap"].get("cap_cad", 10_000)),
            )
        if self.dates.get("source_of_funds_rule") is not None:
            out["_cash_cap"] = ((self.dates["source_of_funds_rule"] - t0) // US_PER_DAY, 10_000.0)
        return out
