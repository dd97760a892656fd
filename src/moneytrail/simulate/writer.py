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


# How each record table is made from the book's column lists: canonical column -> (kind, book
# column or value[, id prefix]). Kinds: "id" (the row's own id), "ref" / "opt_ref" (ids of other
# rows, the latter nullable), "str", "float", "bool", "ts" (microseconds), "date" (days),
# "is_set" (the book column is not None), "const" (one string on every row), "nulls" (no value).
RECORD_TABLES: dict[str, tuple[str, dict[str, tuple]]] = {
    "parties": ("parties", {
        "party_id": ("id", "P"), "kind": ("str", "kind"), "name": ("str", "name"),
        "name_native": ("str", "name_native"), "birth_date": ("date", "birth_date"),
        "nationality": ("str", "nationality"), "occupation": ("str", "occupation"),
        "declared_income": ("float", "declared_income"), "address": ("str", "address"),
        "phone": ("str", "phone"), "email": ("str", "email"), "document_number": ("str", "document_number"),
        "country": ("str", "country"), "source": ("str", "source"), "source_id": ("id", "P"),
    }),
    "party_labels": ("parties", {
        "party_id": ("id", "P"), "person_id": ("str", "person_id"), "role": ("str", "role"),
        "network_id": ("str", "network"), "name_variant": ("str", "variant"), "source": ("const", LABEL_SOURCE),
    }),
    "accounts": ("accounts", {
        "account_id": ("id", "A"), "holder_party_id": ("opt_ref", "holder", "P"),
        "institution": ("str", "institution"), "institution_type": ("str", "itype"),
        "country": ("str", "country"), "currency": ("str", "currency"), "opened_at": ("ts", "opened_at"),
        "is_external": ("bool", "is_external"), "source": ("str", "source"), "source_id": ("id", "A"),
    }),
    "account_labels": ("accounts", {
        "account_id": ("id", "A"), "is_laundering": ("is_set", "network"), "network_id": ("str", "network"),
        "typology": ("str", "typology"), "role": ("str", "role"), "source": ("const", LABEL_SOURCE),
    }),
    "properties": ("properties", {
        "property_id": ("id", "H"), "address": ("str", "address"), "kind": ("str", "kind"),
        "assessed_value": ("float", "value"), "source": ("const", "land_title"), "source_id": ("id", "H"),
    }),
    "property_transfers": ("transfers", {
        "transfer_id": ("id", "X"), "property_id": ("ref", "property", "H"), "ts": ("ts", "ts"),
        "buyer_party_id": ("opt_ref", "buyer", "P"), "seller_party_id": ("opt_ref", "seller", "P"),
        "price": ("float", "price"), "mortgage_amount": ("float", "mortgage"),
        "lender_party_id": ("opt_ref", "lender", "P"), "lender_kind": ("str", "lender_kind"),
        "cash_amount": ("float", "cash"), "deposit_payer_party_id": ("opt_ref", "deposit_payer", "P"),
        "via_trust_account": ("bool", "via_trust"), "source": ("const", "land_title"), "source_id": ("id", "X"),
    }),
    "shipments": ("shipments", {
        "shipment_id": ("id", "M"), "ts": ("ts", "ts"), "mode": ("str", "mode"),
        "shipper_party_id": ("opt_ref", "shipper", "P"), "consignee_party_id": ("opt_ref", "consignee", "P"),
        "origin_country": ("str", "origin"), "hs_code": ("str", "hs"), "description": ("str", "desc"),
        "declared_value": ("float", "value"), "weight_kg": ("float", "weight"), "source": ("const", "customs"),
        "source_id": ("id", "M"),
    }),
    "links": ("links", {
        "party_a": ("opt_ref", "a", "P"), "party_b": ("opt_ref", "b", "P"), "kind": ("str", "kind"),
        "weight": ("nulls", None), "source": ("const", "registry"), "source_id": ("id", "L"),
    }),
    "entity_labels": ("entity_labels", {
        "entity_kind": ("str", "entity_kind"), "entity_id": ("str", "entity_id"),
        "indicator_ids": ("str", "indicator_ids"), "network_id": ("str", "network_id"),
        "stage": ("str", "stage"), "source": ("const", LABEL_SOURCE),
    }),
}  # fmt: skip


def record_columns(book: Book, name: str) -> dict[str, pa.Array]:
    """The columns of record table ``name`` (see :data:`RECORD_TABLES`) from ``book``."""
    rows_name, spec = RECORD_TABLES[name]
    rows = getattr(book, rows_name)
    c, n = rows.cols, len(rows)
    own_ids: dict[str, pa.Array] = {}
    out = {}
    for column, (kind, key, *prefix) in spec.items():
        values = c.get(key, []) if isinstance(key, str) else []
        if kind == "id":
            if key not in own_ids:
                own_ids[key] = ids(key, np.arange(n), 8)
            out[column] = own_ids[key]
        elif kind == "ref":
            out[column] = ids(prefix[0], np.asarray(values, dtype=np.int64), 8)
        elif kind == "opt_ref":
            out[column] = nullable_ids(
                prefix[0], np.array([-1 if v is None else v for v in values], dtype=np.int64), 8
            )
        elif kind == "date":
            out[column] = pa.array(values, type=pa.int32()).cast(pa.date32())
        elif kind == "ts":
            out[column] = timestamps(np.asarray(values, dtype=np.int64))
        elif kind == "is_set":
            out[column] = pa.array([v is not None for v in values], type=pa.bool_())
        elif kind == "const":
            out[column] = pa.array([key] * n, type=pa.string())
        elif kind == "nulls":
            out[column] = pa.nulls(n, pa.float64())
        else:
            out[column] = pa.array(values, type=_PLAIN[kind])
    return out


_PLAIN = {"str": pa.string(), "float": pa.float64(), "bool": pa.bool_()}


def parties_columns(book: Book) -> dict[str, pa.Array]:
    return record_columns(book, "parties")


def party_labels_columns(book: Book) -> dict[str, pa.Array]:
    return record_columns(book, "party_labels")


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
