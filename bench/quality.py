"""Detection quality on the labelled benchmarks: unsupervised score, trained model and the floor.

Every workspace is ingested and run through the detector catalogue first, so the scores see the
detector hits as they would in ``moneytrail detect``. For each benchmark set (AMLSim, Tide) this
measures, in one run:

- the floor: LightGBM on the 13 per-account flow features, cross-validated by community;
- the trained models: cross-validated account and transaction average precision (every
  transaction of the held-out communities is scored; accounts are rolled up from their riskiest
  transaction), and the account model alone;
- the unsupervised score (no labels at all): account and transaction average precision, F1 at the
  alert flag, precision at the 1% budget;
- optionally held-out folders (input files only, or with labels): the model trained on the
  benchmark seed applied there, and the unsupervised score, evaluated when labels are present;
- optionally a simulated world (``--world``, canonical tables with truth): share of laundering
  networks that surface as a lead and share of accounts alerted.

    python bench/quality.py [--folds 5] [--heldout-amlsim DIR] [--heldout-tide DIR] [--world DIR]
                            [--only amlsim|tide|world] [--no-record]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from _results import record  # noqa: E402
from moneytrail.detect.runner import run_detectors  # noqa: E402
from moneytrail.engine import make_engine  # noqa: E402
from moneytrail.ingest import ingest  # noqa: E402
from moneytrail.score.evaluate import evaluate_scores  # noqa: E402
from moneytrail.score.pipeline import score_workspace  # noqa: E402
from moneytrail.score.train import train_models  # noqa: E402
from moneytrail.workspace import Workspace  # noqa: E402

SHARED = ROOT.parent / "shared" / "benchmarks"


def prepare(folder: Path, kind: str, ws: Workspace) -> None:
    """Ingest ``folder`` into ``ws`` and write its detector hits."""
    ingest(folder, kind, ws, progress=False)
    with make_engine("duckdb", ws) as eng:
        run_detectors(eng)


def scored_metrics(ws: Workspace, model: Path | None) -> dict | None:
    with make_engine("duckdb", ws) as eng:
        score_workspace(eng, ws, model_path=model, progress=False)
    if not ws.has("transaction_labels", "truth"):
        return None
    return evaluate_scores(ws)


def fmt(x) -> str:
    return "-" if x is None else f"{x:.3f}"


def measure_set(name: str, folder: Path, kind: str, folds: int, heldout: list[Path], tmp: Path) -> list[str]:
    lines = [f"### {name} ({folder.name})", ""]
    ws = Workspace(tmp / name)
    t0, c0 = time.perf_counter(), time.process_time()
    prepare(folder, kind, ws)
    model = tmp / f"{name}-model.json"
    report = train_models(ws, model, folds=folds)
    uns = scored_metrics(ws, None)
    lines += [
        "| measure | account AP | transaction AP | account F1 at alert | account P at 1% budget |",
        "| --- | --- | --- | --- | --- |",
        f"| floor: LightGBM, 13 flow features, CV by community | "
        f"{fmt(report['cv_floor_account_average_precision'])} | - | - | - |",
        f"| account model alone (all account features), CV by community | "
        f"{fmt(report['cv_account_model_average_precision'])} | - | - | - |",
        f"| model: accounts rolled up from the transaction model, CV by community | "
        f"{fmt(report['cv_account_average_precision'])} | "
        f"{fmt(report.get('cv_transaction_average_precision'))} | - | - |",
        f"| unsupervised (no labels) | {fmt(uns['accounts']['average_precision'])} | "
        f"{fmt(uns['transactions']['average_precision'])} | {fmt(uns['accounts']['f1_at_alert'])} | "
        f"{fmt(uns['accounts']['precision_at_budget'])} |",
    ]
    for i, h in enumerate(heldout):
        hws = Workspace(tmp / f"{name}-heldout-{i}")
        prepare(h, kind, hws)
        sup = scored_metrics(hws, model)
        if sup is None:
            lines.append(
                f"| held-out {h.name}: model from the benchmark seed | (no labels: scored only) | | | |"
            )
            continue
        lines.append(
            f"| held-out {h.name}: model from the benchmark seed | {fmt(sup['accounts']['average_precision'])} | "
            f"{fmt(sup['transactions']['average_precision'])} | {fmt(sup['accounts']['f1_at_alert'])} | "
            f"{fmt(sup['accounts']['precision_at_budget'])} |"
        )
        un = scored_metrics(hws, None)
        lines.append(
            f"| held-out {h.name}: unsupervised | {fmt(un['accounts']['average_precision'])} | "
            f"{fmt(un['transactions']['average_precision'])} | {fmt(un['accounts']['f1_at_alert'])} | "
            f"{fmt(un['accounts']['precision_at_budget'])} |"
        )
    lines += [
        "",
        f"Positives: {report['positives']:,} of {report['accounts']:,} accounts; "
        f"{time.perf_counter() - t0:.0f} s wall, {time.process_time() - c0:.0f} s CPU for this set "
        "(ingest, detect, features, cross-validation, training and scoring).",
        "",
    ]
    per = uns.get("recall_per_typology") or {}
    if per:
        lines.append(
            "Unsupervised recall per typology at the alert flag: "
            + ", ".join(f"{t} {m['recall_at_alert']:.2f}" for t, m in per.items())
            + "."
        )
        lines.append("")
    return lines


def measure_world(folder: Path, tmp: Path) -> list[str]:
    ws = Workspace(tmp / f"world-{folder.name}")
    prepare(folder, "canonical", ws)  # the simulator writes canonical tables with truth
    m = scored_metrics(ws, None)
    if m is None or "networks" not in m:
        return [f"World {folder.name}: no network truth to measure."]
    n = m["networks"]
    about = ""
    meta = folder / "world.json"
    if meta.is_file():
        info = json.loads(meta.read_text(encoding="utf-8"))
        counts = info.get("counts", {})
        about = (
            f" ({counts.get('transactions', 0):,} transactions, {counts.get('accounts', 0):,} accounts, "
            f"{counts.get('networks', 0)} networks)"
        )
    return [
        f"### Simulated world {folder.name}{about}",
        "",
        f"Networks surfaced as a lead: {n['surfaced_as_lead']}/{n['count']} ({n['share_surfaced']:.1%}) "
        f"with {n['accounts_alerted_share']:.2%} of accounts alerted; unsupervised account AP "
        f"{fmt(m['accounts']['average_precision'])}, transaction AP {fmt(m['transactions']['average_precision'])}.",
        "",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--amlsim", type=Path, default=SHARED / "amlsim-bench10k-s1")
    ap.add_argument("--tide", type=Path, default=SHARED / "tide-li-s42")
    ap.add_argument("--heldout-amlsim", type=Path, action="append", default=[])
    ap.add_argument("--heldout-tide", type=Path, action="append", default=[])
    ap.add_argument(
        "--world", type=Path, action="append", default=[], help="simulated world folder (canonical)"
    )
    ap.add_argument(
        "--only", choices=["amlsim", "tide", "world"], help="measure one benchmark set, or the worlds only"
    )
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    np.random.seed(0)
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="moneytrail-quality-") as d:
        tmp = Path(d)
        if args.only in (None, "amlsim"):
            lines += measure_set("amlsim", args.amlsim, "amlsim", args.folds, args.heldout_amlsim, tmp)
        if args.only in (None, "tide"):
            lines += measure_set("tide", args.tide, "tide", args.folds, args.heldout_tide, tmp)
        for w in args.world:
            lines += measure_world(w, tmp)
    lines.append(
        "Targets: AMLSim held-out account AP >= 0.90 (model) and >= 0.60 (no labels); Tide account AP >= 0.85, "
        "transaction AP >= 0.80; bc-2015 world: >= 95% of networks as leads with <= 1% of accounts alerted."
    )
    if args.no_record:
        print("\n".join(lines))
    else:
        record("Detection quality (bench/quality.py)", lines)


if __name__ == "__main__":
    main()
