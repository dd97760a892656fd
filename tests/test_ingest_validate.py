"""Property-based tests of the row validator generated from canonical.yaml."""

from __future__ import annotations

import datetime as dt
import math

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moneytrail.fx import KNOWN_CURRENCIES
from moneytrail.ingest.validate import stage_sql
from moneytrail.schema import table

pytestmark = pytest.mark.duckdb

TX = table("transactions")
CHANNELS = list(TX.column("channel").values)
_con = duckdb.connect()
_con.execute("SET TimeZone = 'UTC'")

GOOD = {
    "txn_id": "t1",
    "ts": "2021-03-04 05:06:07",
    "src_account_id": "a",
    "dst_account_id": "b",
    "amount": "10.5",
    "currency": "CAD",
    "channel": "wire",
    "source": "s",
    "source_id": "t1",
}


def validate(rows: list[dict]) -> list[dict]:
    """Run the generated validation over text rows; one dict per row with its typed values and reason."""
    cols = list(GOOD)
    data = pa.table({c: pa.array([r.get(c) for r in rows], pa.string()) for c in cols})
    _con.register("rows_in", data)
    mapping = "SELECT *, CAST(row_number() OVER () + 1 AS BIGINT) AS _line, 'in.csv' AS _file, NULL AS _raw FROM rows_in"
    sql = stage_sql(TX, mapping, cols)
    out = _con.sql(f"SELECT * FROM ({sql}) ORDER BY _line").to_arrow_table().to_pylist()
    _con.unregister("rows_in")
    return out


def one(**changes) -> dict:
    return validate([{**GOOD, **changes}])[0]


def each(column: str, values: list) -> list[dict]:
    """Validate one row per value of ``column`` (one query for the whole list)."""
    return validate([{**GOOD, column: v} for v in values])


# Each example validates a list of values in one query, so few examples cover many values.
FAST = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=40))
def test_amount_from_a_float_is_loaded_iff_finite_and_not_negative(xs):
    for x, row in zip(xs, each("amount", [repr(x) for x in xs]), strict=True):
        if math.isfinite(x) and x >= 0:
            assert row["_reason"] is None and row["amount"] == x
        else:
            assert row["_reason"].startswith("column 'amount' is")


@FAST
@given(st.lists(st.text(max_size=12), min_size=1, max_size=40))
def test_any_amount_text_is_either_a_clean_amount_or_quarantined_with_a_reason(texts):
    for row in each("amount", texts):
        if row["_reason"] is None:
            assert math.isfinite(row["amount"]) and row["amount"] >= 0
        else:
            assert "'amount'" in row["_reason"] and row["amount"] is None or row["_reason"]


@FAST
@given(
    st.lists(
        st.tuples(
            st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)),
            st.integers(min_value=-12 * 60, max_value=14 * 60),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_timestamps_with_offsets_are_stored_in_utc(pairs):
    texts, expected = [], []
    for when, offset_min in pairs:
        when = when.replace(microsecond=0)
        texts.append(when.replace(tzinfo=dt.timezone(dt.timedelta(minutes=offset_min))).isoformat())
        expected.append(when - dt.timedelta(minutes=offset_min))
    for row, want in zip(each("ts", texts), expected, strict=True):
        assert row["_reason"] is None and row["ts"] == want


@FAST
@given(
    st.lists(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3), min_size=1, max_size=40)
)
def test_currency_is_valid_iff_a_known_iso_code(codes):
    for code, row in zip(codes, each("currency", codes), strict=True):
        assert (row["_reason"] is None) == (code in KNOWN_CURRENCIES)


@FAST
@given(
    st.lists(st.one_of(st.sampled_from(CHANNELS), st.text(min_size=1, max_size=10)), min_size=1, max_size=40)
)
def test_channel_must_be_a_declared_value(channels):
    for channel, row in zip(channels, each("channel", channels), strict=True):
        if channel in CHANNELS:
            assert row["_reason"] is None
        else:
            assert "'channel'" in row["_reason"]


@FAST
@given(
    st.lists(
        st.sampled_from(["ok", "neg", "nan", "comma", "date", "empty_id", "money"]), min_size=1, max_size=20
    )
)
def test_every_row_is_loaded_or_has_a_reason_and_good_rows_stay_in_order(kinds):
    bad = {
        "neg": {"amount": "-5"},
        "nan": {"amount": "NaN"},
        "comma": {"amount": "12,50"},
        "date": {"ts": "2017-13-45"},
        "empty_id": {"txn_id": ""},
        "money": {"currency": "XYZ"},
    }
    rows = [{**GOOD, "txn_id": f"t{i}", **bad.get(k, {})} for i, k in enumerate(kinds)]
    out = validate(rows)
    assert len(out) == len(rows)
    for k, r in zip(kinds, out, strict=True):
        assert (r["_reason"] is None) == (k == "ok")
        if k != "ok":
            assert r["_raw"] is not None or r["_reason"]
    assert [r["_line"] for r in out] == list(range(2, len(rows) + 2))


def test_reasons_name_the_column_and_value():
    assert one(amount="1e309")["_reason"] == "column 'amount' is not a finite amount: '1e309'"
    assert one(amount="-5")["_reason"] == "column 'amount' is a negative amount: '-5'"
    assert one(amount="12,50")["_reason"] == "column 'amount' is not a number: '12,50'"
    assert one(ts="2017-13-45")["_reason"] == "column 'ts' is not a valid date and time: '2017-13-45'"
    assert one(src_account_id=None)["_reason"] == "column 'src_account_id' is required but empty"


def test_a_prefix_added_by_validation_gives_the_rows_of_one_joined_in_the_mapping():
    # Mapping.prefixes: the mapping yields the text after the prefix and validation adds it, with
    # the same values and reasons as a mapping that joins the prefix itself.
    texts = ["7", "", None, "x'y"]
    rows = [{**GOOD, "txn_id": t, "src_account_id": t} for t in texts]
    cols = list(GOOD)
    data = pa.table({c: pa.array([r.get(c) for r in rows], pa.string()) for c in cols})
    _con.register("rows_in", data)
    base = "SELECT {}, CAST(row_number() OVER () + 1 AS BIGINT) AS _line, 'in.csv' AS _file, NULL AS _raw FROM rows_in"
    joined = base.format("* REPLACE ('p:' || txn_id AS txn_id, 'p:' || src_account_id AS src_account_id)")
    prefixes = {"txn_id": "p:", "src_account_id": "p:"}

    def rows_of(sql: str) -> list[dict]:
        return _con.sql(f"SELECT * FROM ({sql}) ORDER BY _line").to_arrow_table().to_pylist()

    try:
        want = rows_of(stage_sql(TX, joined, cols))
        got = rows_of(stage_sql(TX, base.format("*"), cols, prefixes=prefixes))
        bare = rows_of(stage_sql(TX, base.format("*"), cols, prefixes=prefixes, add_prefixes=False))
    finally:
        _con.unregister("rows_in")
    assert got == want
    assert [r["txn_id"] for r in got] == ["p:7", "p:", None, "p:x'y"]
    assert [r["_reason"] for r in got] == [None, None, "column 'txn_id' is required but empty", None]
    # Without the prefixes added the rows keep the mapping's text; the reasons stay.
    assert [(r["txn_id"], r["src_account_id"]) for r in bare] == [(t, t) for t in texts]
    assert [r["_reason"] for r in bare] == [r["_reason"] for r in got]
    with pytest.raises(ValueError, match="amount"):
        stage_sql(TX, base.format("*"), cols, prefixes={"amount": "p:"})
