"""The Vancouver-Model simulator: a legitimate population and closed-loop laundering networks,
written in the canonical format with ground truth.

>>> from moneytrail.simulate import simulate
>>> summary = simulate("tiny", seed=1, out="world")  # doctest: +SKIP

See docs/simulator.md for the model, the presets and the what-if interventions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from moneytrail.simulate.world import TABLES, resolve_params, simulate

__all__ = ["TABLES", "resolve_params", "simulate"]


def __getattr__(name: str):
    # imported on first use: the process that builds the population imports its own modules
    # only, not the writer and Parquet
    if name in __all__:
        from moneytrail.simulate import world

        return getattr(world, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
