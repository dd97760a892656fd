"""moneytrail's command line. See ``moneytrail --help``.

Errors a user can cause end in one sentence and a non-zero exit code; ``--debug`` shows the
traceback instead.
"""

from __future__ import annotations

import sys

from moneytrail.cli.app import app, err_console, state
from moneytrail.errors import MoneytrailError

# Each stage registers its commands on import.
from moneytrail.cli import tables as _tables  # noqa: E402,F401
from moneytrail.cli import evaluate as _evaluate  # noqa: E402,F401
from moneytrail.cli import serve as _serve  # noqa: E402,F401
from moneytrail.cli import demo as _demo  # noqa: E402,F401
from moneytrail.cli import ingest as _ingest  # noqa: E402,F401
from moneytrail.cli import report as _report  # noqa: E402,F401
from moneytrail.cli import resolve as _resolve  # noqa: E402,F401
from moneytrail.cli import detect as _detect  # noqa: E402,F401
from moneytrail.cli import simulate as _simulate  # noqa: E402,F401
from moneytrail.cli import score as _score  # noqa: E402,F401


def main() -> None:
    if "--debug" in sys.argv[1:]:
        state.debug = True
    try:
        app()
    except MoneytrailError as e:
        if state.debug:
            raise
        err_console.print(f"[bold red]error:[/] {e}", soft_wrap=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted; tables already written are intact.")
        sys.exit(130)


__all__ = ["app", "main"]
