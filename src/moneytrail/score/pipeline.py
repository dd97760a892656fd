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
from moneytrail.score.featurize import (
    ACCOUNTS,
    EDGES,
    FEATURES,
    SIGNALS,
    TXNS,
    coded_accounts_relation,
    compute_account_features,
    hits_relation_sql,
)
from moneytrail.score.hits import account_typologies_sql
from moneytrail.score.leads import LEAD_RATE, build_leads
from moneytrail.score.model import load_models, riskiest_transaction, roll_up
from moneytrail.score.txn_features import ENDPOINT_FEATURES, TXN_FEATURES, txn_features_sql
from moneytrail.score.unsupervised import UnsupervisedScorer, alert_mask
from moneytrail.workspace import RunManifest, Workspace

# Registered relations: per-transaction results, coded account features, scored accounts.
RESULTS, CODED_FEATURES, SCORED_ACCOUNTS = "score_txn_results", "score_account_features", "scored_accounts"

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
        codes = features["account_code"].to_numpy()
        score_of = np.zeros(int(engine.scalar(f"SELECT MAX(code) FROM {ACCOUNTS}") or 0) + 1)
        score_of[codes] = scores
        tf = _transaction_frame(engine, features, models)
        src, dst = tf["src_account_id"].to_numpy(), tf["dst_account_id"].to_numpy()
        tf["src_account_score"] = score_of[src]
        tf["dst_account_score"] = score_of[dst]
        tscore = transaction_score_frame(tf, models)
        talert = alert_mask(tscore, tf["txn_id"].to_numpy(), alert_rate)
        if models and "transaction" in models:
            # A trained transaction model: the account's riskiest payment carries its score.
            best = riskiest_transaction(
                features["account_code"], tf["src_account_id"], tf["dst_account_id"], tscore
            )
            scores = roll_up(tscore, best, scores)
            contrib = rolled_contributions(contrib, models["transaction"], tf, best)
        results = pa.table(
            {
                "txn_id": tf["txn_id"].to_numpy(),
                "src": src,
                "dst": dst,
                "score": np.asarray(tscore, dtype=float),
                "alert": talert,
                "src_score": tf["src_account_score"].to_numpy(float),
                "dst_score": tf["dst_account_score"].to_numpy(float),
                "pair_n": tf["pair_n"].to_numpy(np.int64),
            }
        )
        del tf
        engine.register_arrow(RESULTS, results)
        # Evidence for each account: its hits' transactions, else its highest-scoring transactions.
        ev = engine.query(best_transactions_sql(RESULTS, TXNS), label="best transactions").to_pandas()
        best_txns = pd.Series(ev["evidence"].to_numpy(), index=ev["code"].to_numpy())
        durations["transaction_scores"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        holders = engine.query(
            f"SELECT holder_party_id FROM {ACCOUNTS} WHERE known ORDER BY code", label="account holders"
        ).column(0)
        typ = engine.query(
            f"WITH account_hits AS ({hits_relation_sql(engine)}) {account_typologies_sql('account_hits')}",
            label="account typologies",
        ).to_pandas()
        df = features[["account_id"]].copy()
        df["score"] = scores
        df["alert"] = alert_mask(scores, codes, alert_rate)  # codes run in account id order
        df["holder_party_id"] = holders.to_numpy(zero_copy_only=False)
        df = df.merge(typ, on="account_id", how="left")
        top = top_contributions(contrib.reset_index(drop=True))
        durations["account_scores"] = time.perf_counter() - t0

        bar.update(task, advance=1, description="leads")
        t0 = time.perf_counter()
        # The money flows as rows of df (codes to rows; -1: an account outside `accounts`).
        row_of = np.full(len(score_of), -1, dtype=np.int64)
        row_of[codes] = np.arange(len(codes))
        flows = engine.query(f"SELECT src, dst FROM {EDGES}", label="lead edges")
        edges = {c: row_of[flows.column(c).to_numpy()] for c in ("src", "dst")}
        leads, lead_of = build_leads(engine, df, edges, top, lead_rate=lead_rate)
        durations["leads"] = time.perf_counter() - t0

        bar.update(task, advance=1, description="writing")
        t0 = time.perf_counter()
        lead_ids = df["account_id"].map(lead_of)
        evidence = df["evidence"].where(
            df["evidence"].notna() & (df["evidence"] != ""), features["account_code"].map(best_txns)
        )
        reasons = [
            account_reason(s, t, ty if isinstance(ty, str) else None, lid if isinstance(lid, str) else None)
            for s, t, ty, lid in zip(
                df["score"].to_numpy(float),
                top,
                df["typologies"].to_numpy(object),
                lead_ids.to_numpy(object),
                strict=True,
            )
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

        scored = df[["account_id", "holder_party_id", "score", "typologies"]].assign(reason=reasons)
        engine.register_arrow(
            SCORED_ACCOUNTS,
            pa.table({c: pa.array(scored[c], from_pandas=True) for c in scored.columns}),
        )
        parties = engine.query(party_scores_sql(SCORED_ACCOUNTS), label="party scores").to_pandas()
        parties["alert"] = alert_mask(parties["score"].to_numpy(), np.arange(len(parties)), alert_rate)
        _write(engine, "party_scores", parties)

        txn_scores = transaction_scores_table(engine, results)
        engine.write_arrow("transaction_scores", txn_scores)
        _write(engine, "leads", leads)
        durations["write"] = time.perf_counter() - t0
        bar.update(task, advance=1, description="done")

    counts = {
        "accounts": len(account_scores),
        "accounts_alerted": int(account_scores["alert"].sum()),
        "parties": len(parties),
        "transactions": txn_scores.num_rows,
        "transactions_alerted": int(talert.sum()),
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


def party_scores_sql(scored_accounts: str) -> str:
    """Party scores from scored accounts, ordered by party id.

    A party's score is its riskiest account's (ties: the first account id), its reason lists its
    accounts (riskiest first) and that account's reason, its typologies the union over its accounts.
    """
    return f"""
WITH d AS (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY holder_party_id ORDER BY score DESC, account_id) AS rn
  FROM {scored_accounts} WHERE holder_party_id IS NOT NULL
), accs AS (
  SELECT holder_party_id, string_agg(account_id, ';' ORDER BY rn) AS accounts FROM d GROUP BY holder_party_id
), typ AS (
  SELECT holder_party_id, string_agg(DISTINCT t, ';' ORDER BY t) AS typologies FROM (
    SELECT d.holder_party_id, TRIM(x.t) AS t FROM d, UNNEST(string_split(d.typologies, ';')) AS x(t)
  ) AS s WHERE t <> '' GROUP BY holder_party_id
)
SELECT d.holder_party_id AS party_id, d.score, accs.accounts, typ.typologies,
  'accounts ' || accs.accounts || '; best: ' || d.reason AS reason
FROM d JOIN accs ON accs.holder_party_id = d.holder_party_id
LEFT JOIN typ ON typ.holder_party_id = d.holder_party_id
WHERE d.rn = 1 ORDER BY party_id"""


def _write(engine: Engine, name: str, frame: pd.DataFrame) -> int:
    """Write ``frame`` as result table ``name`` with exactly the declared columns and types."""
    schema = table(name).arrow_schema()
    cols = {}
    for field in schema:
        if field.name in frame:
            s = frame[field.name]
            if s.dtype == object:
                s = s.where(s.notna(), None)
            cols[field.name] = pa.array(s, type=field.type, from_pandas=True)
        else:
            cols[field.name] = pa.nulls(len(frame), type=field.type)
    return engine.write_arrow(name, pa.table(cols, schema=schema))


def _transaction_frame(engine: Engine, features: pd.DataFrame, models: dict | None) -> pd.DataFrame:
    """What the transaction scores need, in ``txn_id`` order (coded ids, see ``featurize``).

    The trained transaction model needs every transaction feature; the unsupervised score only
    the signals, which the account features already computed.
    """
    if models and "transaction" in models:
        coded = features.drop(columns=["account_id"]).rename(columns={"account_code": "account_id"})
        engine.register_arrow(CODED_FEATURES, pa.Table.from_pandas(coded, preserve_index=False))
        sql = txn_features_sql(TXNS, coded_accounts_relation(), CODED_FEATURES, SIGNALS)
        return engine.query(sql, label="transaction features").to_pandas()
    cols = "txn_id, src_account_id, dst_account_id, pair_n, src_off_schedule, forwarded, fed"
    signals = engine.query(f"SELECT {cols} FROM {SIGNALS}", label="transaction signals fetch")
    return in_txn_order(signals).to_pandas()


def in_txn_order(t: pa.Table) -> pa.Table:
    """``t`` (one row per coded transaction, any order) in ``txn_id`` order: the codes number the
    transactions 1..n, so each row's place is known and no sort is needed."""
    place = t.column("txn_id").to_numpy() - 1
    n = len(place)
    if n == 0 or place.min() < 0 or place.max() >= n:
        return t.sort_by("txn_id")
    order = np.full(n, -1, dtype=np.int64)
    order[place] = np.arange(n, dtype=np.int64)
    if (order < 0).any():  # a repeated id: not a numbering, so sort
        return t.sort_by("txn_id")
    return t.take(order)


def best_transactions_sql(results: str, txns: str, k: int = 3) -> str:
    """Per account code, its ``k`` highest-scoring transactions' ids (';'-joined, best first)."""
    return f"""
WITH ends AS (
  SELECT src AS code, txn_id, score FROM {results}
  UNION ALL SELECT dst, txn_id, score FROM {results}
), ranked AS (
  SELECT code, txn_id, ROW_NUMBER() OVER (PARTITION BY code ORDER BY score DESC, txn_id) AS rn FROM ends
)
SELECT r.code, string_agg(t.txn_key, ';' ORDER BY r.rn) AS evidence
FROM ranked r JOIN {txns} t ON t.txn_id = r.txn_id
WHERE r.rn <= {k} GROUP BY r.code"""


def transaction_scores_table(engine: Engine, results: pa.Table) -> pa.Table:
    """The ``transaction_scores`` rows from ``results`` (registered as :data:`RESULTS`, in
    ``txn_id`` order): source ids, score, alert and a one-line reason."""
    keys = in_txn_order(engine.query(f"SELECT txn_id, txn_key FROM {TXNS}", label="transaction keys"))
    reasons = in_txn_order(engine.query(transaction_reasons_sql(RESULTS), label="transaction reasons"))
    return pa.table(
        {
            "txn_id": keys.column("txn_key"),
            "score": results.column("score"),
            "alert": results.column("alert"),
            "reason": reasons.column("reason"),
        }
    ).cast(table("transaction_scores").arrow_schema())


def transaction_reasons_sql(results: str) -> str:
    """The one-line reason of each transaction of ``results`` (coded ``txn_id``)."""
    return f"""
SELECT txn_id,
  'payer risk ' || CAST(ROUND(src_score, 3) AS VARCHAR) || ', payee risk '
    || CAST(ROUND(dst_score, 3) AS VARCHAR) || ', pair seen ' || CAST(pair_n AS VARCHAR) || 'x' AS reason
FROM {results}"""
