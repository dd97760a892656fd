"""Cost of scoring: features, scores and leads for a synthetic world of N transactions on DuckDB.

The world is a random payment graph (seeded) with a few injected fan-in/fan-out and chain schemes,
written straight as canonical tables; the benchmark times ``score_workspace`` end to end.

    python bench/score.py --rows 10000000          # the target: under 3 minutes on 2 cores
    python bench/score.py --rows 500000 --no-record # a quick run while developing
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from _results import peak_rss_gib, record  # noqa: E402
from moneytrail.engine import make_engine  # noqa: E402
from moneytrail.schema import table  # noqa: E402
from moneytrail.score.pipeline import score_workspace  # noqa: E402
from moneytrail.workspace import Workspace  # noqa: E402


def _frame(name: str, cols: dict) -> pa.Table:
    schema = table(name).arrow_schema()
    n = len(next(iter(cols.values())))
    arrays = [pa.array(cols[f.name]).cast(f.type) if f.name in cols else pa.nulls(n, f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def _ids(prefix: str, n: int, width: int) -> pa.Array:
    """``prefix`` followed by 0..n-1 zero-padded to ``width`` digits, built in Arrow (not Python)."""
    digits = pc.utf8_lpad(pa.array(np.arange(n, dtype=np.int64)).cast(pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _choose(mask: np.ndarray, yes: str, no: str) -> pa.Array:
    """``yes`` where ``mask`` else ``no``, as an Arrow string array."""
    return pa.DictionaryArray.from_arrays(pa.array(np.where(mask, 0, 1).astype(np.int8)), [yes, no]).cast(
        pa.string()
    )


def make_world(ws: Workspace, rows: int, seed: int) -> None:
    """A seeded world: accounts with heavy-tailed activity, repeat payees, and injected schemes."""
    rng = np.random.default_rng(seed)
    n_acc = max(1000, rows // 20)
    ids = _ids("A", n_acc, 8)
    ws.write(
        "accounts",
        _frame(
            "accounts",
            {
                "account_id": ids,
                "holder_party_id": _ids("P", (n_acc + 1) // 2, 8).take(np.arange(n_acc) // 2),
                "country": _choose(rng.random(n_acc) < 0.9, "CA", "CN"),
                "currency": pa.repeat("CAD", n_acc),
                "source": pa.repeat("bench", n_acc),
                "source_id": ids,
            },
        ),
    )
    activity = rng.pareto(1.5, n_acc) + 1
    src = rng.choice(n_acc, rows, p=activity / activity.sum())
    # Most payments go to one of a few usual payees (repeated relations); some to anyone.
    usual = (src * 7919 + rng.integers(0, 5, rows)) % n_acc
    anyone = rng.integers(0, n_acc, rows)
    dst = np.where(rng.random(rows) < 0.8, usual, anyone)
    dst = np.where(dst == src, (dst + 1) % n_acc, dst)
    ts = np.datetime64("2024-01-01") + rng.integers(0, 365 * 24 * 3600, rows).astype("timedelta64[s]")
    amount = np.round(rng.lognormal(5.5, 1.2, rows), 2)
    txn_ids = _ids("T", rows, 10)
    ws.write(
        "transactions",
        _frame(
            "transactions",
            {
                "txn_id": txn_ids,
                "ts": ts.astype("datetime64[us]"),
                "src_account_id": ids.take(src),
                "dst_account_id": ids.take(dst),
                "amount": amount,
                "currency": pa.repeat("CAD", rows),
                "amount_cad": amount,
                "channel": _choose(rng.random(rows) < 0.1, "cash", "eft"),
                "source": pa.repeat("bench", rows),
                "source_id": txn_ids,
            },
        ),
    )


def cpu_seconds() -> float:
    """User+sys CPU time of this process (all threads) and of its finished child processes (the
    graph-features worker)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="moneytrail-bench-score-") as d:
        ws = Workspace(Path(d) / "ws").ensure()
        t0 = time.perf_counter()
        make_world(ws, args.rows, args.seed)
        gen = time.perf_counter() - t0
        t0, c0 = time.perf_counter(), cpu_seconds()
        with make_engine("duckdb", ws, threads=args.threads) as eng:
            result = score_workspace(eng, ws, progress=True)
        total, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in result["durations_s"].items())
    lines = [
        f"Features, scores and leads for {args.rows:,} transactions ({result['accounts']:,} accounts) on DuckDB, "
        f"{args.threads} threads: **{total:.1f} s** wall, {cpu:.1f} s CPU (user+sys, all threads and the "
        "graph worker process) "
        "(target: under 180 s at 10,000,000).",
        "",
        f"Steps (wall): {steps}. Load average at the end: {os.getloadavg()[0]:.1f}. World generation {gen:.1f} s (not counted). Peak memory {peak_rss_gib():.1f} GiB. "
        f"{result['leads']:,} leads, {result['accounts_alerted']:,} accounts alerted.",
    ]
    if args.no_record:
        print("\n".join(lines))
    else:
        record("Scoring cost (bench/score.py)", lines)


if __name__ == "__main__":
    main()
