"""The DuckDB engine caps its memory so that detection on a large world spills instead of taking the machine."""

from __future__ import annotations

import pytest

from moneytrail.engine import make_engine

pytestmark = pytest.mark.duckdb


def _setting(eng, name: str) -> str:
    return eng.scalar(f"SELECT current_setting('{name}')")


def test_duckdb_memory_limit_defaults_to_a_cap_and_takes_the_option(workspace):
    with make_engine("duckdb", workspace) as eng:
        assert _setting(eng, "memory_limit") in ("4.6 GiB", "5.0 GB", "4.6GiB")
        assert _setting(eng, "temp_directory").endswith(".tmp")
    with make_engine("duckdb", workspace, memory_limit="1GB") as eng:
        assert _setting(eng, "memory_limit") in ("953.6 MiB", "1.0 GB", "953.6MiB")
