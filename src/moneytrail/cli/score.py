"""``moneytrail train``, ``moneytrail score`` and ``moneytrail export``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from moneytrail.cli.app import EngineOption, WorkspaceOption, app, console, engine_name, workspace_from
from moneytrail.errors import ConfigError, WorkspaceError


def _require_ws(ws) -> None:
    if not ws.has("transactions"):
        raise WorkspaceError(
            f"The workspace {ws.root} has no transactions table; run `moneytrail ingest` first."
        )


@app.command("train")
def train_command(
    out: Annotated[Path, typer.Option("--out", help="Model file to write (JSON).")],
    workspace: WorkspaceOption = None,
    folds: Annotated[int, typer.Option("--folds", help="Cross-validation folds, split by community.")] = 5,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
) -> None:
    """Fit the LightGBM account and transaction models on the workspace's truth."""
    from moneytrail.score.train import train_models

    if folds < 2:
        raise ConfigError(f"The '--folds' option must be at least 2. Got {folds} instead.")
    ws = workspace_from(workspace)
    _require_ws(ws)
    with console.status("training"):
        report = train_models(ws, out, folds=folds, seed=seed)
    ap = report.get("cv_account_average_precision")
    tap = report.get("cv_transaction_average_precision")
    console.print(
        f"Model written to {out}: {report['positives']:,} positive of {report['accounts']:,} accounts; "
        f"cross-validated account AP {ap:.3f}"
        + (f", transaction AP {tap:.3f}" if tap is not None else "")
        + "."
    )


@app.command("score")
def score_command(
    workspace: WorkspaceOption = None,
    engine: EngineOption = None,
    model: Annotated[
        Path | None, typer.Option("--model", help="Trained model (from `moneytrail train`).")
    ] = None,
    alert_rate: Annotated[
        float, typer.Option("--alert-rate", help="Share of accounts to alert (operating point).")
    ] = 0.01,
) -> None:
    """Re-run scoring alone: features, scores, leads and explanations (after `detect`)."""
    from moneytrail.engine import make_engine
    from moneytrail.score.pipeline import score_workspace

    if not 0 < alert_rate < 1:
        raise ConfigError(f"The '--alert-rate' option must be between 0 and 1. Got {alert_rate} instead.")
    ws = workspace_from(workspace)
    _require_ws(ws)
    with make_engine(engine_name(engine), ws) as eng:
        r = score_workspace(eng, ws, model_path=model, alert_rate=alert_rate)
    if r.get("missing_features"):
        console.print(
            f"The model's features missing here (filled with 0): {', '.join(r['missing_features'])}."
        )
    console.print(
        f"Scored {r['accounts']:,} accounts ({r['accounts_alerted']:,} alerted), {r['transactions']:,} transactions, "
        f"{r['leads']:,} leads ({r['mode']})."
    )


@app.command("export")
def export_command(
    kind: Annotated[str, typer.Argument(help="account-scores, transaction-scores or leads.")],
    out: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Export scores or leads as CSV, with the sources' own ids."""
    from moneytrail.engine import make_engine
    from moneytrail.score.export import KINDS, export_csv

    if kind not in KINDS:
        raise ConfigError(f"The export kind must be one of {', '.join(KINDS)}. Got {kind!r} instead.")
    ws = workspace_from(workspace)
    with make_engine("duckdb", ws) as eng:
        n = export_csv(eng, kind, out)
    console.print(f"Wrote {n:,} rows to {out}.")
