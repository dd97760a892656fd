"""``moneytrail ingest``: validate input files and load them into a workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from moneytrail.cli.app import WorkspaceOption, app, console, workspace_from
from moneytrail.ingest.formats import formats


def format_help() -> str:
    """The ``--format`` help, listing every registered format (so a new format documents itself)."""
    names = [*formats(), "auto"]
    return f"Input format: {', '.join(names[:-1])} or {names[-1]} (recognised from the file names)."


@app.command("ingest")
def ingest_command(
    path: Annotated[Path, typer.Argument(help="Folder (or file) to ingest.", show_default=False)],
    fmt: Annotated[str, typer.Option("--format", "-f", help=format_help())] = "auto",
    workspace: WorkspaceOption = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail (and change no table) if any row is quarantined.")
    ] = False,
) -> None:
    """Validate every row of the input and load it into the workspace; bad rows go to the quarantine."""
    from moneytrail.ingest import ingest

    report = ingest(path, fmt, workspace_from(workspace), strict=strict, progress=True)
    title = f"Ingested {path} ({report.format}) in {report.duration_s:.1f} s"
    if report.unchanged:
        title = (
            f"Nothing to do: {path} is unchanged since the last ingest (run {report.unchanged_since[:8]}), "
            "whose counts follow; no table was changed"
        )
    t = Table(title=title)
    for col in ("table", "read", "loaded", "quarantined", "placeholders", "rows now"):
        t.add_column(col, justify="left" if col == "table" else "right")
    for area, counts in (("", report.tables), ("truth/", report.truth)):
        for name, c in counts.items():
            t.add_row(
                f"{area}{name}",
                f"{c.read:,}",
                f"{c.loaded:,}",
                f"{c.quarantined:,}",
                f"{c.placeholders:,}",
                f"{c.total:,}",
            )
    console.print(t)
    if report.samples:
        console.print(f"[yellow]{report.quarantined:,} row(s) quarantined[/]; the first reasons:")
        for s in report.samples:
            console.print(
                f"  {s.table}: {Path(s.source_file).name} line {s.line}: {s.reason}", soft_wrap=True
            )
        console.print("See the workspace's quarantine/ folder for every quarantined row.")
