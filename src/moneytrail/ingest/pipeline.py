"""The ingest run: read, validate, de-duplicate, add placeholders, merge, write, report.

Order of work, chosen so that a file-level problem writes nothing:

0. when the workspace's last ingest read the same files (sha256 computed afresh) with the same
   options, and none of its tables was written since, there is nothing to do: the run reports
   that ingest's counts and leaves a manifest with status ``unchanged`` (see
   :func:`moneytrail.ingest.inputs.unchanged_since`);
1. every input file's header is read and checked (missing file or column: error, nothing written);
2. a table that needs nothing from other rows is validated and written in one pass over its
   file (see :mod:`moneytrail.ingest.stream`), into a file beside the table that replaces it only
   in step 5;
3. every other mapping that reads input files is validated into a staged DuckDB table ``stage_<i>``
   (materialised once; it spills to the run's temporary folder past the memory limit); an
   unreadable file fails here, still before any write. Files are read in parallel and lines come
   from the rows' positions (see ``_scan_in_parallel``);
4. duplicates are found, giving the rows to load (``new_<table>``); derived mappings (labels)
   are then staged from those rows, so their keys are unique when their parents' are;
5. placeholders and counts are computed from the staged tables;
6. the quarantine is written, then (unless ``strict`` found bad rows) the tables, each atomically.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import duckdb

from moneytrail.engine import make_engine
from moneytrail.errors import EngineError, StrictModeError
from moneytrail.ingest import merge
from moneytrail.ingest.formats import Mapping, get_format
from moneytrail.ingest.inputs import UNCHANGED, InputHashes, unchanged_since
from moneytrail.ingest.parquet import statistics_columns, write_parquet
from moneytrail.ingest.report import IngestReport, QuarantineSample, TableCounts
from moneytrail.ingest.report import progress as report_progress
from moneytrail.ingest.sources import (
    Source,
    first_line,
    ident,
    line_fix_sql,
    open_source,
    rejected_lines_sql,
    scan_sql,
    set_origin,
    sql_literal,
    unreadable,
)
from moneytrail.ingest.stream import GiveUp, Streamed, reads_only, stream
from moneytrail.ingest.validate import absent_columns, mapping_stage_sql
from moneytrail.schema import table
from moneytrail.settings import get_settings
from moneytrail.workspace import RunManifest, Workspace

SAMPLE_REASONS = 5
# DuckDB's memory limit when MONEYTRAIL_MEMORY_LIMIT is not set. The validated rows are held in
# DuckDB tables until they are written; past this limit they spill to the run's temporary folder,
# which keeps a 10-million-row ingest under 4 GB of memory.
MEMORY_LIMIT = "2GB"


def ingest(
    path: str | Path,
    fmt: str = "auto",
    workspace: Workspace | str | Path = "workspace",
    strict: bool = False,
    progress: bool = True,
) -> IngestReport:
    """Ingest the files at ``path`` in format ``fmt`` into ``workspace``; return what happened.

    >>> report = ingest("world/", "canonical", Workspace("ws"))  # doctest: +SKIP
    >>> report.tables["transactions"].loaded  # doctest: +SKIP
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    path = Path(path)
    t0 = time.perf_counter()
    with report_progress(progress) as prog, tempfile.TemporaryDirectory(prefix="moneytrail-ingest-") as tmp:
        run = _Run(ws, path, fmt, strict, Path(tmp), prog)
        try:
            report = run.execute()
        finally:
            run.close()
    report.duration_s = time.perf_counter() - t0
    return report


class _Run:
    """One ingest run's state; :meth:`execute` does the work in the order of the module doc."""

    def __init__(self, ws: Workspace, path: Path, fmt: str, strict: bool, tmp: Path, prog):
        self.ws = ws
        self.path = path
        self.fmt = get_format(fmt, path)
        self.strict = strict
        self.tmp = tmp
        self.prog = prog
        self.task = prog.add_task("ingest", total=None) if prog else None
        self.manifest = RunManifest(
            stage="ingest", options={"format": self.fmt.name, "strict": strict, "path": str(path)}
        )
        self.report = IngestReport(format=self.fmt.name, path=path, run_id=self.manifest.run_id)
        self.eng = None
        # Names of the CSV sources read without line numbers (see _scan_in_parallel).
        self.positional: set[str] = set()
        # Tables written by the single pass, committed in _write_tables.
        self.streamed: dict[str, Streamed] = {}
        # (new-rows relation, column) -> a relation of the column's distinct values and their
        # source, which the single pass gathered (see Streamed.distinct).
        self.distinct: dict[tuple[str, str], str] = {}
        self.hashes: InputHashes | None = None

    def say(self, text: str) -> None:
        if self.prog is not None:
            self.prog.update(self.task, description=text)

    def close(self) -> None:
        if self.hashes is not None:
            self.hashes.close()
        for out in self.streamed.values():
            out.discard()
        if self.eng is not None:
            self.eng.close()

    def _count(self, sql: str) -> int:
        return self.con.execute(sql).fetchall()[0][0]

    @contextlib.contextmanager
    def timed(self, label: str):
        """Add the block's duration to the manifest under ``label``."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            spent = time.perf_counter() - t0
            self.manifest.durations_s[label] = self.manifest.durations_s.get(label, 0.0) + spent

    # -- the run ---------------------------------------------------------------------------------
    def execute(self) -> IngestReport:
        settings = get_settings()
        sources = self.fmt.sources(self.path)
        for src in sources:
            set_origin(src, self.path)
        origins = [p for p in dict.fromkeys(s.origin_path for s in sources) if p.is_file()]
        self.say("checking whether the input changed since the last ingest")
        with self.timed("check for changes"):
            previous = unchanged_since(self.ws, self.manifest.options, origins)
        if previous is not None:
            return self._unchanged(*previous)
        self.hashes = InputHashes(self.ws, origins)
        self.hashes.start()
        self.eng = make_engine(
            "duckdb",
            self.ws,
            threads=settings.threads,
            memory_limit=settings.memory_limit or MEMORY_LIMIT,
            temp_directory=str(self.tmp),
        )
        self.eng.open()
        self.con = self.eng.con
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute("SET enable_progress_bar = false")  # progress is ours, on stderr
        # Line numbers of positional mappings are the staged rows' positions (see _stage_relation).
        self.con.execute("SET preserve_insertion_order = true")
        with self.timed("read headers"):
            for src in sources:
                self.say(f"reading the header of {src.path.name}")
                open_source(self.con, src)
        by_name = {s.name: s for s in sources}
        mappings = self.fmt.mappings(by_name, self.con)
        self._scan_in_parallel(mappings, sources)
        by_table: dict[str, list[int]] = defaultdict(list)
        for i, m in enumerate(mappings):
            by_table[m.table].append(i)
        # Tables fed by a derived mapping are staged once the tables they read are de-duplicated.
        late = {m.table for m in mappings if m.derived}
        dup: dict[str, bool] = {}
        self._stream_tables(mappings, by_table)
        dup.update(dict.fromkeys(self.streamed, False))
        staged = [t for t in by_table if t not in self.streamed]
        with self.timed("validate"):
            self._stage_primary(mappings, sources)
        rejects = self._rejects(sources)
        self._find_duplicates([t for t in staged if t not in late], mappings, by_table, dup)
        with self.timed("validate labels"):
            derived = [(i, m) for i, m in enumerate(mappings) if m.derived and m.table in staged]
            for i, m in derived:
                self._stage(i, m)
            self._stage_views(mappings, [t for t in staged if t in late])
        self._find_duplicates([t for t in staged if t in late], mappings, by_table, dup)
        with self.timed("quarantine"):
            tally = self._tally(by_table, dup)
            q_counts = self._write_quarantine(by_table, dup, rejects, sources, tally)
        counts = self._counts(by_table, q_counts, tally)
        if self.strict and sum(q_counts.values()):
            self.manifest.counts = {f"{t}.quarantined": n for t, n in q_counts.items()}
            self.ws.write_manifest(self.manifest.finish("failed-strict"))
            first = self.report.samples[0] if self.report.samples else None
            where = f" (first: {first.source_file} line {first.line}: {first.reason})" if first else ""
            raise StrictModeError(
                f"--strict was given and {sum(q_counts.values()):,} row(s) went to the quarantine{where}; "
                "no table was changed."
            )
        self._write_tables(by_table, counts)
        self._record(counts)
        with self.timed("hash inputs"):
            self.manifest.inputs.extend(self.hashes.entries())
        self.manifest.outputs.update({t: c.total for t, c in counts.items()})
        self.report.manifest_path = self.ws.write_manifest(self.manifest.finish("ok"))
        return self.report

    def _unchanged(self, previous: dict, inputs: list[dict]) -> IngestReport:
        """Change no table; report what a re-ingest would: the last ingest's counts, no placeholders.

        The counts are those of the ingest that loaded this input, except placeholders: a
        re-ingest adds none, since they exist.
        """
        counts: dict[str, TableCounts] = {}
        for key, value in previous.get("counts", {}).items():
            name, _, field = key.rpartition(".")
            if field in TableCounts.__dataclass_fields__ and field != "placeholders":
                setattr(counts.setdefault(name, TableCounts()), field, value)
        self.report.unchanged_since = previous.get("run_id")
        self._record(counts)
        self.manifest.inputs = inputs
        self.manifest.outputs = dict(previous.get("outputs", {}))
        self.report.manifest_path = self.ws.write_manifest(self.manifest.finish(UNCHANGED))
        return self.report

    def _record(self, counts: dict[str, TableCounts]) -> None:
        """Put the tables' counts in the report (input tables and truth apart) and the manifest."""
        self.report.tables = {t: c for t, c in counts.items() if table(t).kind != "truth"}
        self.report.truth = {t: c for t, c in counts.items() if table(t).kind == "truth"}
        for t, c in counts.items():
            for k, v in c.to_dict().items():
                self.manifest.counts[f"{t}.{k}"] = v

    # -- the single pass ---------------------------------------------------------------------------
    def _stream_tables(self, mappings: list[Mapping], by_table: dict[str, list[int]]) -> None:
        """Validate and write in one pass the tables that allow it (see moneytrail.ingest.stream)."""
        loaded = [t for t in by_table if table(t).kind == "input"]
        placeholder_targets = merge.placeholder_targets(loaded)
        targets = {t for t, _ in placeholder_targets}
        for t, idx in by_table.items():
            m = mappings[idx[0]]
            if len(idx) != 1 or m.derived or not self._in_file_order(m) or t in targets:
                continue
            readers = [d for d in mappings if d.derived and re.search(rf"\bnew_{t}\b", d.sql)]
            if self.ws.has(t, table(t).area) or not all(self._streamable(d, t, by_table) for d in readers):
                continue
            self.say(f"validating and writing {t} from {m.source.path.name}")
            try:
                with self.timed(f"stream {t}"):
                    # The ids its rows refer to, for the placeholders (see _write_tables).
                    refs = [c for _, rs in placeholder_targets for rel, c in rs if rel == f"new_{t}"]
                    outs = stream(self.con, self.ws, m, readers, list(dict.fromkeys(refs)))
            except GiveUp:
                self._give_up(t, m.source, {})
                continue
            except duckdb.Error as e:
                raise unreadable(e, m.source) from None
            if self._has_rejects(m.source):
                # Some lines could not be split into fields: positions are no longer lines.
                self._give_up(t, m.source, outs)
                continue
            self.streamed.update(outs)
            for name, out in outs.items():
                for col, values in out.distinct.items():
                    self.con.register(f"distinct_{name}_{col}", values)
                    self.distinct[(f"new_{name}", col)] = f"distinct_{name}_{col}"
                if out.bad:
                    # The quarantine reads a table's bad rows from stage_<table>.
                    self.con.register(f"bad_{name}", out.bad_rows())
                    self.con.execute(
                        f"CREATE OR REPLACE VIEW stage_{name} AS "
                        f"SELECT {sql_literal(out.file)} AS _file, * FROM bad_{name}"
                    )
                self.con.execute(
                    f"CREATE OR REPLACE VIEW new_{name} AS SELECT * FROM read_parquet({sql_literal(str(out.path))})"
                )

    def _streamable(self, d: Mapping, t: str, by_table: dict[str, list[int]]) -> bool:
        """Whether derived mapping ``d`` can be computed batch by batch from ``t``'s loaded rows."""
        return (
            len(by_table[d.table]) == 1
            and d.unique_keys
            and not d.ordered
            and reads_only(d, t)
            and not self.ws.has(d.table, table(d.table).area)
        )

    def _give_up(self, t: str, src: Source, outs: dict[str, Streamed]) -> None:
        """Undo a single pass: its files, its reader's rejects (the next scan's are the only ones)."""
        for out in outs.values():
            out.discard()
        for name in (src.rejects_table, f"{src.rejects_table}_scan"):
            self.con.execute(f"DROP TABLE IF EXISTS {name}")
        spent = self.manifest.durations_s.pop(f"stream {t}", 0.0)
        self.manifest.durations_s[f"stream {t} (given up)"] = spent

    # -- staging ---------------------------------------------------------------------------------
    def _scan_in_parallel(self, mappings: list[Mapping], sources: list[Source]) -> None:
        """Read every CSV file without ``row_number() OVER ()``, which reads on one thread.

        A file that only positional mappings read is scanned by each of them. Any other file is
        read once into a temporary table that every mapping reading it scans: the table keeps the
        file's order, so a row's line is its rowid + 2 (the rejected-lines fix in _stage_primary
        replaces this view when the reader rejected lines).
        """
        for src in sources:
            if src.is_parquet:
                continue
            readers = [m for m in mappings if _reads(m, src)]
            if readers and all(m.positional and m.source is src for m in readers):
                self.con.execute(f"CREATE OR REPLACE VIEW {src.relation} AS {scan_sql(src, numbered=False)}")
                self.positional.add(src.name)
            elif readers:
                self.say(f"reading {src.path.name}")
                try:
                    with self.timed("read files"):
                        self.con.execute(
                            f"CREATE OR REPLACE TEMP TABLE scan_{src.name} AS {scan_sql(src, numbered=False)}"
                        )
                except duckdb.Error as e:
                    raise unreadable(e, src) from None
                self.con.execute(
                    f"CREATE OR REPLACE VIEW {src.relation} AS SELECT * EXCLUDE (_line), "
                    f"CAST(rowid + 2 AS BIGINT) AS _line FROM scan_{src.name}"
                )

    def _is_positional(self, m: Mapping) -> bool:
        return m.positional and m.source.name in self.positional

    def _in_file_order(self, m: Mapping) -> bool:
        """Whether ``m`` is a projection of its file that a single pass can number by position: a
        CSV file read in parallel (see _scan_in_parallel) or a Parquet file, read in order."""
        return self._is_positional(m) or (m.positional and m.source.is_parquet)

    def _stage(self, i: int, m: Mapping, ordered: bool = False) -> None:
        self.say(f"validating {m.table} from {m.source.path.name}")
        sql = mapping_stage_sql(m)
        # Columns the mapping leaves empty are added back by _stage_relation: storing a column of
        # NULLs costs about as much as storing values.
        dropped = [ident(c.name) for c in absent_columns(table(m.table), m.present)]
        if self._is_positional(m):
            # Line numbers come from the rows' positions (see _stage_relation).
            dropped += ["_line", "_file"]
            sql = f"SELECT * EXCLUDE ({', '.join(dropped)}) FROM ({sql})"
        else:
            ordered = ordered or m.ordered
            # The scan keeps file order; only the line-number fix (an as-of join) needs a sort.
            keep = f"* EXCLUDE ({', '.join(dropped)})" if dropped else "*"
            sql = f"SELECT {keep}, {i} AS _m FROM ({sql})" + (" ORDER BY _line" if ordered else "")
        # A derived mapping in file order only reads staged rows: recomputing it where it is
        # used costs less than a copy of its rows.
        kind = "VIEW" if m.derived and not ordered else "TABLE"
        try:
            # A DuckDB table, not a file: every later step (duplicates, quarantine, labels,
            # placeholders, the final write) reads it at memory speed, and DuckDB spills it to
            # the temporary folder when it outgrows the memory limit.
            self.con.execute(f"CREATE OR REPLACE TEMP {kind} stage_{i} AS {sql}")
        except duckdb.Error as e:
            raise unreadable(e, m.source) from None

    def _stage_relation(self, i: int, m: Mapping) -> str:
        """``stage_<i>`` with every column of the table, ``_m``, ``_line`` and ``_file``."""
        cols = ["*"]
        cols += [
            f"CAST(NULL AS {c.sql_type}) AS {ident(c.name)}"
            for c in absent_columns(table(m.table), m.present)
        ]
        if self._is_positional(m):
            # The table was created from the file's scan in file order, so rowid 0 is line 2.
            cols += [
                f"{i} AS _m",
                "CAST(rowid + 2 AS BIGINT) AS _line",
                f"{sql_literal(str(m.source.path))} AS _file",
            ]
        return f"SELECT {', '.join(cols)} FROM stage_{i}"

    def _stage_primary(self, mappings: list[Mapping], sources: list[Source]) -> None:
        primary = [(i, m) for i, m in enumerate(mappings) if not m.derived and m.table not in self.streamed]
        for i, m in primary:
            self._stage(i, m)
        # Where the reader rejected lines, record numbers are off; fix them and stage again.
        for src in sources:
            if src.is_parquet or not self._has_rejects(src):
                continue
            self.con.execute(
                f"CREATE OR REPLACE TABLE {src.rejects_table}_lines AS {rejected_lines_sql(src)}"
            )
            self.con.execute(f"CREATE OR REPLACE TABLE {src.rejects_table}_fix AS {line_fix_sql(src)}")
            self.con.execute(f"CREATE OR REPLACE VIEW {src.relation} AS {scan_sql(src, with_fix=True)}")
            self.positional.discard(src.name)
            for i, m in primary:
                if _reads(m, src):
                    self._stage(i, m, ordered=True)
        self._stage_views(mappings, list(dict.fromkeys(m.table for _, m in primary)))

    def _stage_views(self, mappings: list[Mapping], tables: list[str]) -> None:
        for t in tables:
            union = " UNION ALL BY NAME ".join(
                self._stage_relation(i, m) for i, m in enumerate(mappings) if m.table == t
            )
            self.con.execute(f"CREATE OR REPLACE VIEW stage_{t} AS {union}")

    def _has_rejects(self, src: Source) -> bool:
        try:
            return bool(self._count(f"SELECT count(*) FROM {src.rejects_table}"))
        except duckdb.CatalogException:
            return False

    def _rejects(self, sources: list[Source]) -> dict[str, list[str]]:
        """Per table, relations of the reader's rejected lines (``_file, line, raw, reason``)."""
        out: dict[str, list[str]] = defaultdict(list)
        for src in sources:
            if src.is_parquet or not self._has_rejects(src):
                continue
            rel = f"{src.rejects_table}_q"
            self.con.execute(
                f"CREATE OR REPLACE VIEW {rel} AS SELECT {sql_literal(str(src.path))} AS _file, line, raw, reason "
                f"FROM {src.rejects_table}_lines"
            )
            out[src.table].append(rel)
        return out

    def _find_duplicates(self, tables, mappings, by_table, dup: dict[str, bool]) -> None:
        """Find each table's duplicate keys and define ``new_<table>``, the rows to load."""
        with self.timed("duplicates"):
            for t in tables:
                unique = all(mappings[i].unique_keys for i in by_table[t])
                dup[t] = False if unique else self._duplicates(t)
                self.con.execute(f"CREATE OR REPLACE VIEW new_{t} AS {merge.new_rows_sql(table(t), dup[t])}")

    def _duplicates(self, t: str) -> bool:
        tab = table(t)
        if not tab.key:
            return False
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE duph_{t} AS {merge.duplicate_hashes_sql(tab)}")
        if not self._count(f"SELECT count(*) FROM duph_{t}"):
            return False
        self.con.execute(f"CREATE OR REPLACE TABLE dup_{t} AS {merge.duplicates_sql(tab, f'duph_{t}')}")
        return bool(self._count(f"SELECT count(*) FROM dup_{t}"))

    # -- quarantine ------------------------------------------------------------------------------
    def _tally(self, by_table, dup) -> dict[str, tuple[int, int, int]]:
        """Per table: rows staged, rows that failed validation, rows to load."""
        out = {}
        for t in by_table:
            if t in self.streamed:
                s = self.streamed[t]
                out[t] = (s.read, s.read - s.loaded, s.loaded)
                continue
            staged, invalid = self.con.execute(f"SELECT count(*), count(_reason) FROM stage_{t}").fetchall()[
                0
            ]
            loaded = self._count(f"SELECT count(*) FROM new_{t}") if dup[t] else staged - invalid
            out[t] = (staged, invalid, loaded)
        return out

    def _write_quarantine(self, by_table, dup, rejects, sources, tally) -> dict[str, int]:
        out = {}
        for t in by_table:
            tab = table(t)
            if not (tally[t][1] or dup[t] or rejects.get(t)):
                out[t] = 0
                continue
            self.con.execute(
                f"CREATE OR REPLACE TABLE q_new AS {merge.quarantine_sql(tab, self.report.run_id, rejects.get(t, []), dup[t])}"
            )
            n = self._count("SELECT count(*) FROM q_new")
            out[t] = n
            if not n:
                continue
            for row in self.con.execute(
                f"SELECT table_name, source_file, line, reason FROM q_new ORDER BY source_file, line LIMIT {SAMPLE_REASONS}"
            ).fetchall():
                if len(self.report.samples) < SAMPLE_REASONS:
                    self.report.samples.append(QuarantineSample(*row))
            existing = None
            if self.ws.has(t, "quarantine"):
                existing = f"read_parquet({sql_literal(str(self.ws.path(t, 'quarantine')))})"
            files = list(dict.fromkeys(str(s.origin_path) for s in sources))
            self.say(f"writing the quarantine of {t}")
            self._write(
                t, merge.quarantine_merge_sql(existing, files), "quarantine", f"the quarantine of '{t}'"
            )
        return out

    # -- counts and writes -----------------------------------------------------------------------
    def _counts(self, by_table, q_counts, tally) -> dict[str, TableCounts]:
        counts = {}
        for t in by_table:
            staged, _, loaded = tally[t]
            rejected = q_counts[t] - (staged - loaded)
            c = TableCounts(read=staged + rejected, loaded=loaded, quarantined=q_counts[t])
            assert c.read == c.loaded + c.quarantined
            counts[t] = c
        return counts

    def _existing(self, t: str, area: str) -> tuple[str | None, list[str]]:
        if not self.ws.has(t, area):
            return None, []
        p = sql_literal(str(self.ws.path(t, area)))
        self.con.execute(
            f"CREATE OR REPLACE VIEW old_{t} AS SELECT * FROM read_parquet({p}, file_row_number = true)"
        )
        cols = [r[0] for r in self.con.execute(f"DESCRIBE old_{t}").fetchall() if r[0] != "file_row_number"]
        return f"old_{t}", cols

    def _write_tables(self, by_table, counts: dict[str, TableCounts]) -> None:
        # Placeholders: ids referenced by loaded rows but described by no row.
        loaded = [t for t in by_table if table(t).kind == "input"]
        targets = merge.placeholder_targets(loaded)
        ph: dict[str, int] = {}
        for target, refs in targets:
            tab = table(target)
            # The distinct ids a single pass gathered give the same placeholders as its rows.
            refs = [(self.distinct.get((rel, col), rel), col) for rel, col in refs]
            if target not in by_table:
                self.con.execute(
                    f"CREATE OR REPLACE VIEW new_{target} AS SELECT * FROM ({merge.empty_sql(tab)})"
                )
            existing, _ = self._existing(target, "tables")
            holders = ["new_parties"] if "parties" in by_table else []
            if self.ws.has("parties"):
                holders.append(f"read_parquet({sql_literal(str(self.ws.path('parties')))})")
            with self.timed("placeholders"):
                self.con.execute(
                    f"CREATE OR REPLACE TABLE ph_{target} AS {merge.placeholder_sql(tab, refs, existing, holders)}"
                )
            ph[target] = self._count(f"SELECT count(*) FROM ph_{target}")
            if target not in counts:
                if not ph[target]:
                    continue
                counts[target] = TableCounts()
                by_table.setdefault(target, [])
            counts[target].placeholders = ph[target]
        for t in by_table:
            tab = table(t)
            area = tab.area
            if t in self.streamed and counts[t].loaded:
                with self.timed(f"write {t}"):
                    self.streamed.pop(t).commit(self.ws)
                counts[t].total = counts[t].loaded
                continue
            if not counts[t].loaded and not ph.get(t):
                counts[t].total = self.ws.row_count(t, area) if self.ws.has(t, area) else 0
                continue
            existing, ecols = self._existing(t, area)
            self.say(f"writing {t}")
            with self.timed(f"write {t}"):
                counts[t].total = self._write(
                    t, merge.merged_sql(tab, existing, ecols, bool(ph.get(t))), area, f"table '{t}'"
                )

    def _write(self, name: str, sql: str, area: str, label: str) -> int:
        """Store the rows of ``sql`` as workspace table ``name`` in ``area``, atomically."""
        with self.ws.writing(name, area) as tmp:
            try:
                statistics = statistics_columns(name) if area != "quarantine" else True
                return write_parquet(self.con, sql, tmp, statistics)
            except duckdb.Error as e:
                raise EngineError(
                    f"The duckdb engine failed writing {label}: {first_line(e)}", sql=sql
                ) from e


def _reads(m: Mapping, src: Source) -> bool:
    """Whether the mapping's SQL reads the source's scan view."""
    return re.search(rf"\b{re.escape(src.relation)}\b", m.sql) is not None
