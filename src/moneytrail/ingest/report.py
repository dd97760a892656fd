"""What one ingest run did: counts per table and the first quarantine reasons."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class TableCounts:
    """Rows of one table in one run. ``read == loaded + quarantined`` always."""

    read: int = 0
    loaded: int = 0
    quarantined: int = 0
    placeholders: int = 0
    total: int = 0  # rows in the table after the run (all sources)

    def to_dict(self) -> dict[str, int]:
        return {
            "read": self.read,
            "loaded": self.loaded,
            "quarantined": self.quarantined,
            "placeholders": self.placeholders,
            "total": self.total,
        }


@dataclass
class QuarantineSample:
    table: str
    source_file: str
    line: int
    reason: str


@dataclass
class IngestReport:
    """The result of :func:`moneytrail.ingest.ingest`."""

    format: str
    path: Path
    run_id: str
    tables: dict[str, TableCounts] = field(default_factory=dict)
    truth: dict[str, TableCounts] = field(default_factory=dict)
    samples: list[QuarantineSample] = field(default_factory=list)
    manifest_path: Path | None = None
    duration_s: float = 0.0
    # The run id of the last ingest when the input had not changed since (nothing was done).
    unchanged_since: str | None = None

    @property
    def unchanged(self) -> bool:
        """Whether the run found its input unchanged since the last ingest and changed nothing."""
        return self.unchanged_since is not None

    @property
    def read(self) -> int:
        return sum(c.read for c in self.tables.values())

    @property
    def loaded(self) -> int:
        return sum(c.loaded for c in self.tables.values())

    @property
    def quarantined(self) -> int:
        return sum(c.quarantined for c in [*self.tables.values(), *self.truth.values()])

    def to_dict(self) -> dict:
        return {
            "format": self.format,
            "path": str(self.path),
            "run_id": self.run_id,
            "tables": {k: v.to_dict() for k, v in self.tables.items()},
            "truth": {k: v.to_dict() for k, v in self.truth.items()},
            "quarantine_samples": [s.__dict__ for s in self.samples],
            "duration_s": round(self.duration_s, 3),
            "unchanged_since": self.unchanged_since,
        }


@contextlib.contextmanager
def progress(enabled: bool):
    """A rich progress display on stderr, or None when not ``enabled``."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as prog:
        yield prog
