"""Benchmark the detector catalogue: speed on a simulated world, motif recall on AMLSim.

    python bench/detect.py                      # bc-2015 at scale 1 (the full size)
    python bench/detect.py --scale 0.05         # a reduced world while developing
    python bench/detect.py --world DIR          # an existing simulated world (skips simulation)
    python bench/detect.py --workspace WS       # an ingested workspace (skips the ingest; its
                                                # detector_hits are rewritten)
    python bench/detect.py --spark              # also time the Spark engine on the same world
    python bench/detect.py --scale 2.68 --days 365 --quality-workspace WS
        # 10 million transactions for speed; precision and recall measured on WS instead (an
        # ingested and resolved workspace with ground truth, e.g. a new seed at scale 0.1)
    python bench/detect.py --scale 26.8 --days 365 --quality-workspace WS --skip-amlsim
        # 100 million transactions (out of core), recorded in a section of its own

Each size class (the power of ten nearest the transaction count) has its own section of
RESULTS.md: ``detect`` for 10 million, ``detect (100M transactions)`` and so on for others.

Reports: seconds for all detectors on DuckDB, peak memory, the floor (one scan and group-by of the
same transactions) and the ratio to it; Spark local time when asked; per detector seconds; and the
account-level recall per shape of the graph motifs on the AMLSim benchmark.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _results import Sampler, peak_rss_gib, record  # noqa: E402
from moneytrail.detect.evaluate import evaluate_detectors  # noqa: E402
from moneytrail.detect.runner import DetectResult, run_detectors  # noqa: E402
from moneytrail.engine import make_engine  # noqa: E402
from moneytrail.workspace import Workspace  # noqa: E402
from spark_detect import SparkTiming, bench_spark_detect  # noqa: E402

FLOOR_SQL = """
    SELECT src_account_id, COUNT(*) AS n, SUM(COALESCE(amount_cad, amount)) AS total,
           MIN(ts) AS first_ts, MAX(ts) AS last_ts
    FROM transactions GROUP BY src_account_id"""


def simulate(preset: str, seed: int, scale: float, out: Path, days: int | None = None) -> None:
    from typer.testing import CliRunner

    from moneytrail.cli import app

    args = ["simulate", "--preset", preset, "--seed", str(seed), "--out", str(out), "--scale", str(scale)]
    if days is not None:
        args += ["--days", str(days)]
    res = CliRunner().invoke(app, args)
    if res.exit_code != 0:
        raise SystemExit(f"simulation failed: {res.output[-500:]}")


def load_world(world: Path, ws: Workspace) -> None:
    """Ingest the simulated world (canonical format) into the workspace."""
    from typer.testing import CliRunner

    from moneytrail.cli import app

    res = CliRunner().invoke(
        app, ["ingest", str(world), "--format", "canonical", "--workspace", str(ws.root)]
    )
    if res.exit_code != 0:  # the ingest stage may be unavailable: the world is canonical already
        ws.ensure()
        for p in world.glob("*.parquet"):
            shutil.copy(p, ws.path(p.stem))
        for p in (world / "truth").glob("*.parquet"):
            shutil.copy(p, ws.path(p.stem, "truth"))


def resolve(ws: Workspace) -> float:
    """Resolve the workspace's parties, as ``moneytrail resolve`` does before detection (the casino
    detectors follow a person across records through ``same_as``); returns the seconds taken."""
    from moneytrail.resolve.pipeline import resolve_workspace

    t0 = time.perf_counter()
    resolve_workspace(ws, progress=False)
    return time.perf_counter() - t0


def cpu_seconds() -> float:
    """User plus system CPU seconds of this process so far (the machine may be shared)."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


class SpillWatch(Sampler):
    """The largest size, in bytes, that a folder (DuckDB's spill folder) reached while in use,
    sampled every ``every`` seconds."""

    def __init__(self, folder: Path, every: float = 2.0) -> None:
        super().__init__(every)
        self.folder, self.peak = folder, 0

    def sample(self) -> None:
        total = 0
        for f in self.folder.rglob("*") if self.folder.is_dir() else ():
            with contextlib.suppress(OSError):  # a spill file removed while sampled
                total += f.stat().st_size if f.is_file() else 0
        self.peak = max(self.peak, total)


def time_engine(engine: str, ws: Workspace, **options) -> tuple[float, float, DetectResult, float]:
    """Seconds for the floor query and for all detectors on ``engine``; the run's result; the CPU
    seconds of the detectors."""
    with make_engine(engine, ws, **options) as eng:
        t0 = time.perf_counter()
        eng.query(FLOOR_SQL, label="floor")
        floor = time.perf_counter() - t0
        t0, c0 = time.perf_counter(), cpu_seconds()
        result = run_detectors(eng)
        total, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    return floor, total, result, cpu


def section_name(rows: int) -> str:
    """The RESULTS.md section of a run on ``rows`` transactions: one per power of ten, so a
    100 million run does not replace the 10 million figures (which keep the plain name)."""
    size = 10 ** round(math.log10(max(rows, 1)))
    if size == 10_000_000:
        return "detect"
    label = f"{size // 1_000_000}M" if size >= 1_000_000 else f"{size:,}"
    return f"detect ({label} transactions)"


def quality(ws: Workspace) -> dict:
    """Run the detectors on ``ws`` (writing its detector_hits) and evaluate them against its truth."""
    with make_engine("duckdb", ws) as eng:
        run_detectors(eng)
    return evaluate_detectors(ws)


def spark_timing(ws: Workspace, master: str | None) -> SparkTiming | None:
    """Spark's time over ``ws`` (session start-up excluded), its hits compared with the ones the
    DuckDB run just wrote; None when the Spark engine is not available. Uses the Spark benchmark's
    runner (``bench/spark_detect.py``), so both benchmarks time Spark the same way."""
    try:
        return bench_spark_detect(ws.root, master=master or "local[*]", compare=True)
    except Exception as e:  # the benchmark reports the absence rather than failing the DuckDB figures
        print(f"Spark not timed: {e}")
        return None


def amlsim_recall() -> list[str]:
    tests = Path(__file__).resolve().parents[1] / "tests"
    sys.path.insert(0, str(tests.parent))
    from tests.conftest import AMLSIM_DIR
    from tests.utils.detect_worlds import load_amlsim

    if not AMLSIM_DIR.is_dir():
        return ["AMLSim benchmark data not found beside the project; motif recall not measured."]
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(Path(tmp) / "ws").ensure()
        load_amlsim(ws, AMLSIM_DIR)
        with make_engine("duckdb", ws) as eng:
            t0 = time.perf_counter()
            run_detectors(eng)
            secs = time.perf_counter() - t0
        m = evaluate_detectors(ws)
    lines = [
        f"AMLSim {AMLSIM_DIR.name}: all detectors in {secs:.1f} s. Account-level recall per shape "
        "(positive = sent or received an is_sar transaction):",
        "",
        "| shape | accounts | best detector | its recall | all detectors |",
        "|---|---:|---|---:|---:|",
    ]
    for typ, t in sorted(m["typologies"].items()):
        lines.append(
            f"| {typ} | {t['accounts']} | {t['best_detector']} | {t['best_recall']:.3f} | {t['recall_any']:.3f} |"
        )
    lines += ["", "| detector | hits | precision |", "|---|---:|---:|"]
    for det, d in sorted(m["detectors"].items()):
        lines.append(f"| {det} | {d['hits']} | {d['precision']:.3f} |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="bc-2015")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--scale", type=float, default=1.0, help="simulator scale (reduce while developing)")
    ap.add_argument("--world", type=Path, help="use this simulated world instead of simulating")
    ap.add_argument(
        "--workspace", type=Path, help="use this ingested workspace (its detector_hits are rewritten)"
    )
    ap.add_argument("--spark", action="store_true", help="also time the Spark engine")
    ap.add_argument("--spark-master", default=None)
    ap.add_argument("--days", type=int, default=None, help="simulated days (the preset's when omitted)")
    ap.add_argument(
        "--quality-workspace",
        type=Path,
        help="measure precision and recall on this resolved workspace with truth instead of the timed world",
    )
    ap.add_argument("--skip-amlsim", action="store_true")
    ap.add_argument("--no-record", action="store_true", help="print the figures without updating RESULTS.md")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        world = args.world
        if args.workspace is not None:
            if world is not None:
                ap.error("give --world or --workspace, not both")
            ws = Workspace(args.workspace)
            if not ws.has("transactions"):
                ap.error(f"{args.workspace} is not a workspace with a transactions table")
        elif world is None:
            world = Path(tmp) / "world"
            t0 = time.perf_counter()
            simulate(args.preset, args.seed, args.scale, world, args.days)
            print(f"simulated in {time.perf_counter() - t0:.0f} s")
        if args.workspace is None:
            ws = Workspace(Path(tmp) / "ws")
            load_world(world, ws)
        if args.quality_workspace is None:  # the quality is measured here: detect as the product does
            print(f"resolved in {resolve(ws):.0f} s")
        rows = ws.row_count("transactions")
        duck = make_engine("duckdb", ws)
        with SpillWatch(duck.temp_directory) as spill:
            floor, total, result, cpu = time_engine("duckdb", ws)
        runs = result.runs
        limit, origin = duck.memory_limit
        peak = peak_rss_gib()
        print(f"all detectors: {total:.1f} s wall, {cpu:.1f} s CPU, peak {peak:.2f} GiB")
        if args.quality_workspace is None:
            metrics = evaluate_detectors(ws)
        spark = spark_timing(ws, args.spark_master) if args.spark else None
    if args.quality_workspace is not None:
        metrics = quality(Workspace(args.quality_workspace))

    name = (
        f"{args.preset} seed {args.seed} scale {args.scale}" + (f" days {args.days}" if args.days else "")
        if args.world is None and args.workspace is None
        else str((args.world or args.workspace).name)
    )
    lines = [
        f"World: {name}, {rows:,} transactions.",
        "",
        f"DuckDB memory limit {limit} ({'the default' if origin == 'default' else origin}); the spill folder "
        f"peaked at {spill.peak / 1e9:.1f} GB.",
        "",
        "| engine | all detectors (s) | CPU user+sys (s) | floor: scan + group-by (s) | ratio | peak memory (GiB) |",
        "|---|---:|---:|---:|---:|---:|",
        f"| DuckDB | {total:.1f} | {cpu:.1f} | {floor:.2f} | {total / max(floor, 1e-9):.0f}x | {peak:.2f} |",
    ]
    if spark is not None:
        lines += [
            f"| Spark local | {spark.seconds:.1f} | {spark.cpu_seconds:.1f} | - | - | - |",
            "",
            f"Spark: master {args.spark_master or 'local[*]'}, driver memory {spark.driver_memory}; session "
            "start-up excluded; CPU includes its JVM. Its detector_hits are "
            + ("identical to DuckDB's." if spark.identical else "NOT identical to DuckDB's."),
        ]
    else:
        lines.append("| Spark local | not measured (run with --spark) | | | | |")
    if args.quality_workspace is not None:
        qws = Workspace(args.quality_workspace)
        lines += [
            "",
            f"Hits and seconds are from this world; precision and recall from the resolved workspace "
            f"{qws.root.name} ({qws.row_count('transactions'):,} transactions, ground truth).",
        ]
    if result.shared:
        lines += [
            "",
            "Computed (or cached) once for the run and read by several detectors:",
            "",
            "| shared relation or cached table | rows | seconds | CPU seconds |",
            "|---|---:|---:|---:|",
        ]
        for r in result.shared:
            if r.cached is not None:
                rows_cell = "cached" if r.cached else "not cached"
            else:
                rows_cell = "view" if r.rows is None else f"{r.rows:,}"
            lines.append(f"| {r.name} | {rows_cell} | {r.seconds:.2f} | {r.cpu_seconds:.2f} |")
    lines += [
        "",
        "| detector | hits | seconds | CPU seconds | precision | skipped |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for r in runs:
        p = metrics["detectors"].get(r.detector_id, {}).get("precision")
        prec = "" if p is None else f"{p:.3f}"
        lines.append(
            f"| {r.detector_id} | {r.hits} | {r.seconds:.2f} | {r.cpu_seconds:.2f} | {prec} | {r.skipped or ''} |"
        )
    lines += ["", "| indicator | records | recall | detectors |", "|---|---:|---:|---|"]
    for ind, m in sorted(metrics["indicators"].items()):
        lines.append(f"| {ind} | {m['records']} | {m['recall']:.3f} | {', '.join(m['detectors'])} |")
    if not args.skip_amlsim:
        lines += ["", *amlsim_recall()]
    if args.no_record:
        print("\n".join(lines))
    else:
        record(section_name(rows), lines)


if __name__ == "__main__":
    main()
