"""Writing a world: canonical Parquet files in the declared Arrow schemas, byte-identical for the
same inputs (fixed writer options, no clock in the data), written to a hidden temporary name and
renamed into place so an interrupted run never leaves a half file under the real name."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from moneytrail.schema import table as schema_table
from moneytrail.simulate.book import CHANNELS as CHANNEL_LIST
from moneytrail.simulate.book import STAGES, Book
from moneytrail.simulate.columns import coded, ids, nullable_ids, strings, timestamps

LABEL_SOURCE = "moneytrail-simulate"
WRITER_OPTIONS = {
    "compression": "zstd",
    "compression_level": 1,
    "use_dictionary": True,
    "write_statistics": True,
}
# dictionary-encode the low-cardinality columns of the big tables, and the account ids, which
# repeat (thousands of accounts, millions of rows); encoding unique ids in a dictionary costs
# time and saves nothing
DICTIONARY_COLUMNS = {
    "transactions": [
        "src_account_id",
        "dst_account_id",
        "currency",
        "channel",
        "country_src",
        "country_dst",
        "memo",
        "source",
    ],
    "transaction_labels": ["indicator_ids", "typology", "network_id", "stage", "source"],
    "casino_sessions": ["casino", "buy_in_form", "cash_out_form", "source"],
}
# min/max statistics where readers prune on them (ids and times); free-text columns skip them
STATISTICS_COLUMNS = {
    "transactions": ["txn_id", "ts", "amount", "amount_cad", "channel"],
    "transaction_labels": ["txn_id", "is_laundering", "network_id", "stage"],
}


def writer_options(name: str) -> dict:
    """The Parquet writer options of table ``name`` (the benchmark's I/O floor uses the same)."""
    return {
        **WRITER_OPTIONS,
        "use_dictionary": DICTIONARY_COLUMNS.get(name, True),
        "write_statistics": STATISTICS_COLUMNS.get(name, True),
        # string columns may arrive as dictionary arrays (codes + vocabulary, see columns.py);
        # without a stored Arrow schema every reader sees the declared plain strings
        "store_schema": False,
    }


class TableWriter:
    """Streams row groups of one canonical table into ``DIR/[area/]name.parquet``."""

    def __init__(self, out: Path, name: str, area: str | None = None):
        self.name = name
        self.schema = schema_table(name).arrow_schema()
        folder = out / area if area else out
        folder.mkdir(parents=True, exist_ok=True)
        self.target = folder / f"{name}.parquet"
        self.tmp = folder / f".{name}.parquet.tmp"
        self.writer: pq.ParquetWriter | None = None
        self.rows = 0

    def write(self, columns: dict[str, pa.Array]) -> None:
        n = len(next(iter(columns.values())))
        arrays = []
        for f in self.schema:
            a = columns.get(f.name)
            if a is None:
                a = pa.nulls(n, f.type)
            elif a.type != f.type and not (pa.types.is_dictionary(a.type) and a.type.value_type == f.type):
                a = a.cast(f.type)
            arrays.append(a)
        # the file's physical schema is the declared one; dictionary columns keep their codes
        schema = pa.schema([f.with_type(a.type) for f, a in zip(self.schema, arrays, strict=True)])
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.tmp, schema, **writer_options(self.name))
        self.writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
        self.rows += n

    def close(self) -> int:
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.tmp, self.schema, **writer_options(self.name))
        self.writer.close()
        os.replace(self.tmp, self.target)
        return self.rows


def write_table(out: Path, name: str, columns: dict[str, pa.Array], area: str | None = None) -> int:
    w = TableWriter(out, name, area)
    if columns and len(next(iter(columns.values()))):
        w.write(columns)
    return w.close()


def _opt_ids(prefix: str, values: list, width: int = 8) -> pa.Array:
    return nullable_ids(prefix, np.array([-1 if v is None else v for v in values], dtype=np.int64), width)


def _str(values: list) -> pa.Array:
    return pa.array(values, type=pa.string())


def _f(values: list) -> pa.Array:
    return pa.array(values, type=pa.float64())


def parties_columns(book: Book) -> dict[str, pa.Array]:
    c = book.parties.cols
    n = len(book.parties)
    pid = ids("P", np.arange(n), 8)
    return {
        "party_id": pid,
        "kind": _str(c["kind"]),
        "name": _str(c["name"]),
        "name_native": _str(c["name_native"]),
        "birth_date": pa.array([None if d is None else d for d in c["birth_date"]], type=pa.int32()).cast(
            pa.date32()
        ),
        "nationality": _str(c["nationality"]),
        "occupation": _str(c["occupation"]),
        "declared_income": _f(c["declared_income"]),
        "address": _str(c["address"]),
        "phone": _str(c["phone"]),
        "email": _str(c["email"]),
        "document_number": _str(c["document_number"]),
        "country": _str(c["country"]),
        "source": _str(c["source"]),
        "source_id": pid,
    }


def party_labels_columns(book: Book) -> dict[str, pa.Array]:
    c = book.parties.cols
    n = len(book.parties)
    return {
        "party_id": ids("P", np.arange(n), 8),
        "person_id": _str(c["person_id"]),
        "role": _str(c["role"]),
        "network_id": _str(c["network"]),
        "name_variant": _str(c["variant"]),
        "source": pa.array([LABEL_SOURCE] * n, type=pa.string()),
    }


def accounts_columns(book: Book) -> dict[str, pa.Array]:
    c = book.accounts.cols
    n = len(book.accounts)
    aid = ids("A", np.arange(n), 8)
    return {
        "account_id": aid,
        "holder_party_id": _opt_ids("P", c["holder"]),
        "institution": _str(c["institution"]),
        "institution_type": _str(c["itype"]),
        "country": _str(c["country"]),
        "currency": _str(c["currency"]),
        "opened_at": timestamps(np.asarray(c["opened_at"], dtype=np.int64)),
        "is_external": pa.array(c["is_external"], type=pa.bool_()),
        "source": _str(c["source"]),
        "source_id": aid,
    }


def account_labels_columns(book: Book) -> dict[str, pa.Array]:
    c = book.accounts.cols
    n = len(book.accounts)
    return {
        "account_id": ids("A", np.arange(n), 8),
        "is_laundering": pa.array([nw is not None for nw in c["network"]], type=pa.bool_()),
        "network_id": _str(c["network"]),
        "typology": _str(c["typology"]),
        "role": _str(c["role"]),
        "source": pa.array([LABEL_SOURCE] * n, type=pa.string()),
    }


def properties_columns(book: Book) -> dict[str, pa.Array]:
    c = book.properties.cols
    n = len(book.properties)
    hid = ids("H", np.arange(n), 8)
    return {
        "property_id": hid,
        "address": _str(c.get("address", [])),
        "kind": _str(c.get("kind", [])),
        "assessed_value": _f(c.get("value", [])),
        "source": pa.array(["land_title"] * n, type=pa.string()),
        "source_id": hid,
    }


def transfers_columns(book: Book) -> dict[str, pa.Array]:
    c = book.transfers.cols
    n = len(book.transfers)
    xid = ids("X", np.arange(n), 8)
    return {
        "transfer_id": xid,
        "property_id": ids("H", np.asarray(c.get("property", []), dtype=np.int64), 8),
        "ts": timestamps(np.asarray(c.get("ts", []), dtype=np.int64)),
        "buyer_party_id": _opt_ids("P", c.get("buyer", [])),
        "seller_party_id": _opt_ids("P", c.get("seller", [])),
        "price": _f(c.get("price", [])),
        "mortgage_amount": _f(c.get("mortgage", [])),
        "lender_party_id": _opt_ids("P", c.get("lender", [])),
        "lender_kind": _str(c.get("lender_kind", [])),
        "cash_amount": _f(c.get("cash", [])),
        "deposit_payer_party_id": _opt_ids("P", c.get("deposit_payer", [])),
        "via_trust_account": pa.array(c.get("via_trust", []), type=pa.bool_()),
        "source": pa.array(["land_title"] * n, type=pa.string()),
        "source_id": xid,
    }


def shipments_columns(book: Book) -> dict[str, pa.Array]:
    c = book.shipments.cols
    n = len(book.shipments)
    mid = ids("M", np.arange(n), 8)
    return {
        "shipment_id": mid,
        "ts": timestamps(np.asarray(c.get("ts", []), dtype=np.int64)),
        "mode": _str(c.get("mode", [])),
        "shipper_party_id": _opt_ids("P", c.get("shipper", [])),
        "consignee_party_id": _opt_ids("P", c.get("consignee", [])),
        "origin_country": _str(c.get("origin", [])),
        "hs_code": _str(c.get("hs", [])),
        "description": _str(c.get("desc", [])),
        "declared_value": _f(c.get("value", [])),
        "weight_kg": _f(c.get("weight", [])),
        "source": pa.array(["customs"] * n, type=pa.string()),
        "source_id": mid,
    }


def links_columns(book: Book) -> dict[str, pa.Array]:
    c = book.links.cols
    n = len(book.links)
    return {
        "party_a": _opt_ids("P", c.get("a", [])),
        "party_b": _opt_ids("P", c.get("b", [])),
        "kind": _str(c.get("kind", [])),
        "weight": pa.nulls(n, pa.float64()),
        "source": pa.array(["registry"] * n, type=pa.string()),
        "source_id": ids("L", np.arange(n), 8),
    }


def entity_labels_columns(book: Book) -> dict[str, pa.Array]:
    c = book.entity_labels.cols
    n = len(book.entity_labels)
    return {
        "entity_kind": _str(c.get("entity_kind", [])),
        "entity_id": _str(c.get("entity_id", [])),
        "indicator_ids": _str(c.get("indicator_ids", [])),
        "network_id": _str(c.get("network_id", [])),
        "stage": _str(c.get("stage", [])),
        "source": pa.array([LABEL_SOURCE] * n, type=pa.string()),
    }


def transactions_columns(
    book: Book, t: dict[str, np.ndarray], first_id: int, account_ids: pa.Array
) -> tuple[dict, dict]:
    """Canonical transactions and their labels for one sorted chunk of code arrays."""
    n = len(t["ts"])
    tid = ids("T", np.arange(first_id, first_id + n), 10)
    denom = t["denom"]
    txns = {
        "txn_id": tid,
        "ts": timestamps(t["ts"]),
        "src_account_id": coded(t["src"], account_ids),
        "dst_account_id": coded(t["dst"], account_ids),
        "amount": pa.array(t["amount"], type=pa.float64()),
        "currency": strings(t["currency"], book.currencies.items),
        "amount_cad": pa.array(t["amount_cad"], type=pa.float64()),
        "channel": strings(t["channel"].astype(np.int32) + 1, [None, *CHANNEL_LIST]),
        "cash_denomination": pa.array(denom.astype(np.int64), mask=denom == 0),
        "country_src": strings(t["csrc"], book.countries.items),
        "country_dst": strings(t["cdst"], book.countries.items),
        "memo": strings(t["memo"], book.memos.items),
        "source": strings(t["source"], book.sources.items),
        "source_id": tid,
    }
    labels = {
        "txn_id": tid,
        "is_laundering": pa.array(t["laundering"], type=pa.bool_()),
        "indicator_ids": strings(t["indicators"], book.indicators.items),
        "typology": strings(t["typology"], book.typologies.items),
        "network_id": strings(t["network"], book.network_ids.items),
        "stage": strings(t["stage"].astype(np.int32) + 1, [None, *STAGES]),
        "source": strings(np.ones(n, dtype=np.int32), [None, LABEL_SOURCE]),
    }
    return txns, labels
