"""The scoring stage: features -> account, party and transaction scores -> leads, with explanations.

``score_workspace`` is the one entry point; ``moneytrail detect`` calls it after writing
``detector_hits`` and ``moneytrail score`` calls it alone. It never reads truth.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from moneytrail.engine import Engine
from moneytrail.schema import table
from moneytrail.score.explain import (
    account_reason,
    contributions_json,
    rolled_contributions,
    top_contributions,
)
from moneytrail.score.features import edges_sql
from moneytrail.score.featurize import FEATURES, compute_account_features, hits_relation_sql
from moneytrail.score.hits import account_typologies_sql
from moneytrail.score.leads import LEAD_RATE, build_leads
from moneytrail.score.model import load_models, riskiest_transaction, roll_up
from moneytrail.score.txn_features import ENDPOINT_FEATURES, TXN_FEATURES, txn_features_sql
from moneytrail.score.unsupervised import UnsupervisedScorer, alert_mask
from moneytrail.workspace import RunManifest, Workspace

# The documented operating point: at most 1% of accounts (and of transactions) alert.
ALERT_RATE = 0.01


def _progress(enabled: bool):
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("[bold]score[/] {task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not enabled,
        transient=False,
    )


def account_scores_frame(
    features: pd.DataFrame, model_path: str | Path | None
) -> tuple[np.ndarray, pd.DataFrame, dict]:
    """Scores and per-feature contributions for each account, supervised when a model is given."""
    X = features[FEATURES]
    info: dict = {}
    if model_path is not None:
        models, meta = load_models(model_path)
        m = models["account"]
        scores = m.predict_proba(X)[:, 1]
        contrib = m.contributions(X)
        info = {
            "mode": "model",
            "model": str(model_path),
            "missing_features": m.missing_features_,
            "metadata": meta,
        }
        info["models"] = models
    else:
        u = UnsupervisedScorer().fit(X)
        scores = u.score_samples(X)
        contrib = u.contributions(X)
        info = {"mode": "unsupervised"}
    return np.asarray(scores, dtype=float), contrib, info


def transaction_score_frame(tf: pd.DataFrame, models: dict | None) -> np.ndarray:
    """Transaction scores: the transaction model when trained, else both accounts' risk and novelty."""
    if models and "transaction" in models:
        return models["transaction"].predict_proba(tf[TXN_FEATURES + ENDPOINT_FEATURES])[:, 1]
    src = tf["src_account_score"].to_numpy(float)
    dst = tf["dst_account_score"].to_numpy(float)
    # A payment between two risky accounts outranks one touching a single risky account; a one-off
    # payment outranks a routine one between the same pair, and one that breaks the payer's rhythm
    # or is passed straight on (a layering hop) outranks one that does not.
    novelty = 1.0 / np.sqrt(np.maximum(tf["pair_n"].to_numpy(float), 1.0))
    oneoff_off = (tf["pair_n"].to_numpy(float) <= 1) * tf["src_off_schedule"].to_numpy(float)
    hop = np.maximum(tf["forwarded"].to_numpy(float), tf["fed"].to_numpy(float))
    routine_break = 1.0 + oneoff_off + hop
    return (np.sqrt(src * dst) + 0.1 * np.maximum(src, dst)) * novelty * routine_break


def score_workspace(
    engine: Engine,
    workspace: Workspace,
    model_path: str | Path | None = None,
    progress: bool = True,
    alert_rate: float = ALERT_RATE,
    lead_rate: float = LEAD_RATE,
    seed: int = 0,
) -> dict:
    """Compute features, scores, leads and explanations; write the result tables; return counts.

    Writes ``account_features``, ``account_scores``, ``party_scores``, ``transaction_scores`` and
    ``leads``. With ``model_path`` the trained LightGBM models score (SHAP contributions explain);
    without it the unsupervised scorer does (its terms explain).
    """
    manifest = RunManifest(
        stage="score", options={"model": str(model_path) if model_path else None, "alert_rate": alert_rate}
    )
    durations: dict[str, float] = {}
    with _progress(progress) as bar:
        task = bar.add_task("features", total=6)
        t0 = time.perf_counter()
        features = compute_account_features(engine, seed=seed)
        durations["features"] = time.perf_counter() - t0

        bar.update(task, advance=1, description="account scores")
        t0 = time.perf_counter()
        scores, contrib, info = account_scores_frame(features, model_path)
        models = info.pop("models", None)
        durations["account_model"] = time.perf_counter() - t0

        bar.update(task, advance=1, description="transaction scores")
        t0 = time.perf_counter()
        tf = engine.query(txn_features_sql(), label="transaction features").to_pandas()
        score_of = dict(zip(features["account_id"], scores, strict=True))
        src_dst = engine.query(
            "SELECT txn_id, src_account_id, dst_account_id FROM transactions ORDER BY txn_id",
            label="txn ends",
        ).to_pandas()
        tf = tf.merge(src_dst, on="txn_id", how="left")
        tf["src_account_score"] = tf["src_account_id"].map(score_of).fillna(0.0)
        tf["dst_account_score"] = tf["dst_account_id"].map(score_of).fillna(0.0)
        tscore = transaction_score_frame(tf, models)
        talert = alert_mask(tscore, tf["txn_id"].to_numpy(), alert_rate)
        if models and "transaction" in models:
            # A trained transaction model: the account's riskiest payment carries its score.
            best = riskiest_transaction(
                features["account_id"], tf["src_account_id"], tf["dst_account_id"], tscore
            )
            scores = roll_up(tscore, best, scores)
            contrib = rolled_contributions(contrib, models["transaction"], tf, best)
        # Evidence for each account: its hits' transactions, else its highest-scoring transactions.
        tx_rank = pd.DataFrame({"txn_id": tf["txn_id"], "score": tscore})
        ends = pd.concat(
            [
                tx_rank.assign(account_id=tf["src_account_id"].to_numpy()),
                tx_rank.assign(account_id=tf["dst_account_id"].to_numpy()),
            ]
        ).sort_values(["account_id", "score", "txn_id"], ascending=[True, False, True])
        ends = ends[ends.groupby("account_id", sort=False).cumcount() < 3]
        best_txns = ends.groupby("account_id", sort=False)["txn_id"].agg(";".join)
        durations["transaction_scores"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        acc = engine.query(
            "SELECT account_id, holder_party_id FROM accounts ORDER BY account_id", label="accounts"
        ).to_pandas()
        typ = engine.query(
            f"WITH account_hits AS ({hits_relation_sql(engine)}) {account_typologies_sql('account_hits')}",
            label="account typologies",
        ).to_pandas()
        df = features[["account_id"]].copy()
        df["score"] = scores
        df["alert"] = alert_mask(scores, df["account_id"].to_numpy(), alert_rate)
        df = df.merge(acc, on="account_id", how="left").merge(typ, on="account_id", how="left")
        top = top_contributions(contrib.reset_index(drop=True))
        durations["account_scores"] = time.perf_counter() - t0

        bar.update(task, advance=1, description="leads")
        t0 = time.perf_counter()
        edges = engine.query(edges_sql(), label="lead edges").to_pandas()
        leads, lead_of = build_leads(engine, df, edges, top, lead_rate=lead_rate)
        durations["leads"] = time.perf_counter() - t0

        bar.update(task, advance=1, description="writing")
        t0 = time.perf_counter()
        lead_ids = df["account_id"].map(lead_of)
        evidence = df["evidence"].where(
            df["evidence"].notna() & (df["evidence"] != ""), df["account_id"].map(best_txns)
        )
        reasons = [
            account_reason(s, t, ty if isinstance(ty, str) else None, lid if isinstance(lid, str) else None)
            for s, t, ty, lid in zip(df["score"], top, df["typologies"], lead_ids, strict=True)
        ]
        account_scores = pd.DataFrame(
            {
                "account_id": df["account_id"],
                "score": df["score"].astype(float),
                "alert": df["alert"].astype(bool),
                "typologies": df["typologies"],
                "reason": reasons,
                "contributions": [contributions_json(t) for t in top],
                "evidence_txn_ids": evidence,
                "lead_id": lead_ids,
            }
        )
        _write(engine, "account_scores", account_scores)

        parties = _party_scores(df.assign(reason=reasons))
        parties["alert"] = alert_mask(parties["score"].to_numpy(), parties["party_id"].to_numpy(), alert_rate)
        parties["reason"] = "accounts " + parties["accounts"] + "; best: " + parties["reason"]
        _write(engine, "party_scores", parties)

        txn_reason = (
            "payer risk "
            + tf["src_account_score"].round(3).astype(str)
            + ", payee risk "
            + tf["dst_account_score"].round(3).astype(str)
            + ", pair seen "
            + tf["pair_n"].astype(int).astype(str)
            + "x"
        )
        txn_scores = pd.DataFrame(
            {"txn_id": tf["txn_id"], "score": tscore.astype(float), "alert": talert, "reason": txn_reason}
        )
        _write(engine, "transaction_scores", txn_scores)
        _write(engine, "leads", leads)
        durations["write"] = time.perf_counter() - t0
        bar.update(task, advance=1, description="done")

    counts = {
        "accounts": len(account_scores),
        "accounts_alerted": int(account_scores["alert"].sum()),
        "parties": len(parties),
        "transactions": len(txn_scores),
        "transactions_alerted": int(txn_scores["alert"].sum()),
        "leads": len(leads),
    }
    manifest.outputs = {
        "account_features": len(features),
        "account_scores": counts["accounts"],
        "party_scores": counts["parties"],
        "transaction_scores": counts["transactions"],
        "leads": counts["leads"],
    }
    manifest.counts = counts
    manifest.durations_s = durations
    manifest.options["mode"] = info["mode"]
    workspace.write_manifest(manifest.finish())
    return {**counts, **info, "durations_s": {k: round(v, 3) for k, v in durations.items()}}


def _party_scores(df: pd.DataFrame) -> pd.DataFrame:
    """Party score = its riskiest account's; typologies = the union over its accounts."""
    d = df.dropna(subset=["holder_party_id"]).sort_values(
        ["holder_party_id", "score", "account_id"], ascending=[True, False, True]
    )
    best = d.drop_duplicates("holder_party_id")[["holder_party_id", "score", "reason"]]
    accounts = d.groupby("holder_party_id", sort=True)["account_id"].agg(";".join).rename("accounts")
    typ = d[["holder_party_id", "typologies"]].dropna()
    typ = typ.assign(t=typ["typologies"].str.split(";")).explode("t")
    typ = typ[typ["t"] != ""].drop_duplicates(["holder_party_id", "t"]).sort_values(["holder_party_id", "t"])
    typ = typ.groupby("holder_party_id")["t"].agg(";".join).rename("typologies")
    out = best.set_index("holder_party_id").join(accounts).join(typ).reset_index()
    return out.rename(columns={"holder_party_id": "party_id"}).sort_values("party_id").reset_index(drop=True)


def _write(engine: Engine, name: str, frame: pd.DataFrame) -> int:
    """Write ``frame`` as result table ``name`` with exactly the declared columns and types."""
    schema = table(name).arrow_schema()
    cols = {}
    for field in schema:
        if field.name in frame:
            s = frame[field.name]
            cols[field.name] = pa.array(s.astype(object).where(s.notna(), None).tolist(), type=field.type)
        else:
            cols[field.name] = pa.nulls(len(frame), type=field.type)
    return engine.write_arrow(name, pa.table(cols, schema=schema))
