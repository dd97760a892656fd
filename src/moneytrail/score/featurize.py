"""Assemble the ``account_features`` table: tabular SQL features, detector hits and graph features.

Scoring works on compact copies of the canonical tables (:func:`register_scoring_relations`):
accounts and transactions get dense integer codes in id order, so every join and group-by of the
features runs on integers rather than on id strings, and the per-account view of the transactions
(the legs) is built once and shared by every feature query.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from moneytrail.engine import Engine
from moneytrail.score.features import (
    TABULAR_FEATURES,
    account_tabular_features_sql,
    edges_sql,
    legs_sql,
    txn_pairs_sql,
)
from moneytrail.score.graph import GRAPH_FEATURES, graph_features_job
from moneytrail.score.hits import HIT_FEATURES, account_hits_sql, hit_features_sql
from moneytrail.score.signals import SIGNAL_FEATURES, account_signal_features_sql, txn_signals_sql

FEATURES = TABULAR_FEATURES + SIGNAL_FEATURES + HIT_FEATURES + GRAPH_FEATURES

# The compact relations scoring registers (see register_scoring_relations).
ACCOUNTS, TXNS, LEGS, PAIRS, EDGES, SIGNALS = (
    "score_accounts",
    "score_txns",
    "score_legs",
    "score_pairs",
    "score_edges",
    "txn_signals",
)


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


def coded_accounts_sql(transactions: str = "transactions", accounts: str = "accounts") -> str:
    """Every account id (from ``accounts`` and from both ends of ``transactions``) with a dense
    integer ``code`` in id order; ``known`` marks the ones in ``accounts``."""
    return f"""
WITH ids AS (
  SELECT account_id FROM {accounts}
  UNION SELECT src_account_id FROM {transactions}
  UNION SELECT dst_account_id FROM {transactions}
)
SELECT CAST(ROW_NUMBER() OVER (ORDER BY ids.account_id) AS INTEGER) AS code, ids.account_id AS account_key,
  CASE WHEN a.account_id IS NULL THEN FALSE ELSE TRUE END AS known,
  a.holder_party_id, a.country, a.currency
FROM ids LEFT JOIN {accounts} a ON a.account_id = ids.account_id
WHERE ids.account_id IS NOT NULL"""


def coded_transactions_sql(transactions: str = "transactions", coded_accounts: str = ACCOUNTS) -> str:
    """The transactions with integer codes: ``txn_id`` numbers them in id order (the string id is
    kept as ``txn_key``) and the account columns hold account codes. What the legs need of the
    accounts comes along (see :func:`moneytrail.score.features.legs_sql`): ``xborder``, the two
    ends in different countries (the transaction's, else the accounts'), and ``src_foreign`` /
    ``dst_foreign``, a currency other than that account's own."""
    return f"""
SELECT CAST(ROW_NUMBER() OVER (ORDER BY t.txn_id) AS BIGINT) AS txn_id, t.txn_id AS txn_key,
  s.code AS src_account_id, d.code AS dst_account_id, t.ts, t.amount, t.amount_cad, t.currency,
  t.channel, t.country_src, t.country_dst,
  CASE WHEN COALESCE(t.country_src, s.country) <> COALESCE(t.country_dst, d.country) THEN 1 ELSE 0 END
    AS xborder,
  CASE WHEN s.currency IS NOT NULL AND t.currency <> s.currency THEN 1 ELSE 0 END AS src_foreign,
  CASE WHEN d.currency IS NOT NULL AND t.currency <> d.currency THEN 1 ELSE 0 END AS dst_foreign
FROM {transactions} t
JOIN {coded_accounts} s ON s.account_key = t.src_account_id
JOIN {coded_accounts} d ON d.account_key = t.dst_account_id"""


def register_scoring_relations(engine: Engine) -> None:
    """Register the coded accounts and transactions, their legs, their payer-payee pairs and the
    edge list (see module doc).

    The coded accounts are exposed with the canonical column names (``account_id`` is the code)
    so the feature SQL runs on them unchanged.
    """
    engine.register_arrow(ACCOUNTS, engine.query(coded_accounts_sql(), label="account codes"))
    engine.register_arrow(TXNS, engine.query(coded_transactions_sql(), label="transaction codes"))
    # The legs are two projections of the coded transactions: a view (where the engine has views)
    # reads them where needed instead of holding a second, twice as long copy.
    engine.materialize(LEGS, legs_sql(TXNS), label="transaction legs", lazy=True)
    engine.register_arrow(PAIRS, engine.query(txn_pairs_sql(TXNS), label="transaction pairs"))
    engine.register_arrow(EDGES, engine.query(edges_sql(PAIRS), label="graph edges"))


def coded_accounts_relation() -> str:
    """The coded accounts under the canonical column names, for SQL that joins ``accounts``."""
    return f"(SELECT code AS account_id, holder_party_id, country, currency FROM {ACCOUNTS})"


def compute_account_features(engine: Engine, seed: int = 0, write: bool = True) -> pd.DataFrame:
    """Compute every account feature; write them as ``account_features`` and return them.

    Truth tables are never read. The result has ``account_id``, :data:`FEATURES`, the
    ``community_id`` used to group accounts into leads and the account's integer ``account_code``
    (not written). The relations of :func:`register_scoring_relations` and the per-transaction
    signals (``txn_signals``, coded) are left registered for the transaction scores.
    """
    register_scoring_relations(engine)
    keys = engine.query(
        f"SELECT code, account_key FROM {ACCOUNTS} WHERE known ORDER BY code", label="account keys"
    ).to_pandas()
    hits_sql = hits_relation_sql(engine)
    hits = engine.query(
        f"WITH account_hits AS ({hits_sql}) {hit_features_sql('account_hits')}", label="account hit features"
    ).to_pandas()
    hits = keys[["account_key"]].merge(hits, left_on="account_key", right_on="account_id", how="left")
    for f in HIT_FEATURES:
        hits[f] = hits[f].fillna(0.0).astype(float)
    edges = engine.query(f"SELECT src, dst, n, value FROM {EDGES}", label="graph edge list").to_pandas()
    # The graph features (one core) are computed while the engine computes the tabular ones.
    with graph_features_job(
        keys["code"].to_numpy(),
        edges,
        seeds=hits["hit_score"].to_numpy(float),
        ids=keys["account_key"].to_numpy(),
        seed=seed,
    ) as graph_job:
        del edges
        known = f"(SELECT code AS account_id, country, currency FROM {ACCOUNTS} WHERE known)"
        tab = engine.query(
            account_tabular_features_sql(LEGS, known, TXNS, PAIRS), label="account tabular features"
        ).to_pandas()
        engine.register_arrow(
            SIGNALS, engine.query(txn_signals_sql(TXNS, PAIRS), label="transaction signals")
        )
        sig = engine.query(account_signal_features_sql(SIGNALS, PAIRS), label="account signal features")
        tab = tab.merge(sig.to_pandas(), on="account_id", how="left")
        tab = tab.rename(columns={"account_id": "account_code"})
        tab.insert(
            0, "account_id", tab["account_code"].map(pd.Series(keys["account_key"].to_numpy(), keys["code"]))
        )
        df = tab.merge(hits[["account_key", *HIT_FEATURES]], left_on="account_id", right_on="account_key")
        gf = graph_job.result()
    df = df.merge(gf, on="account_id", how="left")
    df = df[["account_id", *FEATURES, "community_id", "account_code"]].sort_values(
        "account_id", kind="stable"
    )
    df = df.reset_index(drop=True)
    for f in FEATURES:
        df[f] = df[f].astype(float).fillna(0.0)
    df["community_id"] = df["community_id"].fillna(-1).astype("int64")
    if write:
        out = df.drop(columns=["account_code"])
        engine.write_arrow("account_features", pa.Table.from_pandas(out, preserve_index=False))
    return df
