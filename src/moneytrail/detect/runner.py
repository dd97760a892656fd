"""Run the detector catalogue through an engine and write ``detector_hits``.

Each detector's query runs on the engine (never on a particular database), detectors whose tables
are absent are skipped and listed, the hits are unioned with any ``screening_hits`` written by
``resolve``, ordered by a deterministic key and written atomically.

The shared relations of :mod:`moneytrail.detect.sql` (``SHARED_RELATIONS``: the edges and
counterparty pairs of every transaction) are computed once per run when a chosen detector reads
them, kept by the engine (:meth:`~moneytrail.engine.base.Engine.materialize`) and released after
the last detector that reads them.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from moneytrail.detect.catalog import Detector, load_catalog, select
from moneytrail.detect.sql import (
    EDGES,
    PAIRS,
    RESOLVED_PARTIES,
    SHARED_RELATIONS,
    hit_sql,
    shared_relation_sql,
)
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
class SharedRun:
    """One shared relation computed for a run, or one workspace table the run asked the engine
    to cache (``cached`` says whether it did)."""

    name: str
    rows: int | None = None  # None when the engine defined a view (computed where it is read)
    cached: bool | None = None  # None for a shared relation
    seconds: float = 0.0
    cpu_seconds: float = 0.0


@dataclass
class DetectResult:
    """The outcome of :func:`run_detectors`."""

    runs: list[DetectorRun] = field(default_factory=list)
    shared: list[SharedRun] = field(default_factory=list)
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


# What each shared relation is computed from (so it reads the other one when both are needed).
_SHARED_INPUTS = {PAIRS: (EDGES,)}
# Relations that cost little more than reading their input: an engine may define them as views
# (DuckDB decodes the Parquet faster than it would fill and, at 100 million rows, spill a copy).
_LAZY = frozenset({EDGES})


def shared_relations_read(sql: str) -> tuple[str, ...]:
    """The :data:`~moneytrail.detect.sql.SHARED_RELATIONS` that a query reads, in their order.

    The names are reserved words of the detector SQL, so a whole-word match finds them (parsing
    the catalogue's queries would cost over a CPU-second per run).

    >>> shared_relations_read("SELECT src FROM _pairs JOIN accounts a ON a.account_id = src")
    ('_pairs',)
    """
    return tuple(n for n in SHARED_RELATIONS if re.search(rf"(?<![\w.]){re.escape(n)}\b", sql))


class SharedInputs:
    """Computes the shared relations that a list of queries reads, each once, just before the
    first query that reads it, and releases each after the last one (:meth:`done`).

    ``tables`` lists the workspace tables each query reads (a detector's declared tables). The
    engine caches a table read by more than one query from the first of them to the last
    (:meth:`~moneytrail.engine.base.Engine.cache_table`), before the shared relations built
    from it; it may decline, and queries then read the Parquet.
    """

    def __init__(self, engine: Engine, queries: Sequence[str], tables: Sequence[Sequence[str]] = ()):
        self.engine = engine
        self.reads = [shared_relations_read(q) for q in queries]
        self.last = {name: i for i, names in enumerate(self.reads) for name in names}
        self.live: list[str] = []  # computed and not yet released
        self.runs: list[SharedRun] = []
        tables = list(tables) or [()] * len(queries)
        readers = Counter(t for names in tables for t in set(names))
        self.tables = [sorted(t for t in set(names) if readers[t] > 1) for names in tables]
        self.last_table = {t: i for i, names in enumerate(self.tables) for t in names}
        self.cached: list[str] = []

    def before(self, i: int) -> None:
        """Provide what query ``i`` reads."""
        for name in self.tables[i]:
            self._cache(name)
        for name in self.reads[i]:
            self._provide(name, i)

    def done(self, i: int) -> None:
        """Release what no query after ``i`` reads."""
        for name in self.reads[i]:
            if self.last[name] == i and name in self.live:
                self.engine.release(name)
                self.live.remove(name)
        for name in self.tables[i]:
            if self.last_table[name] == i and name in self.cached:
                self.engine.uncache_table(name)
                self.cached.remove(name)

    def release_all(self) -> None:
        while self.live:
            self.engine.release(self.live.pop())
        while self.cached:
            self.engine.uncache_table(self.cached.pop())

    def _cache(self, name: str) -> None:
        if any(r.name == name for r in self.runs):
            return  # cached already, or declined
        run = SharedRun(name)
        t0, c0 = time.perf_counter(), time.process_time()
        run.cached = self.engine.cache_table(name)
        if run.cached:
            self.cached.append(name)
        run.seconds, run.cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
        self.runs.append(run)

    def _provide(self, name: str, i: int) -> None:
        if name in self.live:
            return
        for dep in _SHARED_INPUTS.get(name, ()):
            if self.last.get(dep, -1) >= i:  # a query still to run reads it too: build on it
                self._provide(dep, i)
        run = SharedRun(name)
        t0, c0 = time.perf_counter(), time.process_time()
        sql = shared_relation_sql(name, tuple(self.live))
        run.rows = self.engine.materialize(name, sql, label=f"shared relation '{name}'", lazy=name in _LAZY)
        run.seconds, run.cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
        self.live.append(name)
        self.runs.append(run)


@contextmanager
def shared_inputs(
    engine: Engine, queries: Sequence[str], tables: Sequence[Sequence[str]] = ()
) -> Iterator[SharedInputs]:
    """:class:`SharedInputs` for ``queries`` (reading workspace ``tables``), all released on exit."""
    shared = SharedInputs(engine, queries, tables)
    try:
        yield shared
    finally:
        shared.release_all()


def detector_rows(engine: Engine, detector: Detector, overrides: dict[str, Any] | None = None) -> pa.Table:
    """The ``detector_hits`` rows of one detector, with the relations it reads provided and then
    released (resolved parties must be registered: :func:`register_resolved_parties`)."""
    sql = detector_hits_sql(detector, overrides)
    with shared_inputs(engine, [sql]) as shared:
        shared.before(0)
        return engine.query(sql, label=f"detector '{detector.id}'")


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
    console = console or Console(stderr=True)
    progress = Progress(
        TextColumn("[bold]detect[/] {task.fields[current]:<28}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    register_resolved_parties(engine)
    runnable = {det.id: det for det in chosen if not missing_tables(det, engine)}
    queries = [detector_hits_sql(det, overrides.get(det.id)) for det in runnable.values()]
    position = {det_id: i for i, det_id in enumerate(runnable)}
    # Hits are sorted by ORDER_KEY when written, so the detectors' rows may come in any order.
    tables = [det.tables for det in runnable.values()]
    with progress, engine.any_row_order(), shared_inputs(engine, queries, tables) as shared:
        task = progress.add_task("detect", total=len(chosen), current="")
        for det in chosen:
            progress.update(task, current=det.id)
            run = DetectorRun(det.id)
            if det.id not in runnable:
                run.skipped = f"no table {', '.join(missing_tables(det, engine))}"
            else:
                i = position[det.id]
                shared.before(i)
                t0, c0 = time.perf_counter(), time.process_time()
                data = engine.query(queries[i], label=f"detector '{det.id}'")
                run.seconds = time.perf_counter() - t0
                run.cpu_seconds = time.process_time() - c0
                run.hits = data.num_rows
                parts.append(_conform(data, schema))
                shared.done(i)
                if not console.is_terminal:
                    # No progress bar off a terminal (a log, a scheduler): a line per detector.
                    console.print(
                        f"detect {det.id}: {run.hits:,} hits in {run.seconds:.1f} s", highlight=False
                    )
            result.runs.append(run)
            progress.advance(task)
        result.shared = shared.runs
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
