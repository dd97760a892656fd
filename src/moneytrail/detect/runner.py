"""Run the detector catalogue through an engine and write ``detector_hits``.

Each detector's query runs on the engine (never on a particular database), detectors whose tables
are absent are skipped and listed, the hits are unioned with any ``screening_hits`` written by
``resolve``, ordered by a deterministic key and written atomically.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from moneytrail.detect.catalog import Detector, load_catalog, select
from moneytrail.detect.sql import RESOLVED_PARTIES, hit_sql
from moneytrail.engine.base import Engine
from moneytrail.schema import table

HITS_TABLE = "detector_hits"
SCREENING_TABLE = "screening_hits"
_STAGED = "_detector_hits_staged"
RESOLVED = "resolved_entities"
ORDER_KEY = "detector_id, entity_kind, entity_id, window_start NULLS FIRST, hit_id"


@dataclass
class DetectorRun:
    """What one detector did in a run."""

    detector_id: str
    hits: int = 0
    seconds: float = 0.0
    # CPU seconds of this process (DuckDB works in it; a Spark cluster's work is not counted)
    cpu_seconds: float = 0.0
    skipped: str | None = None  # why it did not run (missing tables)


@dataclass
class DetectResult:
    """The outcome of :func:`run_detectors`."""

    runs: list[DetectorRun] = field(default_factory=list)
    screening_rows: int = 0
    total_hits: int = 0

    @property
    def skipped(self) -> list[DetectorRun]:
        return [r for r in self.runs if r.skipped]


def missing_tables(detector: Detector, engine: Engine) -> list[str]:
    """The tables ``detector`` needs that the engine's workspace lacks."""
    return [t for t in detector.tables if not engine.has_table(t)]


def detector_hits_sql(detector: Detector, overrides: dict[str, Any] | None = None) -> str:
    """The full ``detector_hits``-shaped query of one detector."""
    return hit_sql(detector.id, ";".join(detector.indicators), detector.severity, detector.sql(overrides))


def _conform(data: pa.Table, schema: pa.Schema) -> pa.Table:
    """Cast a detector's result to the canonical ``detector_hits`` schema (column order and types)."""
    cols = [data.column(f.name).cast(f.type) for f in schema]
    return pa.Table.from_arrays(cols, schema=schema)


def register_resolved_parties(engine: Engine) -> None:
    """Register ``RESOLVED_PARTIES`` (``party_id, entity_id``) from ``resolved_entities``, or empty
    when the workspace has not been resolved (detectors then fall back to party ids)."""
    if engine.has_table(RESOLVED):
        data = engine.query(f"SELECT party_id, entity_id FROM {RESOLVED}", label=RESOLVED)
    else:
        data = pa.table({"party_id": pa.array([], pa.string()), "entity_id": pa.array([], pa.string())})
    engine.register_arrow(RESOLVED_PARTIES, data)


def run_detectors(
    engine: Engine,
    *,
    only: str | list[str] | None = None,
    overrides: dict[str, dict[str, Any]] | None = None,
    detectors: dict[str, Detector] | None = None,
    console: Console | None = None,
    write: bool = True,
) -> DetectResult:
    """Run the catalogue (or the ``only`` ids) on ``engine`` and write ``detector_hits``.

    ``overrides`` maps detector id to parameter values (validated against the YAML).
    """
    catalog = detectors if detectors is not None else load_catalog()
    chosen = select(catalog, only)
    overrides = overrides or {}
    schema = table(HITS_TABLE).arrow_schema()
    result = DetectResult()
    parts: list[pa.Table] = []
    progress = Progress(
        TextColumn("[bold]detect[/] {task.fields[current]:<28}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console or Console(stderr=True),
        transient=True,
    )
    register_resolved_parties(engine)
    with progress:
        task = progress.add_task("detect", total=len(chosen), current="")
        for det in chosen:
            progress.update(task, current=det.id)
            run = DetectorRun(det.id)
            missing = missing_tables(det, engine)
            if missing:
                run.skipped = f"no table {', '.join(missing)}"
            else:
                t0, c0 = time.perf_counter(), time.process_time()
                data = engine.query(
                    detector_hits_sql(det, overrides.get(det.id)), label=f"detector '{det.id}'"
                )
                run.seconds = time.perf_counter() - t0
                run.cpu_seconds = time.process_time() - c0
                run.hits = data.num_rows
                parts.append(_conform(data, schema))
            result.runs.append(run)
            progress.advance(task)
    if engine.has_table(SCREENING_TABLE):
        cols = ", ".join(schema.names)
        screening = _conform(
            engine.query(f"SELECT {cols} FROM {SCREENING_TABLE}", label=SCREENING_TABLE), schema
        )
        result.screening_rows = screening.num_rows
        parts.append(screening)
    staged = pa.concat_tables(parts) if parts else schema.empty_table()
    result.total_hits = staged.num_rows
    if write:
        engine.register_arrow(_STAGED, staged)
        engine.write_table(HITS_TABLE, f"SELECT * FROM {_STAGED} ORDER BY {ORDER_KEY}")
    return result
