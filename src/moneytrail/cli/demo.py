"""``moneytrail demo``: simulate the bc-2015 world, run every stage, then open the workbench."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from moneytrail.cli.app import app, console, err_console
from moneytrail.errors import ConfigError
from moneytrail.workspace import Workspace

PRESET = "bc-2015"
SEED = 2015
DEMO_USER = "demo"


def _stage(name: str, run: Callable[[], object]) -> None:
    t0 = time.perf_counter()
    console.print(f"[bold]{name}[/] …")
    run()
    console.print(f"[green]done[/] {name} in {time.perf_counter() - t0:.1f} s")


def run_pipeline(out: Path, scale: float, seed: int = SEED) -> Workspace:
    """Simulate, ingest, resolve, detect and score into ``out/workspace``; returns the workspace."""
    from moneytrail.detect.runner import run_detectors
    from moneytrail.engine import make_engine
    from moneytrail.ingest import ingest
    from moneytrail.resolve import resolve_workspace
    from moneytrail.score.pipeline import score_workspace
    from moneytrail.simulate import simulate

    world = out / "world"
    ws = Workspace(out / "workspace").ensure()
    _stage(
        f"simulate {PRESET} (scale {scale}, seed {seed})",
        lambda: simulate(PRESET, seed, world, scale=scale, progress=True),
    )
    _stage("ingest", lambda: ingest(world, "canonical", ws, progress=True))
    _stage("resolve", lambda: resolve_workspace(ws, progress=True))

    def detect_and_score() -> None:
        with make_engine("duckdb", ws) as eng:
            run_detectors(eng, console=console)
            score_workspace(eng, ws, progress=True)

    _stage("detect and score", detect_and_score)
    return ws


def demo_login(ws: Workspace, database_url: str | None = None) -> str:
    """Create (or reset) the demo admin with a new random password; returns the password."""
    from moneytrail.cli.serve import random_password
    from moneytrail.investigate.cases import open_store

    password = random_password()
    store = open_store(ws, database_url)
    try:
        if store.user(DEMO_USER) is None:
            store.add_user(DEMO_USER, password, "admin", "Demo investigator")
        else:
            store.set_password(DEMO_USER, password)
    finally:
        store.close()
    return password


@app.command("demo")
def demo_command(
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Stop after the pipeline; do not start the workbench.")
    ] = False,
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the simulated world and the workspace.")
    ] = Path("demo-world"),
    scale: Annotated[
        float, typer.Option("--scale", help="Size of the world relative to the demo default.")
    ] = 0.05,
    host: Annotated[str, typer.Option("--host", help="Address the workbench listens on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port of the workbench.")] = 8000,
) -> None:
    """Simulate the bc-2015 world, ingest, resolve, detect and score it, then serve the workbench."""
    if scale <= 0:
        raise ConfigError(f"The '--scale' option must be greater than 0. Got {scale} instead.")
    ws = run_pipeline(out, scale)
    leads = ws.row_count("leads") if ws.has("leads") else 0
    console.print(f"Workspace {ws.root}: {leads} leads.")
    if not leads:
        err_console.print("No leads yet: the workbench will open with an empty queue.")
    if no_serve:
        return
    password = demo_login(ws)
    console.print(
        f"Log in at [bold]http://{host}:{port}/[/] as [bold]{DEMO_USER}[/] with password "
        f"[bold]{password}[/] (shown once; `moneytrail demo` makes a new one)."
    )
    from moneytrail.cli.serve import serve_workbench

    serve_workbench(ws, host, port)
