"""Train the account and transaction models on a workspace's truth, with group cross-validation.

Labels: an account is positive when it sent or received a laundering transaction in
``truth/transaction_labels``; a transaction is positive when labelled laundering. Analysts'
dispositions will refine them: when the workspace has a ``case_dispositions`` table (account_id,
disposition in confirmed | dismissed), confirmed accounts become positive and dismissed ones
negative (the hook is :func:`account_labels`). Features never use labels.

Validation splits by group (the account's community in the money graph), never by random
transaction, so a scheme is never half in training and half in validation. With a transaction
model, the account score is rolled up from the account's riskiest transaction
(:func:`moneytrail.score.model.roll_up`), and that is the account figure reported.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.metrics import average_precision_score
from sklearn.model_selection import GroupKFold

from moneytrail.engine import Engine, make_engine
from moneytrail.errors import WorkspaceError
from moneytrail.score.evaluate import positive_accounts_sql
from moneytrail.score.features import FLOW_FEATURES
from moneytrail.score.featurize import (
    FEATURES,
    SIGNALS,
    TXNS,
    coded_accounts_relation,
    compute_account_features,
)
from moneytrail.score.model import RiskModel, riskiest_transaction, roll_up, save_models
from moneytrail.score.txn_features import ENDPOINT_FEATURES, TXN_FEATURES, txn_features_sql
from moneytrail.workspace import RunManifest, Workspace

# The coded account features the transaction features join (see ``featurize``).
CODED_FEATURES = "score_account_features"


def account_labels(engine: Engine, account_ids: pd.Series) -> np.ndarray:
    """0/1 label per account from truth, overridden by case dispositions when they exist."""
    if not engine.has_table("truth_transaction_labels"):
        raise WorkspaceError(
            "The workspace has no truth/transaction_labels; training needs a labelled source "
            "(simulator truth or ingested labels)."
        )
    pos = set(engine.query(positive_accounts_sql(), label="positive accounts").to_pandas()["account_id"])
    y = account_ids.isin(pos).to_numpy().astype(int)
    if engine.has_table("case_dispositions"):
        d = engine.query(
            "SELECT account_id, disposition FROM case_dispositions ORDER BY account_id",
            label="case dispositions",
        ).to_pandas()
        verdict = dict(zip(d["account_id"], d["disposition"], strict=True))
        for i, a in enumerate(account_ids):
            if verdict.get(a) == "confirmed":
                y[i] = 1
            elif verdict.get(a) == "dismissed":
                y[i] = 0
    return y


def group_oof(
    model: RiskModel, X: pd.DataFrame, y: np.ndarray, groups: np.ndarray, folds: int = 5
) -> np.ndarray:
    """Out-of-fold probabilities with folds split by group."""
    oof = np.zeros(len(y))
    k = min(folds, len(np.unique(groups)))
    if k < 2:
        return oof
    for tr, te in GroupKFold(n_splits=k).split(X, y, groups):
        if len(np.unique(y[tr])) < 2:
            continue
        m = RiskModel(**model.get_params()).fit(X.iloc[tr], y[tr])
        oof[te] = m.predict_proba(X.iloc[te])[:, 1]
    return oof


# Legitimate transactions kept for training the transaction model (a seeded sample on larger
# worlds): enough to learn the variety of what is ordinary (on AMLSim, 50,000 negatives gave a
# cross-validated transaction AP of 0.90 and all of its 200,000 gave 0.91), while training time
# stays bounded on large worlds. Validation always scores every transaction of the held-out groups,
# so the figures are not flattered by the sample.
MAX_TXN_NEGATIVES = 250_000


def _sample(y: np.ndarray, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``rows`` with every positive and at most :data:`MAX_TXN_NEGATIVES` negatives (sorted)."""
    neg = rows[y[rows] == 0]
    if len(neg) > MAX_TXN_NEGATIVES:
        neg = rng.choice(neg, MAX_TXN_NEGATIVES, replace=False)
    return np.sort(np.concatenate([rows[y[rows] == 1], neg]))


def sampled_group_oof(
    model: RiskModel, X: pd.DataFrame, y: np.ndarray, groups: np.ndarray, folds: int, seed: int
) -> np.ndarray:
    """Out-of-fold probabilities for every row; each fold trains on a sample of its negatives."""
    oof = np.zeros(len(y))
    k = min(folds, len(np.unique(groups)))
    if k < 2:
        return oof
    rng = np.random.default_rng(seed)
    for tr, te in GroupKFold(n_splits=k).split(X, y, groups):
        if len(np.unique(y[tr])) < 2:
            continue
        idx = _sample(y, tr, rng)
        m = RiskModel(**model.get_params()).fit(X.iloc[idx], y[idx])
        oof[te] = m.predict_proba(X.iloc[te])[:, 1]
    return oof


def _ap(y: np.ndarray, score: np.ndarray) -> float | None:
    return float(average_precision_score(y, score)) if 0 < y.sum() < len(y) else None


def train_models(
    workspace: Workspace,
    out: str | Path,
    folds: int = 5,
    seed: int = 0,
    transactions: bool = True,
    n_estimators: int = 400,
) -> dict:
    """Fit the models on ``workspace``'s truth, save them to ``out``, and return the CV figures.

    The report has the cross-validated account AP of the score the pipeline writes (the account
    model alone, or rolled up from the transaction model when one is trained), the account model's
    own figure, the transaction AP over every transaction, and the floor (LightGBM on the 13 flow
    features), all split by community.
    """
    manifest = RunManifest(stage="train", options={"out": str(out), "folds": folds, "seed": seed})
    with make_engine("duckdb", workspace, include_truth=True) as eng:
        feats = compute_account_features(eng, seed=seed, write=False)
        X = feats[FEATURES]
        y = account_labels(eng, feats["account_id"])
        groups = feats["community_id"].to_numpy()
        base = RiskModel(n_estimators=n_estimators, random_state=seed)
        oof = group_oof(base, X, y, groups, folds)
        floor = group_oof(base, feats[FLOW_FEATURES], y, groups, folds)
        report: dict = {
            "accounts": int(len(y)),
            "positives": int(y.sum()),
            "cv_account_average_precision": _ap(y, oof),
            "cv_account_model_average_precision": _ap(y, oof),
            "cv_floor_account_average_precision": _ap(y, floor),
        }
        account_model = RiskModel(n_estimators=n_estimators, random_state=seed).fit(X, y)
        models = {"account": account_model}
        if transactions:
            coded = feats.drop(columns=["account_id"]).rename(columns={"account_code": "account_id"})
            eng.register_arrow(CODED_FEATURES, pa.Table.from_pandas(coded, preserve_index=False))
            tf = eng.query(
                txn_features_sql(TXNS, coded_accounts_relation(), CODED_FEATURES, SIGNALS),
                label="transaction features",
            ).to_pandas()
            labels = eng.query(
                f"SELECT t.txn_id, COALESCE(l.is_laundering, false) AS y FROM {TXNS} t "
                "LEFT JOIN truth_transaction_labels l ON l.txn_id = t.txn_key ORDER BY t.txn_id",
                label="transaction labels",
            ).to_pandas()
            tf["y"] = labels["y"].to_numpy()
            # Endpoint scores come from out-of-fold predictions so the transaction model learns
            # from account scores as noisy as the ones it will see on new data.
            codes = feats["account_code"].to_numpy()
            src, dst = tf["src_account_id"].to_numpy(), tf["dst_account_id"].to_numpy()
            n_codes = int(max(codes.max(initial=0), src.max(initial=0), dst.max(initial=0))) + 1
            oof_of = np.zeros(n_codes)
            oof_of[codes] = oof
            tf["src_account_score"] = oof_of[src]
            tf["dst_account_score"] = oof_of[dst]
            yt = tf["y"].astype(int).to_numpy()
            comm = np.full(n_codes, -1, dtype=np.int64)
            comm[codes] = feats["community_id"].to_numpy()
            tgroups = comm[src]
            Xt = tf[TXN_FEATURES + ENDPOINT_FEATURES]
            if 0 < yt.sum() < len(yt):
                tbase = RiskModel(n_estimators=n_estimators, random_state=seed)
                toof = sampled_group_oof(tbase, Xt, yt, tgroups, folds, seed)
                best = riskiest_transaction(
                    feats["account_code"], tf["src_account_id"], tf["dst_account_id"], toof
                )
                rolled = roll_up(toof, best, oof)
                report["cv_account_average_precision"] = _ap(y, rolled)
                report["transactions"] = int(len(yt))
                report["transaction_positives"] = int(yt.sum())
                report["cv_transaction_average_precision"] = _ap(yt, toof)
                idx = _sample(yt, np.arange(len(yt)), np.random.default_rng(seed))
                models["transaction"] = RiskModel(n_estimators=n_estimators, random_state=seed).fit(
                    Xt.iloc[idx], yt[idx]
                )
    meta = {"trained_on": str(workspace.root.name), "cv": report, "features": FEATURES}
    save_models(out, models, metadata=meta)
    manifest.outputs = {"model": 1}
    manifest.counts = {k: v for k, v in report.items() if isinstance(v, int)}
    workspace.ensure().write_manifest(manifest.finish())
    return report
