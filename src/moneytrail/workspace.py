"""Workspaces: a directory holding the Parquet tables, truth, quarantine, manifests and case data.

Layout::

    WS/
      tables/NAME.parquet     canonical and result tables (engine-neutral Parquet)
      truth/NAME.parquet      ground truth and labels; detection never reads it
      quarantine/NAME.parquet rejected rows with source file, line, raw text and reason
      runs/                   one JSON manifest per stage run
      models/                 trained models (resolution, scoring)
      cases.db                case data (SQLite) unless a database URL is configured

Every table write is atomic: the new file is written beside the old one and renamed over it, so an
interrupted command leaves the previous good table in place.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from moneytrail import __version__
from moneytrail.errors import WorkspaceError

AREAS = ("tables", "truth", "quarantine")


class Workspace:
    """A moneytrail workspace rooted at ``root``. Creating the object touches nothing on disk."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    # -- paths -------------------------------------------------------------------------------
    def area(self, area: str) -> Path:
        if area not in AREAS:
            raise WorkspaceError(
                f"The workspace area must be one of {', '.join(AREAS)}. Got {area!r} instead."
            )
        return self.root / area

    def path(self, name: str, area: str = "tables") -> Path:
        return self.area(area) / f"{name}.parquet"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    def ensure(self) -> Workspace:
        """Create the workspace folders if missing; returns self."""
        for a in AREAS:
            self.area(a).mkdir(parents=True, exist_ok=True)
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        return self

    # -- tables ------------------------------------------------------------------------------
    def has(self, name: str, area: str = "tables") -> bool:
        return self.path(name, area).is_file()

    def names(self, area: str = "tables") -> list[str]:
        d = self.area(area)
        if not d.is_dir():
            return []
        return sorted(p.stem for p in d.glob("*.parquet") if not p.name.startswith("."))

    def require(self, name: str, area: str = "tables") -> Path:
        p = self.path(name, area)
        if not p.is_file():
            raise WorkspaceError(
                f"The workspace {self.root} has no table '{name}' in {area}/; "
                "run the stage that writes it first (see `moneytrail tables`)."
            )
        return p

    def read(self, name: str, area: str = "tables") -> pa.Table:
        return pq.read_table(self.require(name, area))

    def row_count(self, name: str, area: str = "tables") -> int:
        return pq.ParquetFile(self.require(name, area)).metadata.num_rows

    @contextmanager
    def writing(self, name: str, area: str = "tables") -> Iterator[Path]:
        """Yield a temporary path to write ``name`` to; on success it replaces the table atomically.

        If the block raises, or the process dies, the temporary file is discarded (or left as a
        hidden ``.tmp`` file that readers ignore) and the previous table is untouched.
        """
        target = self.path(name, area)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{name}.{uuid.uuid4().hex}.tmp")
        try:
            yield tmp
            if not tmp.exists():
                raise WorkspaceError(f"Writing table '{name}' produced no file.")
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        finally:
            if tmp.exists():
                tmp.unlink()

    def write(self, name: str, data: pa.Table, area: str = "tables") -> int:
        """Write an Arrow table atomically; returns the row count."""
        with self.writing(name, area) as tmp:
            pq.write_table(data, tmp, compression="zstd")
        return data.num_rows

    def delete(self, name: str, area: str = "tables") -> None:
        p = self.path(name, area)
        if p.exists():
            p.unlink()

    # -- manifests ---------------------------------------------------------------------------
    def write_manifest(self, manifest: RunManifest) -> Path:
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        stamp = manifest.started_at.replace(":", "").replace("-", "")
        path = self.runs_dir / f"{stamp}-{manifest.stage}-{manifest.run_id[:8]}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(manifest.to_dict(), indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
        return path

    def manifests(self, stage: str | None = None) -> list[dict]:
        if not self.runs_dir.is_dir():
            return []
        out = []
        for p in sorted(self.runs_dir.glob("*.json")):
            data = json.loads(p.read_text(encoding="utf-8"))
            if stage is None or data.get("stage") == stage:
                out.append(data)
        return out


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class RunManifest:
    """What one stage run read, wrote and how long it took. Build it, fill it, then save it."""

    stage: str
    options: dict = field(default_factory=dict)
    inputs: list[dict] = field(default_factory=list)
    outputs: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    durations_s: dict[str, float] = field(default_factory=dict)
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started_at: str = field(default_factory=_now)
    finished_at: str | None = None
    status: str = "running"

    def add_input(self, path: str | os.PathLike, hash_files: bool = True) -> None:
        p = Path(path)
        entry: dict = {"path": str(p)}
        if p.is_file():
            entry["bytes"] = p.stat().st_size
            if hash_files:
                entry["sha256"] = file_sha256(p)
        self.inputs.append(entry)

    def finish(self, status: str = "ok") -> RunManifest:
        self.finished_at = _now()
        self.status = status
        return self

    def to_dict(self) -> dict:
        import duckdb

        return {
            "stage": self.stage,
            "run_id": self.run_id,
            "status": self.status,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "options": self.options,
            "inputs": self.inputs,
            "outputs": self.outputs,
            "counts": self.counts,
            "durations_s": {k: round(v, 3) for k, v in self.durations_s.items()},
            "versions": {
                "moneytrail": __version__,
                "python": platform.python_version(),
                "duckdb": duckdb.__version__,
                "pyarrow": pa.__version__,
            },
        }
