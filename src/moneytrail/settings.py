"""The one place that reads the environment: ``MONEYTRAIL_*`` variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration of moneytrail. Every field can be set as ``MONEYTRAIL_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="MONEYTRAIL_", extra="ignore")

    workspace: Path = Path("workspace")
    engine: str = "duckdb"
    spark_master: str = "local[*]"
    # DuckDB resource limits; None lets DuckDB decide.
    threads: int | None = None
    memory_limit: str | None = None
    # Case data (users, cases, notes, audit): SQLite in the workspace unless a URL is given.
    database_url: str | None = None
    debug: bool = False


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return Settings()
