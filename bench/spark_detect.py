"""Time the detector catalogue on the Spark engine (local[*]) beside DuckDB, on a simulated world.

    python bench/spark_detect.py --preset tiny --scale 1      # quick, while developing
    python bench/spark_detect.py --preset bc-2015             # the full figure
    python bench/spark_detect.py --workspace WS --driver-memory 6g   # an ingested workspace
    python bench/spark_detect.py --workspace WS --compare            # ... and compare the hits

The detection benchmark imports :func:`bench_spark_detect` to report Spark's time beside DuckDB's.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from moneytrail.engine import make_engine  # noqa: E402
from moneytrail.workspace import Workspace  # noqa: E402


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and its children so far (Spark's JVM is one)."""
    import psutil

    me = psutil.Process()
    total = 0.0
    for proc in [me, *me.children(recursive=True)]:
        try:
            t = proc.cpu_times()
        except psutil.Error:  # a child that has just ended
            continue
        total += t.user + t.system
    return total


def _run_catalogue(
    engine_name: str, ws: Workspace, *, write: bool = False, slowest: list | None = None, **options
) -> tuple[float, float, int, float, float]:
    """(start-up s, detection s, hits, start-up CPU s, detection CPU s) of one engine over ``ws``.

    ``slowest``, if given, receives ``(seconds, detector id)`` of the five slowest detectors."""
    from moneytrail.detect.runner import run_detectors

    c0, t0 = cpu_seconds(), time.perf_counter()
    eng = make_engine(engine_name, ws, **options).open()
    try:
        c1, t1 = cpu_seconds(), time.perf_counter()
        result = run_detectors(eng, write=write)
        c2, t2 = cpu_seconds(), time.perf_counter()
    finally:
        eng.close()
    if slowest is not None:
        slowest.extend(sorted(((r.seconds, r.detector_id) for r in result.runs), reverse=True)[:5])
    return t1 - t0, t2 - t1, result.total_hits, c1 - c0, c2 - c1


# Above this many transactions a local Spark driver gets more memory than the engine's 2 GB.
_LARGE_WORLD = 3_000_000


def driver_memory_for(ws: Workspace) -> str | None:
    """Driver memory for a local Spark run over ``ws``: None (the engine's default) up to
    ``_LARGE_WORLD`` transactions, 6 GB above (the driver is the executor on a local master)."""
    return "6g" if ws.row_count("transactions") > _LARGE_WORLD else None


@dataclass(frozen=True)
class SparkTiming:
    """One timed Spark run of the catalogue: detection's wall and CPU seconds, the session
    start-up's apart, hits, the five slowest detectors as (seconds, id), and whether its
    detector_hits equal the workspace's earlier ones (None: not compared)."""

    seconds: float
    cpu_seconds: float
    startup_seconds: float
    startup_cpu_seconds: float
    hits: int
    driver_memory: str
    slowest: tuple[tuple[float, str], ...]
    identical: bool | None = None


def bench_spark_detect(
    workspace_path: str | Path,
    *,
    master: str = "local[*]",
    driver_memory: str | None = None,
    compare: bool = False,
) -> SparkTiming:
    """Time the Spark engine running every detector over the workspace at ``workspace_path``.

    ``driver_memory`` defaults to :func:`driver_memory_for`. Nothing is written to the workspace
    unless ``compare``: then Spark rewrites its detector_hits, and the result says whether they equal
    the ones that were there (those a DuckDB run has just written).
    """
    ws = Workspace(workspace_path)
    options = {"master": master}
    if memory := driver_memory or driver_memory_for(ws):
        options["driver_memory"] = memory
    # Compared as rows: the engines write the same values under schemas that differ in nullability
    # and Parquet metadata.
    before = ws.read("detector_hits").to_pylist() if compare else None
    slowest: list[tuple[float, str]] = []
    startup, seconds, hits, startup_cpu, cpu = _run_catalogue(
        "spark", ws, write=compare, slowest=slowest, **options
    )
    identical = None if before is None else ws.read("detector_hits").to_pylist() == before
    return SparkTiming(
        seconds,
        cpu,
        startup,
        startup_cpu,
        hits,
        options.get("driver_memory", "default (2g)"),
        tuple(slowest),
        identical,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="tiny", help="simulator preset (default tiny)")
    parser.add_argument("--scale", type=float, default=None, help="population scale of the preset")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--days", type=int, default=None, help="simulated days (default: the preset's)")
    parser.add_argument("--master", default="local[*]", help="Spark master URL")
    parser.add_argument("--workspace", type=Path, default=None, help="use this ingested workspace instead")
    parser.add_argument(
        "--driver-memory", default=None, help="Spark driver memory, e.g. 6g (default: by world size)"
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="with --workspace: write detector_hits into it from both engines and compare them",
    )
    args = parser.parse_args()

    from _results import record

    with tempfile.TemporaryDirectory(prefix="moneytrail-bench-") as tmp:
        if args.workspace is None:
            from moneytrail.ingest.pipeline import ingest
            from moneytrail.simulate import simulate

            world = Path(tmp) / "world"
            simulate(args.preset, seed=args.seed, out=world, scale=args.scale, days=args.days)
            ws = Workspace(Path(tmp) / "ws").ensure()
            ingest(world, "canonical", ws, progress=False)
            size = f"preset {args.preset}, scale {args.scale or 1}, seed {args.seed}"
            if args.days:
                size += f", {args.days} days"
        else:
            ws = Workspace(args.workspace)
            size = f"workspace {args.workspace.name}"
        n_txns = ws.row_count("transactions")
        # On a world of its own the benchmark also checks that both engines write identical hits.
        own = args.workspace is None or args.compare
        _, duck_s, duck_hits, _, duck_cpu = _run_catalogue("duckdb", ws, write=own)
        spark = bench_spark_detect(ws.root, master=args.master, driver_memory=args.driver_memory, compare=own)
        identical = {None: "not checked", True: "yes", False: "NO"}[spark.identical]

    record(
        "spark_detect",
        [
            f"World: {size}, {n_txns:,} transactions; Spark master {args.master}, driver memory "
            f"{spark.driver_memory}.",
            "",
            "| engine | start-up s | start-up CPU s | detect s | detect CPU s | hits |",
            "|---|---:|---:|---:|---:|---:|",
            f"| duckdb | - | - | {duck_s:.2f} | {duck_cpu:.1f} | {duck_hits:,} |",
            f"| spark | {spark.startup_seconds:.1f} | {spark.startup_cpu_seconds:.1f} | {spark.seconds:.2f} | "
            f"{spark.cpu_seconds:.1f} | {spark.hits:,} |",
            "",
            "CPU is user + system time of the benchmark and its child processes (Spark's JVM).",
            "",
            f"Identical detector_hits on both engines: {identical}.",
            "",
            "Slowest detectors on Spark (wall s): "
            + ", ".join(f"{det} {sec:.1f}" for sec, det in spark.slowest)
            + ".",
        ],
    )


if __name__ == "__main__":
    main()
