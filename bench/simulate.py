"""Simulator throughput: transactions generated and written per second, peak memory, and the ratio
to the I/O floor (writing the same number of random rows of the transactions schema with pyarrow).

    python bench/simulate.py                   # 10 million transactions (the recorded figure)
    python bench/simulate.py --rows 1000000    # a quick run while developing
    python bench/simulate.py --rows 100000000  # the chunked 100 million world

The world is bc-2015 over one year with its scale chosen to give about ``--rows`` transactions.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import Sampler, peak_rss_gib, record  # noqa: E402
from moneytrail.schema import table  # noqa: E402
from moneytrail.simulate import resolve_params, simulate  # noqa: E402
from moneytrail.simulate.columns import coded  # noqa: E402
from moneytrail.simulate.columns import ids as ids_array  # noqa: E402
from moneytrail.simulate.world import _rows_per_day  # noqa: E402
from moneytrail.simulate.writer import writer_options  # noqa: E402


def random_chunk(k: int, seed: int = 0, accounts: int = 60_000) -> pa.Table:
    """``k`` random rows in the transactions schema (ids, accounts, amounts, categories), in the
    same Arrow representation the simulator hands the writer (categories and account ids as
    dictionary arrays), so the floor and the simulator differ only in how the rows are made."""
    rng = np.random.default_rng(seed)
    schema = table("transactions").arrow_schema()
    ids = ids_array("T", np.arange(k), 10)
    amt = rng.lognormal(5, 1.5, k).round(2)
    account_ids = ids_array("A", np.arange(accounts), 8)

    def cat(values, p=None):
        return coded(rng.choice(len(values), k, p=p).astype(np.int32), pa.array(values, pa.string()))

    cols = {
        "txn_id": ids,
        "ts": pa.array(np.sort(rng.integers(1_420_070_400_000_000, 1_451_606_400_000_000, k))).view(
            pa.timestamp("us")
        ),
        "src_account_id": coded(rng.integers(0, accounts, k).astype(np.int32), account_ids),
        "dst_account_id": coded(rng.integers(0, accounts, k).astype(np.int32), account_ids),
        "amount": pa.array(amt),
        "currency": cat(["CAD", "CNY", "USD"], [0.96, 0.03, 0.01]),
        "amount_cad": pa.array(amt),
        "channel": cat(["eft", "cash", "etransfer", "wire", "casino_buy_in"]),
        "cash_denomination": pa.array(np.where(rng.random(k) < 0.2, 20, 0), mask=rng.random(k) < 0.8),
        "country_src": cat(["CA", "CN"], [0.98, 0.02]),
        "country_dst": cat(["CA", "CN"], [0.97, 0.03]),
        "memo": cat(["payroll", "bill payment", "e-transfer", "deposit"]),
        "source": cat(["bank", "casino", "msb"], [0.9, 0.08, 0.02]),
        "source_id": ids,
    }
    arrays = [
        cols[f.name] if pa.types.is_dictionary(cols[f.name].type) else cols[f.name].cast(f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(
        arrays, schema=pa.schema([f.with_type(a.type) for f, a in zip(schema, arrays, strict=True)])
    )


def io_floor(n: int, path: Path, chunk: int = 1_500_000, accounts: int = 60_000) -> tuple[float, float]:
    """Wall and CPU seconds to write ``n`` random rows of the transactions schema with the
    simulator's writer options (the rows are made before the clock starts: this is the pure
    Parquet cost)."""
    data = random_chunk(min(chunk, n), accounts=accounts)
    t0, c0 = time.perf_counter(), time.process_time()
    with pq.ParquetWriter(path, data.schema, **writer_options("transactions")) as w:
        done = 0
        while done < n:
            k = min(len(data), n - done)
            w.write_table(data.slice(0, k))
            done += k
    return time.perf_counter() - t0, time.process_time() - c0


class Descendants(Sampler):
    """Samples the processes this one starts (the fork server and the population process it forks
    are not this process's waited-for children, so getrusage cannot see them): the last CPU time
    and the peak RSS seen of each, every 0.1 s.

    Each process counts its own CPU time only: the fork server's reaped-children times already
    hold the population process's, which is sampled itself (it would be counted twice)."""

    def __init__(self) -> None:
        super().__init__(every=0.1)
        self.cpu: dict[int, float] = {}
        self.rss: dict[int, int] = {}

    def sample(self) -> None:
        for child in psutil.Process().children(recursive=True):
            try:
                t, mem = child.cpu_times(), child.memory_info().rss
            except psutil.Error:
                continue
            self.cpu[child.pid] = t.user + t.system
            self.rss[child.pid] = max(self.rss.get(child.pid, 0), mem)

    def cpu_seconds(self) -> float:
        return sum(self.cpu.values())

    def peak_gib(self) -> float:
        return max(self.rss.values(), default=0) / 2**30


def cpu_seconds() -> float:
    """CPU seconds of this process (all its threads)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000, help="target number of transactions")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", type=Path, default=None, help="write the world here and keep it")
    args = ap.parse_args()
    base = resolve_params("bc-2015", days=args.days)
    scale = args.rows / (_rows_per_day(base, 1.0) * args.days)
    tmp = Path(tempfile.mkdtemp(prefix="moneytrail-bench-"))
    out = args.keep or tmp / "world"
    # pyarrow imports pandas on its first array (seconds when bytecode is not cached): a one-off
    # start-up cost of the interpreter, timed apart from the per-row work
    s0 = time.perf_counter()
    pa.array([0])
    startup = time.perf_counter() - s0
    try:
        t0, c0 = time.perf_counter(), cpu_seconds()
        with Descendants() as kids:
            summary = simulate("bc-2015", seed=args.seed, out=out, scale=scale, days=args.days, progress=True)
        elapsed, cpu = time.perf_counter() - t0, cpu_seconds() - c0 + kids.cpu_seconds()
        peak_self, peak_child = peak_rss_gib(), kids.peak_gib()
        peak = max(peak_self, peak_child)
        n = summary["counts"]["transactions"]
        size = sum(p.stat().st_size for p in Path(out).rglob("*.parquet")) / 2**20
        floor, floor_cpu = io_floor(n, tmp / "floor.parquet", accounts=summary["counts"]["accounts"])
        lines = [
            f"- world: bc-2015, {args.days} days, scale {scale:.2f}, seed {args.seed}",
            f"- transactions: {n:,} (plus {summary['counts']['casino_sessions']:,} casino sessions, "
            f"{summary['counts']['parties']:,} parties, truth tables); {size:,.0f} MiB of Parquet",
            f"- generation + Parquet write: {elapsed:,.1f} s = **{n / elapsed:,.0f} transactions/s**",
            f"- CPU time of the simulator: {cpu:,.1f} s (all threads, and the second process that builds the "
            f"population and the bulk chunks; the machine was shared: load average {os.getloadavg()[0]:.1f} at the end)",
            f"- peak memory (RSS): {peak:.2f} GiB (main process {peak_self:.2f} GiB, second process "
            f"{peak_child:.2f} GiB; at most {peak_self + peak_child:.2f} GiB together)",
            f"- I/O floor (random rows of the transactions schema, same Arrow representation and writer "
            f"options, written by pyarrow): {floor:,.1f} s wall, {floor_cpu:,.1f} s CPU = {n / floor:,.0f} rows/s",
            f"- simulator / floor ratio: **{elapsed / floor:.2f}** (wall), **{cpu / floor_cpu:.2f}** (CPU; the "
            "simulator also writes the truth, the sessions and the parties)",
            f"- one-off start-up outside the clock: pyarrow's pandas import {startup:.1f} s",
            "- reference: IBM AMLSim makes about 10,000 transactions/s",
        ]
        record(f"simulate ({args.rows:,} transactions target)", lines)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
