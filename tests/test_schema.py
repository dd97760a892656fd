from pathlib import Path

import pyarrow as pa
import pytest

from moneytrail.errors import SchemaError
from moneytrail.schema import catalog, parse_catalog, table
from moneytrail.schema.docs import data_model_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_every_design_table_is_declared():
    names = set(catalog())
    for t in (
        "parties",
        "accounts",
        "transactions",
        "casino_sessions",
        "properties",
        "property_transfers",
        "shipments",
        "links",
        "watchlist",
        "detector_hits",
        "account_scores",
        "party_scores",
        "transaction_scores",
        "leads",
    ):
        assert t in names


def test_arrow_schema_follows_declaration():
    s = table("transactions").arrow_schema()
    assert s.field("amount").type == pa.float64()
    assert s.field("ts").type == pa.timestamp("us")
    assert not s.field("txn_id").nullable
    assert s.field("memo").nullable
    assert table("transactions").key == "txn_id"


def test_loader_names_the_bad_column():
    bad = "tables:\n  t:\n    kind: input\n    columns:\n      c: {type: decimal}\n"
    with pytest.raises(SchemaError, match=r"table 't', column 'c'.*decimal"):
        parse_catalog(bad)


def test_unknown_table_lists_the_real_ones():
    with pytest.raises(SchemaError, match="parties"):
        table("nope")


def test_data_model_doc_is_current():
    doc = (ROOT / "docs" / "data-model.md").read_text(encoding="utf-8")
    assert doc == data_model_markdown(), "docs/data-model.md is stale: run `make docs`"
