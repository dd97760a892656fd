"""``moneytrail tables``: what a workspace holds."""

from __future__ import annotations

from rich.table import Table

from moneytrail.cli.app import WorkspaceOption, app, console, workspace_from
from moneytrail.errors import WorkspaceError


@app.command("tables")
def tables_command(workspace: WorkspaceOption = None) -> None:
    """List the workspace's tables with row counts, quarantine counts and the last runs."""
    ws = workspace_from(workspace)
    if not ws.root.is_dir():
        raise WorkspaceError(
            f"There is no workspace at {ws.root}; run `moneytrail ingest` or `moneytrail demo` first."
        )
    quarantined = {n: ws.row_count(n, "quarantine") for n in ws.names("quarantine")}
    t = Table(title=f"Workspace {ws.root}")
    t.add_column("table")
    t.add_column("area")
    t.add_column("rows", justify="right")
    t.add_column("quarantined", justify="right")
    for area in ("tables", "truth"):
        for name in ws.names(area):
            q = quarantined.get(name, 0) if area == "tables" else ""
            t.add_row(name, area, f"{ws.row_count(name, area):,}", f"{q:,}" if q != "" else "")
    console.print(t)
    runs = ws.manifests()[-10:]
    if runs:
        r = Table(title="Last runs")
        for col in ("started", "stage", "status", "outputs"):
            r.add_column(col)
        for m in runs:
            outs = ", ".join(f"{k}={v:,}" for k, v in sorted(m.get("outputs", {}).items()))
            r.add_row(m.get("started_at", ""), m.get("stage", ""), m.get("status", ""), outs)
        console.print(r)
