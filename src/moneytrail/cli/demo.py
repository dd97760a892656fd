"""``moneytrail demo``: simulate the bc-2015 world, run every stage, then open the workbench.

Each stage is called through its Python entry point. A stage whose module is not installed is
skipped with a notice, so the demo runs as far as the installed stages go.
"""

from __future__ import annotations

import importlib
import inspect
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from moneytrail.cli.app import app, console, err_console
from moneytrail.errors import ConfigError
from moneytrail.workspace import Workspace

PRESET = "bc-2015"
SEED = 2015
DEMO_USER = "demo"


def _find(module: str, names: tuple[str, ...]):
    """The first callable called one of ``names`` in ``module``, or None when it is not installed."""
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    for n in names:
        fn = getattr(mod, n, None)
        if callable(fn):
            return fn
    return None


def _call(fn, **kwargs: Any):
    """Call ``fn`` with the keyword arguments it accepts (entry points differ in their options)."""
    params = inspect.signature(fn).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return fn(**kwargs)
    return fn(**{k: v for k, v in kwargs.items() if k in params})


def _stage(name: str, fn, run) -> bool:
    if fn is None:
        console.print(f"[yellow]skip[/] {name}: not installed in this version")
        return False
    t0 = time.perf_counter()
    console.print(f"[bold]{name}[/] …")
    run(fn)
    console.print(f"[green]done[/] {name} in {time.perf_counter() - t0:.1f} s")
    return True


def run_pipeline(out: Path, scale: float, seed: int = SEED) -> Workspace:
    """Simulate, ingest, resolve, detect and score into ``out/workspace``; returns the workspace."""
    world = out / "world"
    ws = Workspace(out / "workspace").ensure()
    simulate = _find("moneytrail.simulate", ("simulate", "run_preset", "generate", "simulate_world"))
    _stage(
        f"simulate {PRESET} (scale {scale}, seed {seed})",
        simulate,
        lambda fn: _call(fn, preset=PRESET, seed=seed, out=world, scale=scale, progress=True),
    )
    ingest = _find("moneytrail.ingest", ("ingest",))
    if world.is_dir():
        _stage("ingest", ingest, lambda fn: _call(fn, path=world, fmt="auto", workspace=ws, progress=True))
    else:
        console.print("[yellow]skip[/] ingest: no simulated world to read")
    resolve = _find("moneytrail.resolve", ("resolve_workspace",))
    _stage("resolve", resolve, lambda fn: _call(fn, workspace=ws, progress=True))
    runner = _find("moneytrail.detect.runner", ("run_detectors",))

    def detect(fn) -> None:
        from moneytrail.engine import make_engine

        with make_engine("duckdb", ws) as eng:
            if not eng.has_table("transactions"):
                console.print("[yellow]skip[/] detect: the workspace has no transactions")
                return
            _call(fn, engine=eng)

    _stage("detect", runner, detect)
    score = _find("moneytrail.score.pipeline", ("score_workspace",))

    def score_stage(fn) -> None:
        from moneytrail.engine import make_engine

        with make_engine("duckdb", ws) as eng:
            _call(fn, engine=eng, workspace=ws, progress=True)

    _stage("score", score, score_stage)
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
