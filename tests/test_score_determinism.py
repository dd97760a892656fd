"""Scoring is deterministic: the same workspace scored twice gives byte-identical tables.

A parallel engine combines partial aggregates in a varying order; this world is large enough that
DuckDB, on four threads, really splits the work, with amounts in several currencies (converted
amounts are not whole cents) and fractional detector severities.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from moneytrail.engine import make_engine
from moneytrail.score.features import mean_std_sql, moments_sql
from moneytrail.score.pipeline import score_workspace
from moneytrail.workspace import Workspace
from tests.utils.detect_worlds import conform

pytestmark = pytest.mark.duckdb

SCORE_TABLES = ["account_features", "account_scores", "party_scores", "transaction_scores", "leads"]


def _write(ws: Workspace, name: str, key: str, columns: dict) -> None:
    """Write canonical table ``name``; source rows are traced to a test source by their ``key``."""
    data = pa.table(columns)
    if name != "detector_hits":
        data = data.append_column("source", pa.array(["test"] * data.num_rows))
        data = data.append_column("source_id", data.column(key))
    ws.write(name, conform(name, data))


def _random_world(ws: Workspace, seed: int = 7, n_accounts: int = 3000, n_txns: int = 100_000) -> None:
    """A seeded random world: accounts held in pairs, skewed payment flows and detector hits."""
    rng = np.random.default_rng(seed)
    acc_ids = np.array([f"A{i:05d}" for i in range(n_accounts)])
    party_ids = np.array([f"P{i:05d}" for i in range(n_accounts // 2)])
    _write(ws, "parties", "party_id", {"party_id": party_ids, "kind": ["person"] * len(party_ids)})
    _write(
        ws,
        "accounts",
        "account_id",
        {
            "account_id": acc_ids,
            "holder_party_id": party_ids[np.arange(n_accounts) // 2],
            "institution_type": ["bank"] * n_accounts,
            "currency": ["CAD"] * n_accounts,
            "country": ["CA"] * n_accounts,
        },
    )
    # Busy hubs and quiet accounts, so some accounts aggregate many rows across threads.
    weight = 1.0 / np.arange(1, n_accounts + 1) ** 0.8
    weight /= weight.sum()
    src = rng.choice(n_accounts, n_txns, p=weight)
    dst = rng.choice(n_accounts, n_txns, p=np.roll(weight, 7))
    dst = np.where(dst == src, (dst + 1) % n_accounts, dst)
    amount = np.round(rng.lognormal(7.0, 1.5, n_txns), 2)
    usd = rng.random(n_txns) < 0.3
    t0 = dt.datetime(2024, 1, 1)
    ts = np.datetime64(t0) + rng.integers(0, 90 * 86400, n_txns).astype("timedelta64[s]")
    txn_ids = np.array([f"T{i:07d}" for i in range(n_txns)])
    _write(
        ws,
        "transactions",
        "txn_id",
        {
            "txn_id": txn_ids,
            "ts": ts,
            "src_account_id": acc_ids[src],
            "dst_account_id": acc_ids[dst],
            "amount": amount,
            "currency": np.where(usd, "USD", "CAD"),
            "amount_cad": np.where(usd, amount * 1.3587, amount),
            "channel": rng.choice(["eft", "wire", "cash"], n_txns),
        },
    )
    n_hits = 600
    on_txn = rng.random(n_hits) < 0.5
    _write(
        ws,
        "detector_hits",
        "hit_id",
        {
            "hit_id": [f"H{i:04d}" for i in range(n_hits)],
            "detector_id": rng.choice(["fan_in", "structuring", "round_trip"], n_hits),
            "indicator_ids": rng.choice(["S1", "U2;G1", "C3", "G2;R1"], n_hits),
            "entity_kind": np.where(on_txn, "transaction", "account"),
            "entity_id": np.where(
                on_txn, rng.choice(txn_ids, n_hits), rng.choice(acc_ids[: n_accounts // 3], n_hits)
            ),
            "severity": rng.random(n_hits),
        },
    )


def _score_bytes(ws: Workspace) -> dict[str, bytes]:
    with make_engine("duckdb", ws, threads=4) as eng:
        score_workspace(eng, ws, progress=False)
    return {name: ws.path(name).read_bytes() for name in SCORE_TABLES}


def test_scoring_twice_gives_byte_identical_tables(tmp_path):
    ws = Workspace(tmp_path / "ws")
    _random_world(ws)
    first = _score_bytes(ws)
    second = _score_bytes(ws)
    assert ws.read("account_scores").num_rows == 3000
    changed = [name for name in SCORE_TABLES if first[name] != second[name]]
    assert changed == [], f"scoring the same workspace twice changed {changed}"


def test_exact_moments_match_numpy_and_ignore_row_order():
    rng = np.random.default_rng(3)
    cents = rng.integers(1, 10**9, 5000)
    m, s = mean_std_sql("x", 100.0)
    sql = f"SELECT {m} AS mean, {s} AS std FROM (SELECT {moments_sql('c', 'x')} FROM t) AS q"
    con = duckdb.connect()
    results = []
    for order in (cents, cents[::-1], rng.permutation(cents)):
        con.register("t", pa.table({"c": order}))
        results.append(con.execute(sql).fetchall()[0])
    assert results[0] == results[1] == results[2]
    assert results[0][0] == pytest.approx(cents.mean() / 100, rel=1e-12)
    assert results[0][1] == pytest.approx(cents.std() / 100, rel=1e-9)
    con.register("t", pa.table({"c": np.full(10, 123_456)}))
    assert con.execute(sql).fetchall()[0] == (1234.56, 0.0)
    con.close()
