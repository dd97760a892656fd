"""The typer application and the options every command shares.

Command modules (``moneytrail.cli.<stage>``) import :data:`app` and decorate their commands;
:mod:`moneytrail.cli` imports them all and provides :func:`main`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from moneytrail.settings import get_settings
from moneytrail.workspace import Workspace

app = typer.Typer(
    name="moneytrail",
    help="Follow the money of the fentanyl trade: simulate, ingest, resolve, detect, score, investigate.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


class _State:
    debug: bool = False


state = _State()

WorkspaceOption = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        help="Workspace directory (default ./workspace, or MONEYTRAIL_WORKSPACE).",
        show_default=False,
    ),
]
EngineOption = Annotated[
    str | None,
    typer.Option("--engine", help="Query engine: duckdb (default) or spark.", show_default=False),
]


def workspace_from(option: Path | None) -> Workspace:
    """The workspace named on the command line, else the configured default."""
    return Workspace(option if option is not None else get_settings().workspace)


def engine_name(option: str | None) -> str:
    return option or get_settings().engine


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    state.debug = debug or get_settings().debug
