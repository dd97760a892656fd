"""Worlds for the detection tests: the AMLSim benchmark in canonical shape, and hand-made tables."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa

from moneytrail.schema import table
from moneytrail.workspace import Workspace


def conform(name: str, data: pa.Table) -> pa.Table:
    """Cast ``data`` to canonical table ``name`` (missing columns become nulls)."""
    schema = table(name).arrow_schema()
    cols = []
    for f in schema:
        if f.name in data.column_names:
            cols.append(data.column(f.name).cast(f.type))
        else:
            cols.append(pa.nulls(data.num_rows, f.type))
    return pa.Table.from_arrays(cols, schema=schema)


def write_tables(ws: Workspace, tables: dict[str, list[dict]], area: str = "tables") -> None:
    """Write small hand-made tables (lists of row dicts) in canonical shape."""
    for name, rows in tables.items():
        ws.write(name, conform(name, pa.Table.from_pylist(rows)), area)


def load_amlsim(ws: Workspace, directory: Path) -> None:
    """Load AMLSim's input files as canonical tables and its labels as truth (account level).

    Positive accounts are those that sent or received an ``is_sar`` transaction; their typology is
    the alert type of those transactions.
    """
    con = duckdb.connect()
    d = str(directory)
    con.execute(f"CREATE TABLE tx AS SELECT * FROM read_csv_auto('{d}/transactions.csv.gz')")
    con.execute(f"CREATE TABLE alt AS SELECT * FROM read_csv_auto('{d}/alert_transactions.csv.gz')")
    txns = con.sql(
        """SELECT 'amlsim:' || tran_id AS txn_id, CAST(tran_timestamp AS TIMESTAMP) AS ts,
                  'amlsim:' || orig_acct AS src_account_id, 'amlsim:' || bene_acct AS dst_account_id,
                  base_amt AS amount, 'USD' AS currency, base_amt AS amount_cad, 'wire' AS channel,
                  'amlsim' AS source, CAST(tran_id AS VARCHAR) AS source_id
           FROM tx ORDER BY tran_id"""
    ).to_arrow_table()
    accounts = con.sql(
        f"""SELECT 'amlsim:' || acct_id AS account_id, 'amlsim:p' || acct_id AS holder_party_id,
                   'bank' AS institution_type, 'amlsim' AS source, CAST(acct_id AS VARCHAR) AS source_id
            FROM read_csv_auto('{d}/accounts.csv.gz') ORDER BY acct_id"""
    ).to_arrow_table()
    labels = con.sql(
        """SELECT 'amlsim:' || t.tran_id AS txn_id, t.is_sar AS is_laundering, a.alert_type AS typology,
                  CAST(t.alert_id AS VARCHAR) AS network_id, 'amlsim' AS source
           FROM tx t LEFT JOIN (SELECT DISTINCT alert_id, alert_type FROM alt) a ON a.alert_id = t.alert_id
           WHERE t.alert_id >= 0 ORDER BY t.tran_id"""
    ).to_arrow_table()
    acct_labels = con.sql(
        """WITH m AS (
               SELECT orig_acct AS acct, alert_type, alert_id FROM alt WHERE is_sar
               UNION SELECT bene_acct, alert_type, alert_id FROM alt WHERE is_sar)
           SELECT 'amlsim:' || acct AS account_id, TRUE AS is_laundering,
                  string_agg(DISTINCT CAST(alert_id AS VARCHAR), ';') AS network_id,
                  string_agg(DISTINCT alert_type, ';') AS typology, 'amlsim' AS source
           FROM m GROUP BY acct ORDER BY acct"""
    ).to_arrow_table()
    ws.write("transactions", conform("transactions", txns))
    ws.write("accounts", conform("accounts", accounts))
    ws.write("transaction_labels", conform("transaction_labels", labels), "truth")
    ws.write("account_labels", conform("account_labels", acct_labels), "truth")


T0 = dt.datetime(2020, 1, 6, 9, 0, 0)


def txn(i: str, src: str, dst: str, amount: float, hours: float, channel: str = "eft", **extra) -> dict:
    """One canonical transaction ``hours`` after a fixed start."""
    row = {
        "txn_id": i,
        "ts": T0 + dt.timedelta(hours=hours),
        "src_account_id": src,
        "dst_account_id": dst,
        "amount": float(amount),
        "currency": extra.pop("currency", "CAD"),
        "amount_cad": float(amount),
        "channel": channel,
        "source": "test",
        "source_id": i,
    }
    row.update(extra)
    return row


def account(i: str, holder: str | None = None, kind: str = "bank", **extra) -> dict:
    return {
        "account_id": i,
        "holder_party_id": holder,
        "institution_type": kind,
        "source": "test",
        "source_id": i,
        **extra,
    }


def party(i: str, kind: str = "person", **extra) -> dict:
    return {"party_id": i, "kind": kind, "source": "test", "source_id": i, **extra}
