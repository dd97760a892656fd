"""One exception hierarchy for moneytrail, rooted in :class:`MoneytrailError`.

Every error a user can cause carries one clear sentence that names the file, line, option or
table at fault. The command line prints that sentence and exits with ``exit_code``.
"""

from __future__ import annotations


class MoneytrailError(Exception):
    """Base of every error moneytrail raises on purpose."""

    exit_code = 1


class ConfigError(MoneytrailError):
    """A bad option, preset, parameter or setting."""

    exit_code = 2


class SchemaError(MoneytrailError):
    """The schema declaration or a catalogue file is malformed."""

    exit_code = 2


class InputFileError(MoneytrailError):
    """A file-level problem with an input: unreadable, wrong format, missing a required column."""

    exit_code = 2


class StrictModeError(MoneytrailError):
    """``--strict`` was given and some rows went to the quarantine."""

    exit_code = 3


class WorkspaceError(MoneytrailError):
    """The workspace is missing a table or is otherwise not usable for the requested command."""

    exit_code = 2


class EngineError(MoneytrailError):
    """A query failed in the engine; the message names the table and carries the SQL."""

    exit_code = 1

    def __init__(self, message: str, sql: str | None = None):
        super().__init__(message)
        self.sql = sql
