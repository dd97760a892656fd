"""The timestamp conversion's fast path (text ending in Z) agrees with the general one."""

from __future__ import annotations

import duckdb
import pytest

from moneytrail.ingest.validate import typed_sql
from moneytrail.schema import table

TEXTS = [
    "2017-01-01T00:00:00Z",
    "2017-01-01 00:00:00Z",
    "2017-01-01T00:00:00.123456Z",
    "2017-02-30T00:00:00Z",
    "2017-01-01T00:00:60Z",
    "2017-01-01T00:00:00+01:00Z",
    "notatimeZ",
    "2017-01-01T00:00:00+02:00",
    "2020-01-03 12:00:00-05",
    "2020-01-02",
    "",
]


@pytest.mark.parametrize("text", TEXTS)
def test_fast_path_gives_the_general_conversion(text):
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    ours = typed_sql(table("transactions").column("ts"), "v")
    got, want = con.execute(
        f"SELECT {ours}, TRY_CAST(TRY_CAST(v AS TIMESTAMPTZ) AS TIMESTAMP) FROM (SELECT ? AS v)", [text]
    ).fetchone()
    assert got == want


def test_offsets_are_honoured_and_z_is_utc():
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    ours = typed_sql(table("transactions").column("ts"), "v")
    rows = con.execute(
        f"SELECT CAST({ours} AS VARCHAR) FROM (VALUES ('2017-01-01T10:00:00Z'), ('2017-01-01T12:00:00+02:00')) t(v)"
    ).fetchall()
    assert rows == [("2017-01-01 10:00:00",), ("2017-01-01 10:00:00",)]
