"""Assemble the ``account_features`` table: tabular SQL features, detector hits and graph features."""

from __future__ import annotations

import pandas as pd

from moneytrail.engine import Engine
from moneytrail.score.features import TABULAR_FEATURES, account_tabular_features_sql, edges_sql
from moneytrail.score.graph import GRAPH_FEATURES, graph_features
from moneytrail.score.hits import HIT_FEATURES, account_hits_sql, hit_features_sql
from moneytrail.score.signals import SIGNAL_FEATURES, account_signal_features_sql, txn_signals_sql

FEATURES = TABULAR_FEATURES + SIGNAL_FEATURES + HIT_FEATURES + GRAPH_FEATURES


def empty_hits_sql() -> str:
    """An empty relation shaped like :func:`moneytrail.score.hits.account_hits_sql`'s result."""
    return (
        "SELECT CAST(NULL AS VARCHAR) AS account_id, CAST(NULL AS VARCHAR) AS hit_id, "
        "CAST(NULL AS VARCHAR) AS detector_id, CAST(NULL AS VARCHAR) AS indicator, "
        "CAST(NULL AS DOUBLE) AS severity, CAST(NULL AS VARCHAR) AS evidence_txn_ids WHERE 1 = 0"
    )


def hits_relation_sql(engine: Engine) -> str:
    """The per-account hits relation, or an empty one when detection has not run."""
    if engine.has_table("detector_hits"):
        return account_hits_sql()
    return empty_hits_sql()


def _components(engine: Engine) -> dict[str, str] | None:
    """Connected components from the engine, when it offers them (smallest node id per component)."""
    cc = getattr(engine, "connected_components", None)
    if cc is None:
        return None
    sql = (
        "SELECT src_account_id AS src, dst_account_id AS dst FROM transactions "
        "WHERE src_account_id <> dst_account_id GROUP BY src_account_id, dst_account_id"
    )
    try:
        res = cc(sql)
    except NotImplementedError:
        return None
    if res is None:
        return None
    df = res.to_pandas() if hasattr(res, "to_pandas") else pd.DataFrame(res)
    if df.shape[1] < 2:
        return None
    return dict(zip(df.iloc[:, 0].astype(str), df.iloc[:, 1].astype(str), strict=False))


def compute_account_features(engine: Engine, seed: int = 0, write: bool = True) -> pd.DataFrame:
    """Compute every account feature; write them as ``account_features`` and return them.

    Truth tables are never read. The result has ``account_id``, :data:`FEATURES` and the
    ``community_id`` used to group accounts into leads. The per-transaction signals are left
    registered as ``txn_signals`` for the transaction features.
    """
    tab = engine.query(account_tabular_features_sql(), label="account tabular features").to_pandas()
    engine.register_arrow("txn_signals", engine.query(txn_signals_sql(), label="transaction signals"))
    sig = engine.query(account_signal_features_sql("txn_signals"), label="account signal features")
    tab = tab.merge(sig.to_pandas(), on="account_id", how="left")
    hits_sql = hits_relation_sql(engine)
    hits = engine.query(
        f"WITH account_hits AS ({hits_sql}) {hit_features_sql('account_hits')}", label="account hit features"
    ).to_pandas()
    df = tab.merge(hits, on="account_id", how="left")
    for f in HIT_FEATURES:
        df[f] = df[f].fillna(0.0).astype(float)
    edges = engine.query(edges_sql(), label="graph edges").to_pandas()
    seeds = dict(zip(df["account_id"], df["hit_score"], strict=True))
    gf = graph_features(
        df["account_id"].tolist(), edges, seeds=seeds, components=_components(engine), seed=seed
    )
    df = df.merge(gf, on="account_id", how="left")
    df = df[["account_id", *FEATURES, "community_id"]].sort_values("account_id", kind="stable")
    df = df.reset_index(drop=True)
    for f in FEATURES:
        df[f] = df[f].astype(float).fillna(0.0)
    df["community_id"] = df["community_id"].fillna(-1).astype("int64")
    if write:
        import pyarrow as pa

        engine.write_arrow("account_features", pa.Table.from_pandas(df, preserve_index=False))
    return df
