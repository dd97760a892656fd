"""Entity resolution end to end on a small simulated identity world."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from typer.testing import CliRunner

from moneytrail.cli import app
from moneytrail.resolve import MODEL_FILE, resolve_workspace
from moneytrail.resolve.evaluate import evaluate_resolution
from moneytrail.resolve.synthetic import simulator_parties
from moneytrail.schema import table
from moneytrail.workspace import Workspace

pytestmark = pytest.mark.duckdb


def _world(root, persons: int = 300, seed: int = 21) -> Workspace:
    ws = Workspace(root).ensure()
    parties, labels = simulator_parties(persons, seed)
    ws.write("parties", parties)
    ws.write("party_labels", labels, "truth")
    return ws


@pytest.fixture(scope="module")
def resolved(tmp_path_factory):
    ws = _world(tmp_path_factory.mktemp("resolve") / "ws")
    summary = resolve_workspace(ws, progress=False)
    return ws, summary


def test_quality_on_a_simulated_world(resolved):
    ws, _ = resolved
    m = evaluate_resolution(ws)
    assert m["overall"]["precision"] >= 0.95
    assert m["overall"]["recall"] >= 0.95
    assert m["romanisation_or_order"]["recall"] >= 0.9
    assert set(m["by_variant"]) >= {"romanisation", "order_swapped"}


def test_entities_follow_the_schema_and_explain_themselves(resolved):
    ws, summary = resolved
    ent = ws.read("resolved_entities")
    assert ent.schema.equals(table("resolved_entities").arrow_schema())
    assert ent.num_rows == ws.row_count("parties") == summary["parties"]
    rows = ent.to_pylist()
    # the entity id is the smallest party id of the entity
    by_entity: dict[str, list[str]] = {}
    for r in rows:
        by_entity.setdefault(r["entity_id"], []).append(r["party_id"])
    assert all(e == min(members) for e, members in by_entity.items())
    linked = [r for r in rows if r["entity_size"] > 1]
    assert linked and all(r["explanation"] and "agreed" in r["explanation"] for r in linked)
    assert any("romanisation" in r["explanation"] or "order swapped" in r["explanation"] for r in linked)
    assert (ws.models_dir / MODEL_FILE).is_file()
    model = json.loads((ws.models_dir / MODEL_FILE).read_text())
    assert {c["output_column_name"] for c in model["comparisons"]} >= {"name", "birth_date", "phone"}


def test_same_as_links_match_the_entities(resolved):
    ws, _ = resolved
    links = ws.read("links").to_pylist()
    same = [r for r in links if r["kind"] == "same_as"]
    assert same and all(r["source"] == "resolve" and r["weight"] > 0 for r in same)
    entity = {r["party_id"]: r["entity_id"] for r in ws.read("resolved_entities").to_pylist()}
    assert all(entity[r["party_a"]] == entity[r["party_b"]] for r in same)


def test_retrain_is_idempotent_and_keeps_other_links(tmp_path):
    ws = _world(tmp_path / "ws", persons=120, seed=5)
    other = pa.table(
        {
            "party_a": ["P00000000"],
            "party_b": ["P00000001"],
            "kind": ["family"],
            "weight": [None],
            "source": ["bank"],
            "source_id": ["f1"],
        },
        schema=table("links").arrow_schema(),
    )
    ws.write("links", other)
    resolve_workspace(ws, progress=False)
    first_entities = ws.read("resolved_entities")
    first_links = ws.read("links")
    resolve_workspace(ws, retrain=True, progress=False)
    assert ws.read("resolved_entities").equals(first_entities)
    again = ws.read("links")
    assert again.num_rows == first_links.num_rows
    assert pc.sum(pc.equal(again.column("kind"), "family")).as_py() == 1


def test_new_parties_link_to_existing_entities_without_reclustering(tmp_path):
    ws = _world(tmp_path / "ws", persons=150, seed=8)
    resolve_workspace(ws, progress=False)
    before = {r["party_id"]: r["entity_id"] for r in ws.read("resolved_entities").to_pylist()}
    parties = ws.read("parties")
    # a new record of an existing person, in another romanisation
    target = next(r for r in parties.to_pylist() if r["name_native"] and r["birth_date"] and r["phone"])
    from moneytrail.resolve.names import romanisations

    canto = romanisations(target["name_native"])["cantonese"].title()
    new = dict(
        target,
        party_id="NEW-1",
        name=canto,
        name_native=None,
        source="casino",
        source_id="NEW-1",
        email=None,
        address=None,
        document_number=None,
    )
    stranger = dict(
        target,
        party_id="NEW-2",
        name="Zebedee Quartermain",
        name_native=None,
        birth_date=dt.date(1901, 1, 1),
        phone="000",
        email=None,
        address=None,
        document_number=None,
        source_id="NEW-2",
    )
    ws.write(
        "parties", pa.concat_tables([parties, pa.Table.from_pylist([new, stranger], schema=parties.schema)])
    )
    summary = resolve_workspace(ws, progress=False)
    assert summary["mode"] == "incremental" and summary["new_parties"] == 2
    after = {r["party_id"]: r for r in ws.read("resolved_entities").to_pylist()}
    assert after["NEW-1"]["entity_id"] == before[target["party_id"]]
    assert after["NEW-2"]["entity_id"] == "NEW-2" and after["NEW-2"]["entity_size"] == 1
    # earlier parties keep their entities
    assert all(after[p]["entity_id"] == e for p, e in before.items())


def test_cli_resolve_and_evaluate_json(resolved):
    ws, _ = resolved
    runner = CliRunner()
    out = runner.invoke(app, ["evaluate", "--workspace", str(ws.root), "--resolution", "--json"])
    assert out.exit_code == 0, out.output
    metrics = json.loads(out.output)
    assert metrics["overall"]["precision"] >= 0.95
    bad = runner.invoke(app, ["resolve", "--workspace", str(ws.root), "--engine", "postgres"])
    assert bad.exit_code != 0


def test_a_model_from_an_earlier_version_is_retrained_not_reused(tmp_path):
    ws = _world(tmp_path / "ws", persons=60, seed=5)
    resolve_workspace(ws, progress=False)
    path = ws.models_dir / MODEL_FILE
    model = json.loads(path.read_text(encoding="utf-8"))
    # an earlier version blocked on a column the features no longer carry
    rule = model["blocking_rules_to_generate_predictions"][0]
    rule["blocking_rule"] = rule["blocking_rule"].replace("birth_month", "birth_year")
    path.write_text(json.dumps(model), encoding="utf-8")
    parties = ws.read("parties")
    extra = dict(parties.to_pylist()[0], party_id="NEW-1", source_id="NEW-1")
    ws.write("parties", pa.concat_tables([parties, pa.Table.from_pylist([extra], schema=parties.schema)]))
    summary = resolve_workspace(ws, progress=False)
    assert summary["stale_model"] and summary["mode"] == "full"
    assert "birth_month" in path.read_text(encoding="utf-8")
    # an unchanged model is reused
    assert resolve_workspace(ws, progress=False)["mode"] == "incremental"
