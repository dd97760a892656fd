"""The supervised risk model: LightGBM behind the scikit-learn estimator contract.

The saved model is two things in one JSON file: LightGBM's own text model and the list of feature
names it was trained on, so it loads on any workspace. Features the new workspace lacks are filled
with zeros and reported (never fatal); extra features are ignored.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from moneytrail.errors import ConfigError

MODEL_FORMAT = "moneytrail-risk-model/1"


class RiskModel(ClassifierMixin, BaseEstimator):
    """Gradient-boosted trees on account features (LightGBM), scikit-learn style.

    >>> m = RiskModel(n_estimators=50).fit(X, y)      # doctest: +SKIP
    >>> m.predict_proba(X)[:, 1]                        # doctest: +SKIP
    """

    def __init__(
        self,
        n_estimators: int = 400,
        learning_rate: float = 0.03,
        num_leaves: int = 15,
        min_child_samples: int = 10,
        subsample: float = 0.8,
        colsample_bytree: float = 0.7,
        reg_lambda: float = 1.0,
        random_state: int = 0,
        n_jobs: int = 1,
    ):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _lgbm(self):
        import lightgbm as lgb

        return lgb.LGBMClassifier(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples,
            subsample=self.subsample,
            subsample_freq=1,
            colsample_bytree=self.colsample_bytree,
            reg_lambda=self.reg_lambda,
            random_state=self.random_state,
            n_jobs=self.n_jobs,
            deterministic=True,
            force_row_wise=True,
            verbose=-1,
        )

    def fit(self, X: pd.DataFrame, y) -> RiskModel:
        """Learn from feature frame ``X`` (named columns) and 0/1 labels ``y``."""
        y = np.asarray(y).astype(int)
        if len(np.unique(y)) < 2:
            raise ConfigError(
                "Training needs both laundering and legitimate examples; the labels have one class only."
            )
        self.feature_names_in_ = list(X.columns)
        clf = self._lgbm().fit(X.astype(float), y)
        self.booster_ = clf.booster_
        self.classes_ = np.array([0, 1])
        self.missing_features_: list[str] = []
        return self

    def _align(self, X: pd.DataFrame) -> pd.DataFrame:
        missing = [f for f in self.feature_names_in_ if f not in X.columns]
        self.missing_features_ = missing
        X = X.copy()
        for f in missing:
            X[f] = 0.0
        return X[self.feature_names_in_].astype(float)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Probabilities of [legitimate, laundering] per row."""
        p = self.booster_.predict(self._align(X))
        return np.column_stack([1 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """LightGBM's tree SHAP values (``pred_contrib``) per feature, in log-odds; column ``bias`` last."""
        c = self.booster_.predict(self._align(X), pred_contrib=True)
        return pd.DataFrame(c, columns=[*self.feature_names_in_, "bias"], index=X.index)

    # -- persistence ----------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "features": self.feature_names_in_,
            "params": self.get_params(),
            "lightgbm": self.booster_.model_to_string(),
        }

    @classmethod
    def from_dict(cls, doc: dict) -> RiskModel:
        import lightgbm as lgb

        m = cls(**doc.get("params", {}))
        m.feature_names_in_ = list(doc["features"])
        m.booster_ = lgb.Booster(model_str=doc["lightgbm"])
        m.classes_ = np.array([0, 1])
        m.missing_features_ = []
        return m


def save_models(path: str | Path, models: dict[str, RiskModel], metadata: dict | None = None) -> Path:
    """Write the models (``account``, optionally ``transaction``) and metadata to one JSON file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "format": MODEL_FORMAT,
        "metadata": metadata or {},
        "models": {k: m.to_dict() for k, m in models.items()},
    }
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(doc), encoding="utf-8")
    tmp.replace(path)
    return path


def load_models(path: str | Path) -> tuple[dict[str, RiskModel], dict]:
    """Load the models and metadata saved by :func:`save_models`."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"The model file {path} does not exist; train one with `moneytrail train`.")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ConfigError(f"The model file {path} is not a moneytrail model: {e}.") from e
    if (
        not isinstance(doc, dict)
        or doc.get("format") != MODEL_FORMAT
        or "account" not in doc.get("models", {})
    ):
        raise ConfigError(
            f"The model file {path} is not a moneytrail model (expected format {MODEL_FORMAT})."
        )
    return {k: RiskModel.from_dict(v) for k, v in doc["models"].items()}, doc.get("metadata", {})


# How much the account model's own probability adds to the rolled-up transaction score: enough to
# order accounts whose best payments score alike, and to rank accounts without payments.
ACCOUNT_MODEL_WEIGHT = 0.01


def riskiest_transaction(
    account_ids: pd.Series, src_ids: pd.Series, dst_ids: pd.Series, txn_scores: np.ndarray
) -> np.ndarray:
    """Per account, the position of its highest-scoring transaction (sent or received), or -1
    when it has none; ties go to the earlier position."""
    n = len(txn_scores)
    ends = pd.DataFrame(
        {
            "account_id": np.concatenate([src_ids.to_numpy(), dst_ids.to_numpy()]),
            "s": np.concatenate([txn_scores, txn_scores]),
            "pos": np.concatenate([np.arange(n), np.arange(n)]),
        }
    )
    ends = ends.sort_values(["s", "pos"], ascending=[False, True], kind="stable")
    best = ends.drop_duplicates("account_id").set_index("account_id")["pos"]
    return account_ids.map(best).fillna(-1).to_numpy(np.int64)


def roll_up(txn_scores: np.ndarray, best: np.ndarray, account_scores: np.ndarray) -> np.ndarray:
    """An account's score from its riskiest transaction (``best``: positions from
    :func:`riskiest_transaction`), plus a little of its own.

    A laundering account is one that sent or received a laundering payment, so the best single
    payment is the sharpest evidence; the account model's score breaks ties.
    """
    best = np.asarray(best)
    top = np.where(best >= 0, np.asarray(txn_scores, float)[np.maximum(best, 0)], 0.0)
    own = np.asarray(account_scores, dtype=float)
    return (top + ACCOUNT_MODEL_WEIGHT * own) / (1.0 + ACCOUNT_MODEL_WEIGHT)
