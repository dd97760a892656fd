"""Engines that execute moneytrail's portable SQL: DuckDB (default) and Spark."""

from __future__ import annotations

from moneytrail.engine.base import PORTABLE_DIALECT, Engine
from moneytrail.errors import ConfigError
from moneytrail.workspace import Workspace

ENGINES = ("duckdb", "spark")


def make_engine(name: str, workspace: Workspace, **options) -> Engine:
    """Build (not open) the engine called ``name`` over ``workspace``."""
    if name == "duckdb":
        from moneytrail.engine.duckdb_engine import DuckDBEngine

        return DuckDBEngine(workspace, **options)
    if name == "spark":
        try:
            from moneytrail.engine.spark_engine import SparkEngine
        except ImportError as e:  # pragma: no cover - only without the module
            raise ConfigError(f"The Spark engine is not available: {e}.") from e
        return SparkEngine(workspace, **options)
    raise ConfigError(
        f"The 'engine' option must be one of {', '.join(repr(e) for e in ENGINES)}. Got {name!r} instead."
    )


__all__ = ["ENGINES", "PORTABLE_DIALECT", "Engine", "make_engine"]
