"""The Vancouver-Model simulator: a legitimate population and closed-loop laundering networks,
written in the canonical format with ground truth.

>>> from moneytrail.simulate import simulate
>>> summary = simulate("tiny", seed=1, out="world")  # doctest: +SKIP

See docs/simulator.md for the model, the presets and the what-if interventions.
"""

from moneytrail.simulate.world import TABLES, resolve_params, simulate

__all__ = ["TABLES", "resolve_params", "simulate"]
