"""``moneytrail detect``: run the typology catalogue and write ``detector_hits``."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from moneytrail.cli.app import (
    EngineOption,
    WorkspaceOption,
    app,
    console,
    engine_name,
    err_console,
    workspace_from,
)
from moneytrail.errors import WorkspaceError
from moneytrail.settings import get_settings
from moneytrail.workspace import RunManifest


def _scoring_available() -> bool:
    """True when the scoring stage is installed (checked without importing it, so its own import
    errors surface instead of being mistaken for absence)."""
    try:
        return importlib.util.find_spec("moneytrail.score.pipeline") is not None
    except ModuleNotFoundError:
        return False


@app.command("detect")
def detect_command(
    workspace: WorkspaceOption = None,
    engine: EngineOption = None,
    spark_master: Annotated[
        str | None,
        typer.Option("--spark-master", help="Spark master URL (default local[*]).", show_default=False),
    ] = None,
    only: Annotated[
        str | None,
        typer.Option(
            "--only", help="Comma-separated detector ids to run (default: all).", show_default=False
        ),
    ] = None,
    model: Annotated[
        Path | None,
        typer.Option(
            "--model", help="Trained scoring model passed to the scoring stage.", show_default=False
        ),
    ] = None,
    no_score: Annotated[
        bool, typer.Option("--no-score", help="Write detector_hits only; skip scoring.")
    ] = False,
) -> None:
    """Run the detector catalogue on the workspace, write detector_hits, then score."""
    from moneytrail.detect.runner import run_detectors
    from moneytrail.engine import make_engine

    ws = workspace_from(workspace)
    if not ws.has("transactions") and not ws.names("tables"):
        raise WorkspaceError(f"The workspace {ws.root} holds no tables; run `moneytrail ingest` first.")
    name = engine_name(engine)
    options = {}
    if name == "spark":
        options["master"] = spark_master or get_settings().spark_master
    manifest = RunManifest(
        stage="detect", options={"engine": name, "only": only, "model": str(model) if model else None}
    )
    t0 = time.perf_counter()
    eng = make_engine(name, ws, **options)
    with eng:
        result = run_detectors(eng, only=only, console=err_console)
        manifest.outputs["detector_hits"] = result.total_hits
        manifest.durations_s["detect"] = time.perf_counter() - t0
        for r in result.runs:
            manifest.counts[f"hits.{r.detector_id}"] = r.hits
        t = Table(title="Detectors")
        for col, just in (("detector", "left"), ("hits", "right"), ("seconds", "right"), ("skipped", "left")):
            t.add_column(col, justify=just)
        for r in result.runs:
            t.add_row(r.detector_id, f"{r.hits:,}", "" if r.skipped else f"{r.seconds:.2f}", r.skipped or "")
        if result.screening_rows:
            t.add_row("screening (resolve)", f"{result.screening_rows:,}", "", "")
        console.print(t)
        console.print(
            f"{result.total_hits:,} hits written to detector_hits; "
            f"{len(result.skipped)} detector(s) skipped for missing tables."
        )
        if not no_score:
            if _scoring_available():
                from moneytrail.score.pipeline import score_workspace

                score_workspace(eng, ws, model_path=model)
                manifest.durations_s["score"] = time.perf_counter() - t0 - manifest.durations_s["detect"]
            else:
                err_console.print("scoring is not installed; detector_hits written without scores.")
    ws.write_manifest(manifest.finish())
