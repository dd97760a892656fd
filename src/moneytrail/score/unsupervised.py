"""The score without labels: detector hits plus anomaly measures, calibrated to an alert budget.

Each anomaly measure is turned into its empirical percentile among active accounts (fitted on the
workspace itself), so measures on different scales combine fairly and the score is comparable within
a run. The score is::

    score = HIT_WEIGHT * hit_part + (1 - HIT_WEIGHT) * anomaly_part

where ``hit_part`` squashes the de-duplicated detector severities (and the proximity to accounts
with hits) into 0..1 and ``anomaly_part`` is the weighted mean of the measure percentiles. Every
term is kept as a contribution, so each score is explained by the same numbers that made it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

# Behaviour measures and their weights. They describe laundering, not one generator: money moved
# along one-off relations by accounts whose counterparties do the same (chains of mules), days where
# money passes straight through, bursts of new counterparties, currencies foreign to the account.
ANOMALY_WEIGHTS: dict[str, float] = {
    "cp_single_pair_share": 0.50,
    "single_pair_week_max": 0.10,
    "passthrough_day_share": 0.15,
    "max_week_cp_out": 0.10,
    "foreign_currency_share": 0.15,
}
HIT_MEASURES: dict[str, float] = {"hit_score": 0.7, "seed_proximity": 0.2, "community_hit_share": 0.1}
HIT_WEIGHT = 0.5
ACTIVITY = ("n_in", "n_out")


class UnsupervisedScorer(BaseEstimator):
    """Risk score from detector hits and anomaly percentiles (scikit-learn style).

    ``fit`` stores, per measure, the sorted values seen among active accounts; ``score_samples``
    maps new values to percentiles and combines them; ``contributions`` gives each term.
    """

    def __init__(self, anomaly_weights: dict[str, float] | None = None, hit_weight: float = HIT_WEIGHT):
        self.anomaly_weights = anomaly_weights
        self.hit_weight = hit_weight

    def _weights(self) -> dict[str, float]:
        return dict(self.anomaly_weights or ANOMALY_WEIGHTS)

    def fit(self, X: pd.DataFrame, y=None) -> UnsupervisedScorer:
        active = _active(X)
        self.reference_ = {f: np.sort(X.loc[active, f].to_numpy(float)) for f in self._weights() if f in X}
        hit_total = X["hit_score"].to_numpy(float) if "hit_score" in X else np.zeros(len(X))
        # Scale hits so that the median account *with* hits sits at 0.5 of the hit part.
        pos = hit_total[hit_total > 0]
        self.hit_scale_ = float(np.median(pos)) if len(pos) else 1.0
        prox = X["seed_proximity"].to_numpy(float) if "seed_proximity" in X else np.zeros(len(X))
        self.proximity_scale_ = float(np.quantile(prox[prox > 0], 0.99)) if (prox > 0).any() else 1.0
        return self

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Each feature's share of the score (the contributions sum to the score)."""
        out = pd.DataFrame(index=X.index)
        active = _active(X).to_numpy()
        w = self._weights()
        total = sum(w.values()) or 1.0
        for f, wf in w.items():
            ref = self.reference_.get(f)
            if ref is None or f not in X or not len(ref):
                continue
            x = X[f].to_numpy(float)
            pct = np.searchsorted(ref, x, side="right") / len(ref)
            pct = np.where((x > 0) & active, pct, 0.0)  # a zero measure is no evidence at all
            out[f] = (1 - self.hit_weight) * wf / total * pct
        parts = {
            "hit_score": _squash(X.get("hit_score"), self.hit_scale_, len(X)),
            "seed_proximity": _squash(X.get("seed_proximity"), self.proximity_scale_, len(X)),
            "community_hit_share": np.clip(_col(X, "community_hit_share"), 0, 1),
        }
        for f, wf in HIT_MEASURES.items():
            out[f] = self.hit_weight * wf * parts[f]
        return out

    def score_samples(self, X: pd.DataFrame) -> np.ndarray:
        """Risk score in 0..1 per row; higher is more suspicious."""
        return self.contributions(X).sum(axis=1).to_numpy()


def _active(X: pd.DataFrame) -> pd.Series:
    cols = [c for c in ACTIVITY if c in X]
    if not cols:
        return pd.Series(True, index=X.index)
    return X[cols].sum(axis=1) > 0


def _col(X: pd.DataFrame, name: str) -> np.ndarray:
    return X[name].to_numpy(float) if name in X else np.zeros(len(X))


def _squash(values, scale: float, n: int) -> np.ndarray:
    """x / (x + scale): 0 for no evidence, 0.5 at the scale, towards 1 for strong evidence."""
    if values is None:
        return np.zeros(n)
    x = np.asarray(values, dtype=float)
    return x / (x + max(scale, 1e-12))


def alert_mask(scores: np.ndarray, ids: np.ndarray, alert_rate: float) -> np.ndarray:
    """The operating point: alert the top ``alert_rate`` share of rows by score, never a zero score.

    Ties are broken by id so the same inputs always alert the same rows, and at most
    ``floor(alert_rate * n)`` rows (at least one when any score is positive) alert.
    """
    s = np.asarray(scores, dtype=float)
    n = len(s)
    if n == 0:
        return np.zeros(0, dtype=bool)
    k = max(1, int(np.floor(alert_rate * n)))
    order = np.lexsort((np.asarray(ids).astype(str), -s))
    mask = np.zeros(n, dtype=bool)
    mask[order[:k]] = True
    return mask & (s > 0)
