"""The shared benchmark sets (AMLSim, Tide) ingest with exact counts, with and without labels."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from moneytrail.ingest import ingest
from moneytrail.schema import table
from moneytrail.workspace import Workspace
from tests.conftest import AMLSIM_DIR, TIDE_DIR, needs_benchmarks

pytestmark = [pytest.mark.duckdb, pytest.mark.slow, needs_benchmarks()]

LABEL_COLUMNS = {"is_sar", "alert_id", "is_fraudulent", "alert_type", "pattern_id"}


def _strip(src: Path, dst: Path, drop: set[str]) -> None:
    """Copy a CSV(.gz) without the ``drop`` columns."""
    con = duckdb.connect()
    cols = [
        r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_csv('{src}', all_varchar = true)").fetchall()
    ]
    keep = ", ".join(f'"{c}"' for c in cols if c not in drop)
    con.execute(
        f"COPY (SELECT {keep} FROM read_csv('{src}', all_varchar = true)) TO '{dst}' (HEADER, DELIMITER ',')"
    )


def _ingest(folder: Path, fmt: str, root: Path) -> tuple[Workspace, object]:
    ws = Workspace(root)
    return ws, ingest(folder, fmt, ws, progress=False)


@pytest.fixture(scope="module")
def amlsim(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("amlsim")
    bare = tmp / "bare"
    bare.mkdir()
    shutil.copy(AMLSIM_DIR / "accounts.csv.gz", bare / "accounts.csv.gz")
    _strip(AMLSIM_DIR / "transactions.csv.gz", bare / "transactions.csv", {"is_sar", "alert_id"})
    return _ingest(AMLSIM_DIR, "amlsim", tmp / "ws"), _ingest(bare, "auto", tmp / "ws_bare")


@pytest.fixture(scope="module")
def tide(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tide")
    bare = tmp / "bare"
    bare.mkdir()
    _strip(TIDE_DIR / "generated_nodes.csv.gz", bare / "generated_nodes.csv", {"is_fraudulent"})
    _strip(TIDE_DIR / "generated_edges.csv.gz", bare / "generated_edges.csv", {"is_fraudulent"})
    return _ingest(TIDE_DIR, "tide", tmp / "ws"), _ingest(bare, "auto", tmp / "ws_bare")


def _assert_no_labels(ws: Workspace) -> None:
    for name in ws.names():
        cols = set(ws.read(name).column_names)
        assert cols <= set(table(name).column_names), name
        assert not cols & LABEL_COLUMNS, name


def test_amlsim_counts_are_exact(amlsim):
    (ws, report), _ = amlsim
    counts = {t: (c.read, c.loaded, c.quarantined, c.placeholders) for t, c in report.tables.items()}
    assert counts == {
        "accounts": (12_043, 12_043, 0, 0),
        "parties": (12_043, 12_043, 0, 0),
        "transactions": (201_331, 201_331, 0, 0),
    }
    assert ws.row_count("transactions") == 201_331
    labels = ws.read("transaction_labels", "truth").to_pydict()
    assert len(labels["txn_id"]) == 201_331 and sum(labels["is_laundering"]) == 646  # is_sar = True rows
    accounts = ws.read("account_labels", "truth").to_pydict()
    assert len(accounts["account_id"]) == 12_043 and sum(accounts["is_laundering"]) == 891
    _assert_no_labels(ws)


def test_amlsim_ids_are_source_qualified(amlsim):
    (ws, _), _ = amlsim
    first = ws.read("transactions").slice(0, 1).to_pylist()[0]
    assert first["txn_id"] == "amlsim:1" and first["source_id"] == "1" and first["source"] == "amlsim"
    assert (
        first["src_account_id"] == "amlsim:350" and first["channel"] == "wire" and first["currency"] == "USD"
    )
    acc = ws.read("accounts").slice(0, 1).to_pylist()[0]
    assert acc["holder_party_id"] == "amlsim:C_0"


def test_amlsim_without_labels_gives_the_same_tables_and_no_truth(amlsim):
    (ws, _), (bare_ws, bare) = amlsim
    assert bare.format == "amlsim" and bare.truth == {}
    assert bare_ws.names("truth") == []
    for name in ("accounts", "parties", "transactions"):
        assert bare_ws.read(name).equals(ws.read(name)), name


def test_tide_counts_are_exact(tide):
    (ws, report), _ = tide
    counts = {t: (c.read, c.loaded, c.quarantined) for t, c in report.tables.items()}
    assert counts == {
        "parties": (1_139, 1_139, 0),  # 1,000 individuals + 139 businesses
        "accounts": (3_358, 3_358, 0),
        "transactions": (520_232, 520_232, 0),
        "links": (139, 139, 0),  # person -> business ownership edges
    }
    # Three people deposit cash directly: their cash-side accounts are external placeholders.
    assert report.tables["accounts"].placeholders == 3
    holders = ws.read("accounts").column("holder_party_id").null_count
    # 3,493 ownership edges - 139 to businesses = 3,354 owned accounts (+ 3 cash-side ones with a
    # holder); 4 account nodes have no ownership edge.
    assert holders == 4
    labels = ws.read("transaction_labels", "truth").to_pydict()
    assert len(labels["txn_id"]) == 520_232 and sum(labels["is_laundering"]) == 505
    _assert_no_labels(ws)


def test_tide_source_id_is_the_edge_row_index(tide):
    (ws, _), _ = tide
    con = duckdb.connect()
    edges = con.execute(
        f"SELECT row_number() OVER () - 1 AS i, src, dest, amount, edge_type "
        f"FROM read_csv('{TIDE_DIR / 'generated_edges.csv.gz'}')"
    ).fetchall()
    by_index = {i: (s, d, a) for i, s, d, a, _ in edges}
    first_transaction = min(i for i, *_, kind in edges if kind == "transaction")
    tx = ws.read("transactions").to_pydict()
    for k in (0, 1000, len(tx["txn_id"]) - 1):
        src, dst, amount = by_index[int(tx["source_id"][k])]
        assert (tx["src_account_id"][k], tx["dst_account_id"][k], tx["amount"][k]) == (
            f"tide:{src}",
            f"tide:{dst}",
            amount,
        )
    assert tx["source_id"][0] == str(first_transaction) and tx["txn_id"][0] == f"tide:{first_transaction}"


def test_tide_without_labels_gives_the_same_tables_and_no_truth(tide):
    (ws, _), (bare_ws, bare) = tide
    assert bare.format == "tide" and bare.truth == {}
    for name in ("parties", "accounts", "transactions", "links"):
        assert bare_ws.read(name).equals(ws.read(name)), name
