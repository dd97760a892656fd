"""``moneytrail serve`` (the workbench) and ``moneytrail users add|list|disable``."""

from __future__ import annotations

import secrets
import sys
from typing import Annotated

import typer
from rich.table import Table

from moneytrail.cli.app import WorkspaceOption, app, console, err_console, workspace_from
from moneytrail.errors import ConfigError, WorkspaceError

users_app = typer.Typer(help="Manage the workbench's local accounts.", no_args_is_help=True)
app.add_typer(users_app, name="users")

RoleOption = Annotated[str, typer.Option("--role", help="analyst, supervisor or admin.")]
DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL of the case database (default: SQLite in the workspace).",
        show_default=False,
    ),
]


def random_password() -> str:
    """A random password that is easy to type (about 100 bits)."""
    return secrets.token_urlsafe(15)


def serve_workbench(
    ws, host: str, port: int, database_url: str | None = None, secure_cookies: bool = False
) -> None:
    """Run the workbench on ``host:port`` until interrupted."""
    import uvicorn

    from moneytrail.investigate.web import create_app

    if not ws.root.is_dir():
        raise WorkspaceError(
            f"There is no workspace at {ws.root}; run `moneytrail demo` or `moneytrail ingest` first."
        )
    if not 1 <= port <= 65535:
        raise ConfigError(f"The '--port' option must be between 1 and 65535. Got {port} instead.")
    with console.status("Preparing the workbench (indexing transactions)…"):
        application = create_app(ws, database_url=database_url, secure_cookies=secure_cookies)
    console.print(
        f"Workbench on [bold]http://{host}:{port}/[/]  (API documentation at /docs; Ctrl+C stops it)"
    )
    uvicorn.run(application, host=host, port=port, log_level="warning")


@app.command("serve")
def serve_command(
    workspace: WorkspaceOption = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    database_url: DatabaseOption = None,
    secure_cookies: Annotated[
        bool, typer.Option("--secure-cookies", help="Mark cookies Secure (behind HTTPS).")
    ] = False,
) -> None:
    """Serve the investigator's workbench (web pages and JSON API) over a workspace."""
    ws = workspace_from(workspace)
    from moneytrail.investigate.cases import open_store

    store = open_store(ws, database_url)
    if not any(not u.disabled for u in store.users()):
        err_console.print("No user can log in yet: add one with `moneytrail users add NAME --role admin`.")
    store.close()
    serve_workbench(ws, host, port, database_url, secure_cookies)


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: RoleOption = "analyst",
    display_name: Annotated[
        str | None, typer.Option("--name", help="Full name shown in the workbench.")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    workspace: WorkspaceOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Add a user. Without --password-stdin a random password is printed once."""
    from moneytrail.investigate.cases import open_store

    ws = workspace_from(workspace).ensure()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        shown = False
    else:
        password = random_password()
        shown = True
    store = open_store(ws, database_url)
    try:
        store.add_user(username, password, role, display_name)
    finally:
        store.close()
    console.print(f"Added {role} [bold]{username}[/].")
    if shown:
        console.print(f"Password (shown once): [bold]{password}[/]")


@users_app.command("list")
def users_list(workspace: WorkspaceOption = None, database_url: DatabaseOption = None) -> None:
    """List the users with their roles."""
    from moneytrail.investigate.cases import open_store

    store = open_store(workspace_from(workspace), database_url)
    t = Table(title="Workbench users")
    for col in ("user", "name", "role", "status", "created"):
        t.add_column(col)
    for u in store.users():
        t.add_row(
            u.username,
            u.display_name or "",
            u.role,
            "disabled" if u.disabled else "active",
            str(u.created_at),
        )
    store.close()
    console.print(t)


@users_app.command("disable")
def users_disable(
    username: Annotated[str, typer.Argument(help="Login name.")],
    workspace: WorkspaceOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Disable a user and end their sessions."""
    from moneytrail.investigate.cases import open_store

    store = open_store(workspace_from(workspace), database_url)
    try:
        store.set_disabled(username, True)
    finally:
        store.close()
    console.print(f"Disabled [bold]{username}[/]; their sessions have ended.")
