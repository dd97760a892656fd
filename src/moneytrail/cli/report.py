"""``moneytrail report``: an STR draft, a case dossier (HTML/PDF) or a network export for a lead or case."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from moneytrail.cli.app import WorkspaceOption, app, console, err_console, workspace_from
from moneytrail.errors import ConfigError


@app.command("report")
def report_command(
    lead_or_case: Annotated[
        str, typer.Argument(help="A lead id (from the leads table) or a case id (12, case-12).")
    ],
    workspace: WorkspaceOption = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format", "-f", help="html, pdf (dossier), str (JSON), str-html, graphml, gexf or ftm."
        ),
    ] = "html",
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="File to write (default: the id plus the format's suffix)."),
    ] = None,
    redact: Annotated[
        bool,
        typer.Option(
            "--redact", help="Pseudonymise everyone who is not a subject (for partners or the press)."
        ),
    ] = False,
    reporting_entity: Annotated[
        str | None,
        typer.Option("--reporting-entity", help="Name of the reporting entity for Part A of the STR."),
    ] = None,
) -> None:
    """Write a report on one lead or case."""
    from moneytrail.investigate.reports import FORMATS, check_format, render_report

    check_format(fmt)
    ws = workspace_from(workspace)
    target = out or Path(f"{lead_or_case}{'-redacted' if redact else ''}{FORMATS[fmt][0]}")
    if target.exists() and target.is_dir():
        raise ConfigError(f"The '--out' option names the folder {target}; give a file name.")
    entity = {"name": reporting_entity} if reporting_entity else None
    with err_console.status(f"Rendering {FORMATS[fmt][2]} for {lead_or_case}"):
        rendered = render_report(ws, lead_or_case, fmt, redact=redact, reporting_entity=entity)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_bytes(rendered.content)
    os.replace(tmp, target)
    console.print(
        f"Wrote {target} ({len(rendered.content):,} bytes, {FORMATS[fmt][2]}{', redacted' if redact else ''})."
    )
