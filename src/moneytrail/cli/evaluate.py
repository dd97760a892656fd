"""``moneytrail evaluate``: measure detection, resolution or scoring against a workspace's truth."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from moneytrail.cli.app import WorkspaceOption, app, console, workspace_from
from moneytrail.errors import ConfigError


@app.command("evaluate")
def evaluate_command(
    workspace: WorkspaceOption = None,
    detectors: Annotated[
        bool, typer.Option("--detectors", help="Precision and recall per detector and typology.")
    ] = False,
    resolution: Annotated[
        bool, typer.Option("--resolution", help="Entity-resolution precision, recall and F1.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object of metrics.")] = False,
) -> None:
    """Compare results with the workspace's ground truth (scores by default)."""
    if detectors and resolution:
        raise ConfigError("Give at most one of --detectors and --resolution.")
    ws = workspace_from(workspace)
    if detectors:
        from moneytrail.detect.evaluate import evaluate_detectors as run
        from moneytrail.detect.evaluate import render
    elif resolution:
        from moneytrail.resolve.evaluate import evaluate_resolution as run
        from moneytrail.resolve.evaluate import render
    else:
        from moneytrail.score.evaluate import evaluate_scores as run
        from moneytrail.score.evaluate import render
    metrics = run(ws)
    if as_json:
        typer.echo(json.dumps(metrics, indent=None, sort_keys=True, default=str))
    else:
        render(metrics, console)
