"""The score without labels: detector hits plus anomaly measures, calibrated to an alert budget.

Each anomaly measure is turned into its empirical percentile among active accounts (fitted on the
workspace itself), so measures on different scales combine fairly and the score is comparable within
a run. The score is::

    score = sum_f w_f * info_f * pct_f / sum_f w_f * info_f

where ``pct_f`` is the account's percentile on measure ``f`` (zero when the measure is zero),
``w_f`` the measure's weight and ``info_f`` how rare a non-zero value is in the workspace. Every
term is kept as a contribution, so each score is explained by the same numbers that made it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

# Behaviour measures and their weights. They describe laundering, not one generator: one-off
# payments outside the payer's usual rhythm, counterparties that themselves only deal in one-off
# relations (chains of mules), money passed on at a similar value within days (layering hops), and
# the detector hits. Each measure's weight is further scaled by how rare a non-zero value is in the
# workspace (its information, -log of the share of active accounts showing it, floored), so a measure
# that fires on most accounts of a dataset counts for less there.
ANOMALY_WEIGHTS: dict[str, float] = {
    "oneoff_offsched_n": 1.0,
    "cp_single_pair_share": 0.5,
    "hop_share": 1.0,
    "hit_score": 0.5,
}
MIN_INFORMATION = 0.25
ACTIVITY = ("n_in", "n_out")


class UnsupervisedScorer(BaseEstimator):
    """Risk score from behaviour and detector-hit percentiles (scikit-learn style).

    ``fit`` stores, per measure, the sorted values seen among active accounts and the measure's
    information (how rare a non-zero value is); ``score_samples`` maps new values to percentiles
    and combines them; ``contributions`` gives each term.
    """

    def __init__(
        self, anomaly_weights: dict[str, float] | None = None, min_information: float = MIN_INFORMATION
    ):
        self.anomaly_weights = anomaly_weights
        self.min_information = min_information

    def _weights(self) -> dict[str, float]:
        return dict(self.anomaly_weights or ANOMALY_WEIGHTS)

    def fit(self, X: pd.DataFrame, y=None) -> UnsupervisedScorer:
        active = _active(X)
        self.reference_: dict[str, np.ndarray] = {}
        self.information_: dict[str, float] = {}
        for f in self._weights():
            if f not in X:
                continue
            ref = np.sort(X.loc[active, f].to_numpy(float))
            self.reference_[f] = ref
            share = float((ref > 0).mean()) if len(ref) else 1.0
            self.information_[f] = max(-np.log(max(share, 1e-6)), self.min_information)
        return self

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Each measure's share of the score (the contributions sum to the score, in 0..1)."""
        out = pd.DataFrame(index=X.index)
        active = _active(X).to_numpy()
        w = {f: wf * self.information_[f] for f, wf in self._weights().items() if f in self.reference_}
        total = sum(w.values()) or 1.0
        for f, wf in w.items():
            ref = self.reference_[f]
            if f not in X or not len(ref):
                continue
            x = X[f].to_numpy(float)
            pct = np.searchsorted(ref, x, side="right") / len(ref)
            pct = np.where((x > 0) & active, pct, 0.0)  # a zero measure is no evidence at all
            out[f] = wf / total * pct
        return out

    def score_samples(self, X: pd.DataFrame) -> np.ndarray:
        """Risk score in 0..1 per row; higher is more suspicious."""
        c = self.contributions(X)
        return c.sum(axis=1).to_numpy() if c.shape[1] else np.zeros(len(X))


def _active(X: pd.DataFrame) -> pd.Series:
    cols = [c for c in ACTIVITY if c in X]
    if not cols:
        return pd.Series(True, index=X.index)
    return X[cols].sum(axis=1) > 0


def alert_mask(scores: np.ndarray, ids: np.ndarray, alert_rate: float) -> np.ndarray:
    """The operating point: alert the top ``alert_rate`` share of rows by score, never a zero score.

    Ties are broken by id (integer ids in numeric order, others as text) so the same inputs always alert the same rows, and at most
    ``floor(alert_rate * n)`` rows (at least one when any score is positive) alert.
    """
    s = np.asarray(scores, dtype=float)
    n = len(s)
    if n == 0:
        return np.zeros(0, dtype=bool)
    k = min(n, max(1, int(np.floor(alert_rate * n))))
    # Only rows scoring at least the k-th best score can alert: order those alone.
    cut = np.partition(s, n - k)[n - k]
    near = np.flatnonzero(s >= cut)
    ids = np.asarray(ids)[near]
    order = near[np.lexsort((ids if ids.dtype.kind in "iu" else ids.astype(str), -s[near]))]
    mask = np.zeros(n, dtype=bool)
    mask[order[:k]] = True
    return mask & (s > 0)
