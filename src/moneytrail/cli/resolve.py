"""``moneytrail resolve``: entity resolution across sources, then watchlist screening."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from moneytrail.cli.app import EngineOption, WorkspaceOption, app, console, engine_name, workspace_from
from moneytrail.engine import ENGINES
from moneytrail.errors import ConfigError


@app.command("resolve")
def resolve_command(
    workspace: WorkspaceOption = None,
    engine: EngineOption = None,
    retrain: Annotated[
        bool,
        typer.Option(
            "--retrain", help="Train a new model and recluster every party (default: link new parties only)."
        ),
    ] = False,
) -> None:
    """Link party records of the same person into entities (same_as links) and screen them against the watchlist."""
    from moneytrail.resolve import resolve_workspace

    name = engine_name(engine)
    if name not in ENGINES:
        raise ConfigError(
            f"The '--engine' option must be one of {', '.join(repr(e) for e in ENGINES)}. Got {name!r} instead."
        )
    s = resolve_workspace(workspace_from(workspace), engine_name=name, retrain=retrain, progress=True)
    t = Table(title=f"Resolved {s['parties']:,} parties ({s['mode']} run on {s['engine']})")
    t.add_column("what")
    t.add_column("count", justify="right")
    t.add_row("parties linked in this run", f"{s['new_parties']:,}")
    t.add_row("entities", f"{s['entities']:,}")
    t.add_row("parties in multi-record entities", f"{s['linked_parties']:,}")
    t.add_row("pairs scored", f"{s['pairs_scored']:,}")
    if "screening" in s:
        t.add_row("watchlist hits (W1)", f"{s['screening']['hits']:,}")
        t.add_row("ambiguous watchlist entries", f"{s['screening']['ambiguous_entries']:,}")
    console.print(t)
    if s.get("stale_model") and not retrain:
        console.print(
            "The saved resolution model was made by an earlier version with other blocking rules, "
            "so it was retrained and every party reclustered."
        )
