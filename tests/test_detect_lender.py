"""Cash-funded private lenders (R4, G8): lenders found in the bank data and linked by a shared source."""

from __future__ import annotations

import datetime as dt

import pytest

from moneytrail.workspace import Workspace
from tests.test_detect_motifs import hits
from tests.utils.detect_worlds import T0, account, party, txn

pytestmark = pytest.mark.duckdb


def _charge(i: str, lender: str, amount: float, hours: float) -> dict:
    return {
        "transfer_id": i,
        "property_id": f"h{i}",
        "ts": T0 + dt.timedelta(hours=hours),
        "price": amount * 1.5,
        "mortgage_amount": amount,
        "buyer_party_id": f"b{i}",
        "lender_party_id": lender,
        "lender_kind": "private",
        "source": "test",
        "source_id": i,
    }


def _world(funded_by: list[str], *, resolved: bool) -> dict:
    """Lenders (land-title records Lk, bank customers Kk), each paid cash by its source. Resolved:
    entity resolution links Lk to Kk. Unresolved: Kk's account advanced Lk's charge a day later
    (the charge's amount into a lawyer's trust account), which is the only link."""
    tables: dict[str, list[dict]] = {
        "parties": [party("stasher"), party("other"), party("trust-firm", "company")],
        "accounts": [
            account("stash", "stasher", "other"),
            account("cash2", "other", "other"),
            account("trust", "trust-firm", "lawyer_trust"),
        ],
        "transactions": [],
        "property_transfers": [],
    }
    for k, source in enumerate(funded_by):
        lent = 250_000.0 + 1_000 * k
        tables["parties"] += [party(f"L{k}"), party(f"K{k}")]
        tables["accounts"].append(account(f"acct{k}", f"K{k}"))
        tables["transactions"] += [
            txn(f"cash{k}a", source, f"acct{k}", 100_000, 10 * k, "cash"),
            txn(f"cash{k}b", source, f"acct{k}", lent - 100_000, 10 * k + 2, "cash"),
        ]
        if not resolved:  # a resolved lender may only hold its cash so far
            tables["transactions"].append(txn(f"adv{k}", f"acct{k}", "trust", lent, 10 * k + 24, "mortgage"))
        tables["property_transfers"].append(_charge(f"x{k}", f"L{k}", lent, 10 * k + 24))
    if resolved:
        tables["resolved_entities"] = [
            {"party_id": p, "entity_id": f"E{k}", "entity_size": 2}
            for k in range(len(funded_by))
            for p in (f"L{k}", f"K{k}")
        ]
    return tables


@pytest.mark.parametrize("resolved", [True, False])
def test_lenders_paid_cash_by_one_source_are_a_cluster(workspace: Workspace, resolved: bool):
    # found through entity resolution, or (unresolved) through the account that paid the advance
    got = hits(workspace, "cash_funded_lender", _world(["stash"] * 3, resolved=resolved))
    assert sorted(r["entity_id"] for r in got) == ["L0", "L1", "L2"]
    ev = {r["entity_id"]: r["evidence_txn_ids"] for r in got}
    assert ev["L1"] == ("cash1a;cash1b" if resolved else "adv1;cash1a;cash1b")
    assert all('"cluster_lenders":3.0' in r["metrics"] and r["indicator_ids"] == "R4;G8" for r in got)


def test_lenders_with_different_sources_are_not_a_cluster(workspace: Workspace):
    tables = _world(["stash", "stash", "cash2"], resolved=True)
    assert hits(workspace, "cash_funded_lender", tables) == []
    # with a lower bar the two lenders sharing a source are
    got = hits(workspace, "cash_funded_lender", tables, min_lenders=2)
    assert sorted(r["entity_id"] for r in got) == ["L0", "L1"]


def test_too_little_cash_is_not_funding(workspace: Workspace):
    assert (
        hits(workspace, "cash_funded_lender", _world(["stash"] * 3, resolved=True), min_cash_cad=260_000)
        == []
    )
