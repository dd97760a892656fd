"""Organisations: registered names folded, rated by their words, and linked on them alone."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from moneytrail.resolve import resolve_workspace
from moneytrail.resolve.evaluate import evaluate_resolution
from moneytrail.resolve.organisations import organisation_frequencies, organisation_key
from moneytrail.resolve.synthetic import simulator_parties
from moneytrail.workspace import Workspace

pytestmark = pytest.mark.duckdb


def test_keys_fold_case_punctuation_legal_forms_abbreviations_and_order():
    same = {
        organisation_key(n)
        for n in (
            "PEARL RIVER ORIENT TRADING LIMITED",
            "Pearl River Orient Trading Co., Ltd.",
            "pearl-river orient trading company",
            "Orient Pearl River Trading Inc",
        )
    }
    assert same == {"orient pearl river trading"}
    assert organisation_key("Pacific Intl Hldgs") == organisation_key("Pacific International Holdings Corp")
    assert organisation_key("Pearl River Trading") != organisation_key("Pearl River Logistics")
    assert organisation_key("Ltd.") is None and organisation_key(None) is None


def test_names_of_common_words_are_frequent_and_phrases_count_once():
    names = [
        "Lucky Supplies Ltd",
        "Golden Supplies Ltd",
        "Lucky Auto Repair",
        "Golden Auto Repair",
        "Jade Auto Repair",
        "Pearl River Orient Manufacturing Co",
        "Golden Orient Trading",
        "Lucky Dragon Trading",
    ]
    freq = organisation_frequencies(pa.array([organisation_key(n) for n in names] + [None]))
    tf = dict(zip(freq.column("org_key").to_pylist(), freq.column("tf_org_key").to_pylist(), strict=True))
    rarest = dict(zip(freq.column("org_key").to_pylist(), freq.column("org_rarest").to_pylist(), strict=True))
    assert freq.num_rows == len(names)
    # rare words make a rare name; common words a common one
    assert tf["manufacturing orient pearl river"] < tf["lucky supplies"]
    # "auto repair" is one phrase: its names are as frequent as "lucky" times the phrase's share
    assert tf["auto lucky repair"] == pytest.approx((3 / 8) * (3 / 8))
    assert rarest["manufacturing orient pearl river"] in {"manufacturing", "pearl", "river"}


def _registered_firm(parties: pa.Table, labels: pa.Table) -> tuple[pa.Table, pa.Table]:
    """Two records of one firm spelled differently at two addresses, with one registration number."""
    rows = [
        {"name": "Harbour Crown Logistics Ltd", "address": "1 Main Street, Vancouver"},
        {"name": "HARBOUR-CROWN LOGISTIC LIMITED", "address": "9 Renmin Road, Wuhan"},
    ]
    extra = [
        dict(
            {c: None for c in parties.column_names},
            party_id=f"REG-{i}",
            kind="company",
            country="CA",
            document_number="BC1234567",
            source="registry",
            source_id=f"REG-{i}",
            **row,
        )
        for i, row in enumerate(rows)
    ]
    label = [
        dict(
            {c: None for c in labels.column_names},
            party_id=f"REG-{i}",
            person_id="REG",
            name_variant="exact",
            source="test",
        )
        for i in range(2)
    ]
    return (
        pa.concat_tables([parties, pa.Table.from_pylist(extra, schema=parties.schema)]),
        pa.concat_tables([labels, pa.Table.from_pylist(label, schema=labels.schema)]),
    )


@pytest.fixture(scope="module")
def firms(tmp_path_factory):
    ws = Workspace(tmp_path_factory.mktemp("firms") / "ws").ensure()
    parties, labels = _registered_firm(*simulator_parties(600, 11, n_companies=40))
    ws.write("parties", parties)
    ws.write("party_labels", labels, "truth")
    resolve_workspace(ws, progress=False)
    return ws


def _company_pairs(ws: Workspace) -> tuple[set, set]:
    """(true, predicted) pairs of company records."""
    person = {r["party_id"]: r["person_id"] for r in ws.read("party_labels", "truth").to_pylist()}
    entity = {r["party_id"]: r["entity_id"] for r in ws.read("resolved_entities").to_pylist()}
    pairs = _all_pairs(ws)
    return {(a, b) for a, b in pairs if person[a] == person[b]}, {
        (a, b) for a, b in pairs if entity[a] == entity[b]
    }


def test_firms_sharing_only_their_registered_name_link(firms):
    true, pred = _company_pairs(firms)
    assert len(true) > 20
    # customs writes "PEARL RIVER ... LIMITED" at an address abroad, the bank "Pearl River ... Ltd"
    assert len(true & pred) / len(true) >= 0.95
    explained = [
        r["explanation"]
        for r in firms.read("resolved_entities").to_pylist()
        if r["party_id"] in {a for a, _ in true & pred}
    ]
    assert explained and all(e.startswith("name") and "agreed" in e for e in explained)


def test_unrelated_firms_with_common_names_stay_apart(firms):
    true, pred = _company_pairs(firms)
    names = {r["party_id"]: r["name"] for r in firms.read("parties").to_pylist()}
    # small businesses called "<word> Supplies Ltd" and the like share names across firms
    namesakes = {(a, b) for a, b in _all_pairs(firms) if names[a] == names[b]} - true
    assert namesakes, "the world should hold unrelated firms with one name"
    assert not (namesakes & pred)
    assert not (pred - true)


def _all_pairs(ws: Workspace) -> list[tuple[str, str]]:
    parties = ws.read("parties")
    ids = sorted(
        pc.filter(parties.column("party_id"), pc.equal(parties.column("kind"), "company")).to_pylist()
    )
    return [(a, b) for i, a in enumerate(ids) for b in ids[i + 1 :]]


def test_persons_keep_their_quality_beside_firms(firms):
    m = evaluate_resolution(firms)
    assert m["overall"]["precision"] >= 0.95 and m["overall"]["recall"] >= 0.95
    assert m["romanisation_or_order"]["recall"] >= 0.9


def test_a_shared_registration_number_links_firms_written_differently(firms):
    entity = {r["party_id"]: r["entity_id"] for r in firms.read("resolved_entities").to_pylist()}
    assert entity["REG-0"] == entity["REG-1"]
