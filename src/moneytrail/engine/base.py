"""The engine interface: the one place that executes queries.

Domain code builds SQL strings (pure functions ending in ``_sql``) in the *portable dialect*
(DuckDB's SQL, which sqlglot can transpile) and hands them to an :class:`Engine`. Engines differ
only in the four abstract methods below; no domain code asks which engine it runs on.
"""

from __future__ import annotations

import abc
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa

from moneytrail.engine import graph
from moneytrail.errors import ConfigError, EngineError
from moneytrail.workspace import Workspace

PORTABLE_DIALECT = "duckdb"


class Engine(abc.ABC):
    """Executes portable SQL over a workspace's tables.

    On :meth:`open`, every table under ``tables/`` is visible by its name; truth tables are
    visible as ``truth_<name>`` only when ``include_truth`` is true (evaluation and training).
    """

    name: str = "abstract"
    #: Largest edge count for which :meth:`connected_components` loads the graph into memory
    #: (igraph) instead of iterating in SQL; 0 means always iterate (engines for large data).
    in_memory_graph_limit: int = 0

    def __init__(self, workspace: Workspace, *, include_truth: bool = False, **options):
        self.workspace = workspace
        self.include_truth = include_truth
        self.options = options
        self._registered: dict[str, Path] = {}
        self._materialized: dict[str, Path | None] = {}
        self._cached: set[str] = set()
        self.timings: dict[str, float] = {}

    # -- the four things an engine must do -----------------------------------------------------
    @abc.abstractmethod
    def _connect(self) -> None:
        """Open the underlying connection or session."""

    @abc.abstractmethod
    def _register_parquet(self, name: str, path: Path) -> None:
        """Make the Parquet file at ``path`` queryable as ``name`` (replacing any earlier one)."""

    @abc.abstractmethod
    def _register_arrow(self, name: str, data: pa.Table) -> None:
        """Make an in-memory Arrow table queryable as ``name``."""

    @abc.abstractmethod
    def _execute(self, sql: str) -> pa.Table:
        """Run one portable SQL query and return its result as Arrow."""

    @abc.abstractmethod
    def _copy_to_parquet(self, sql: str, path: Path) -> int:
        """Run ``sql`` and write its result to one Parquet file at ``path``; return the row count."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the connection."""

    def _unregister(self, name: str) -> None:  # noqa: B027 - optional hook
        """Forget a scratch table registered with :meth:`_register_parquet`."""

    # -- shared behaviour ----------------------------------------------------------------------
    def open(self) -> Engine:
        self._connect()
        self.refresh()
        return self

    def __enter__(self) -> Engine:
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    def refresh(self) -> None:
        """Register every table of the workspace (call again after tables change)."""
        for name in self.workspace.names("tables"):
            self.register_parquet(name, self.workspace.path(name))
        if self.include_truth:
            for name in self.workspace.names("truth"):
                self.register_parquet(f"truth_{name}", self.workspace.path(name, "truth"))

    def register_parquet(self, name: str, path: Path) -> None:
        self.uncache_table(name)  # a table registered again is read afresh
        self._register_parquet(name, Path(path))
        self._registered[name] = Path(path)

    def register_arrow(self, name: str, data: pa.Table) -> None:
        self._register_arrow(name, data)

    def has_table(self, name: str) -> bool:
        return name in self._registered

    @property
    def tables(self) -> list[str]:
        return sorted(self._registered)

    def query(self, sql: str, *, label: str = "query") -> pa.Table:
        """Run a portable SQL query; failures name ``label`` and carry the SQL."""
        t0 = time.perf_counter()
        try:
            out = self._execute(sql)
        except Exception as e:  # the engine's own error types differ; wrap them all once here
            raise EngineError(f"The {self.name} engine failed on {label}: {_first_line(e)}", sql=sql) from e
        self.timings[label] = self.timings.get(label, 0.0) + time.perf_counter() - t0
        return out

    def scalar(self, sql: str, *, label: str = "query"):
        t = self.query(sql, label=label)
        return t.column(0)[0].as_py() if t.num_rows else None

    def write_table(self, name: str, sql: str, *, area: str = "tables", label: str | None = None) -> int:
        """Run ``sql`` and store its result as workspace table ``name``, atomically."""
        label = label or f"table '{name}'"
        t0 = time.perf_counter()
        with self.workspace.writing(name, area) as tmp:
            try:
                rows = self._copy_to_parquet(sql, tmp)
            except Exception as e:
                raise EngineError(
                    f"The {self.name} engine failed writing {label}: {_first_line(e)}", sql=sql
                ) from e
        self.timings[label] = self.timings.get(label, 0.0) + time.perf_counter() - t0
        if area == "tables":
            self.register_parquet(name, self.workspace.path(name))
        elif area == "truth" and self.include_truth:
            self.register_parquet(f"truth_{name}", self.workspace.path(name, area))
        return rows

    # -- row order ----------------------------------------------------------------------------
    @contextmanager
    def any_row_order(self) -> Iterator[None]:
        """Within the block, a query's rows need not come in the order of its inputs: the caller
        sorts what it keeps (or keeps no order). An engine may run faster for it; by default
        nothing changes."""
        yield

    # -- relations computed once and read by several queries -----------------------------------
    def materialize(self, name: str, sql: str, *, label: str | None = None, lazy: bool = False) -> int | None:
        """Compute ``sql`` once and make its result queryable as ``name`` until :meth:`release`.

        ``name`` is a scratch relation, not a workspace table (:meth:`has_table` does not list
        it). Returns its row count. By default the result is a Parquet checkpoint under the
        workspace's ``.tmp`` folder, which works on every engine and holds any size on disk;
        an engine may keep it closer at hand (:meth:`_materialize`). With ``lazy`` (for a
        relation that costs little more than reading its input, such as a filter of one table)
        an engine that has views may define one instead, computed where it is read; then
        nothing is counted and None is returned.
        """
        label = label or f"relation '{name}'"
        self.release(name)
        t0 = time.perf_counter()
        try:
            if lazy and self._define_view(name, sql):
                rows, held = None, None
            else:
                rows, held = self._materialize(name, sql)
        except Exception as e:
            raise EngineError(f"The {self.name} engine failed on {label}: {_first_line(e)}", sql=sql) from e
        self._materialized[name] = held
        self.timings[label] = self.timings.get(label, 0.0) + time.perf_counter() - t0
        return rows

    def release(self, name: str) -> None:
        """Forget a relation made by :meth:`materialize` and free what it held (no-op if unknown)."""
        if name in self._materialized:
            self._release(name, self._materialized.pop(name))

    def _define_view(self, name: str, sql: str) -> bool:
        """Define ``name`` as a view of ``sql`` (computed where it is read) and return True, or
        return False when the engine keeps no views (the default: :meth:`_materialize` then)."""
        return False

    def _materialize(self, name: str, sql: str) -> tuple[int, Path | None]:
        """Store ``sql``'s result as ``name``; returns the row count and the folder it occupies
        (None when the engine holds it itself). Default: a Parquet checkpoint."""
        # no leading '_' or '.': readers such as Spark skip files named so
        folder = self.workspace.root / ".tmp" / f"mt_relation_{uuid.uuid4().hex[:8]}"
        folder.mkdir(parents=True, exist_ok=True)
        try:
            rows = self._copy_to_parquet(sql, folder / "relation.parquet")
            self._register_parquet(name, folder / "relation.parquet")
        except Exception:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return rows, folder

    def _release(self, name: str, held: Path | None) -> None:
        """Drop relation ``name`` made by :meth:`_materialize` and what it occupied."""
        self._unregister(name)
        if held is not None:
            shutil.rmtree(held, ignore_errors=True)

    # -- workspace tables read by several queries ----------------------------------------------
    def cache_table(self, name: str) -> bool:
        """Keep workspace table ``name`` decoded and at hand for the queries that follow, until
        :meth:`uncache_table` or until the table is registered again.

        Returns whether the engine keeps it. By default it does not, and an engine may decline a
        table it judges too big for its memory; either way queries read the same rows by the same
        name, so a caller uses this only to save work when several queries read one table.
        """
        if name in self._cached:
            return True
        if name not in self._registered or not self._cache(name, self._registered[name]):
            return False
        self._cached.add(name)
        return True

    def uncache_table(self, name: str) -> None:
        """Go back to reading table ``name`` from its file (no-op when it is not cached)."""
        if name in self._cached:
            self._cached.discard(name)
            self._uncache(name)

    def _cache(self, name: str, path: Path) -> bool:
        """Hold the registered table ``name`` (read from ``path``) closer at hand; return whether
        it did. Default: no."""
        return False

    def _uncache(self, name: str) -> None:  # noqa: B027 - optional hook
        """Drop what :meth:`_cache` holds for ``name``."""

    # -- graph primitives (portable SQL in moneytrail.engine.graph) ----------------------------
    def connected_components(
        self,
        edges_sql: str,
        *,
        src: str = "src",
        dst: str = "dst",
        method: str = "auto",
        max_iterations: int = graph.DEFAULT_MAX_ITERATIONS,
    ) -> pa.Table:
        """Weakly connected components of the graph whose edges ``edges_sql`` returns.

        Returns ``(node, component)`` sorted by node, where ``component`` is the smallest node id
        (as a string) in the node's component, so every engine and method gives the same ids.
        ``method`` is ``"auto"`` (in memory with igraph when the engine allows it and the graph
        has at most :attr:`in_memory_graph_limit` edges, otherwise iterative SQL),
        ``"iterative"`` or ``"memory"``.

        >>> eng.connected_components("SELECT src_account_id AS src, dst_account_id AS dst FROM transactions")
        """
        if method not in ("auto", "iterative", "memory"):
            raise ConfigError(
                f"The 'method' option must be one of 'auto', 'iterative', 'memory'. Got {method!r} instead."
            )
        if method == "auto" and self.in_memory_graph_limit > 0:
            n_edges = self.scalar(f"SELECT COUNT(*) FROM ({edges_sql}) AS e", label="graph size")
            method = "memory" if (n_edges or 0) <= self.in_memory_graph_limit else "iterative"
        if method == "memory":
            edges = self.query(graph.edge_list_sql(edges_sql, src, dst), label="graph edges")
            return graph.components_in_memory(edges)
        return graph.iterative_components(self, edges_sql, src=src, dst=dst, max_iterations=max_iterations)

    def k_hop(
        self,
        edges_sql: str,
        seeds_sql: str,
        k: int,
        *,
        src: str = "src",
        dst: str = "dst",
        seed: str | None = None,
        directed: bool = False,
    ) -> pa.Table:
        """Nodes within ``k`` hops of the seeds: ``(node, hops)`` sorted by node, seeds at 0.

        ``seeds_sql`` returns the seed ids in column ``seed`` (default: its first column). Edges
        are followed both ways unless ``directed`` (then only from ``src`` to ``dst``).
        """
        return graph.k_hop(self, edges_sql, seeds_sql, k, src=src, dst=dst, seed=seed, directed=directed)

    def write_arrow(self, name: str, data: pa.Table, *, area: str = "tables") -> int:
        rows = self.workspace.write(name, data, area)
        if area == "tables":
            self.register_parquet(name, self.workspace.path(name))
        return rows


def _first_line(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0]
