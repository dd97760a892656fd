"""The detector catalogue: strict loading, one query per YAML, indicator coverage, parameters."""

from __future__ import annotations

import pkgutil
import re
from pathlib import Path

import pytest
import sqlglot

from moneytrail.detect import queries
from moneytrail.detect.catalog import CATALOG_DIR, indicators, load_catalog, select
from moneytrail.detect.runner import detector_hits_sql
from moneytrail.errors import ConfigError, SchemaError

pytestmark = pytest.mark.duckdb

GOOD = """id: {id}
title: A test detector
indicators: [G1]
tables: [transactions]
entity: account
severity: 0.5
parameters:
  window_days: {{type: int, default: 30, min: 1, max: 365}}
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / f"{name}.yaml"
    p.write_text(text, encoding="utf-8")
    return tmp_path


def test_catalogue_loads_every_yaml():
    cat = load_catalog()
    assert len(cat) == len(list(CATALOG_DIR.glob("*.yaml")))
    assert "fan_in" in cat and cat["fan_in"].indicators == ("G1",)


def test_every_yaml_has_one_query_module_and_every_module_one_yaml():
    yaml_ids = {p.stem for p in CATALOG_DIR.glob("*.yaml")}
    modules = {m.name for m in pkgutil.iter_modules(queries.__path__) if not m.name.startswith("_")}
    assert yaml_ids == modules
    for det in load_catalog().values():
        assert callable(det.query_function())


def test_every_carried_indicator_is_declared_by_a_detector():
    declared = {i for d in load_catalog().values() for i in d.indicators}
    for ind, spec in indicators().items():
        if spec["carried"]:
            assert ind in declared, f"indicator {ind} has no detector"
        else:
            assert spec.get("why"), f"indicator {ind} is not carried and says not why"


def test_indicator_list_matches_the_typology_ids():
    # The ids of TYPOLOGIES.md: C1-C10, U1-U5, R1-R6, T1-T5, S1-S4, G1-G8 (plus W1 for screening).
    expected = (
        [f"C{i}" for i in range(1, 11)]
        + [f"U{i}" for i in range(1, 6)]
        + [f"R{i}" for i in range(1, 7)]
        + [f"T{i}" for i in range(1, 6)]
        + [f"S{i}" for i in range(1, 5)]
        + [f"G{i}" for i in range(1, 9)]
    )
    assert set(expected) <= set(indicators())


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("id: x\n  bad: [", "is not valid YAML"),
        (GOOD.format(id="other"), "'id' must be the file name"),
        (GOOD.format(id="x").replace("[G1]", "[Z9]"), "unknown indicator"),
        (GOOD.format(id="x").replace("[transactions]", "[nope]"), "'tables' must list canonical tables"),
        (
            GOOD.format(id="x").replace("severity: 0.5", "severity: 3"),
            "'severity' must be a number from 0 to 1",
        ),
        (GOOD.format(id="x").replace("default: 30", "default: 999"), "the default is invalid"),
        (GOOD.format(id="x").replace("type: int", "type: complex"), "'type' must be one of"),
        (GOOD.format(id="x") + "colour: red\n", "unknown field"),
        (GOOD.format(id="x").replace("entity: account\n", ""), "missing field"),
    ],
)
def test_loader_names_the_bad_file(tmp_path, text, fragment):
    d = _write(tmp_path, "x", text)
    with pytest.raises(SchemaError) as err:
        load_catalog(d)
    assert "x.yaml" in str(err.value)
    assert fragment in str(err.value)


def test_parameters_are_validated_against_the_yaml():
    det = load_catalog()["fan_in"]
    assert det.params()["window_days"] == 365
    assert det.params({"window_days": 10})["window_days"] == 10
    with pytest.raises(ConfigError, match="at most"):
        det.params({"window_days": 100000})
    with pytest.raises(ConfigError, match="type int"):
        det.params({"window_days": "ten"})
    with pytest.raises(ConfigError, match="no parameter"):
        det.params({"colour": 1})


def test_only_names_unknown_detectors():
    cat = load_catalog()
    assert [d.id for d in select(cat, "fan_in, cycle")] == ["fan_in", "cycle"]
    with pytest.raises(ConfigError, match="nope"):
        select(cat, "fan_in,nope")


@pytest.mark.parametrize("det_id", sorted(load_catalog()))
def test_queries_are_portable_sql(det_id):
    """Every query parses as DuckDB SQL and transpiles to Spark SQL, with no DuckDB-only leftovers."""
    sql = detector_hits_sql(load_catalog()[det_id])
    spark = sqlglot.transpile(sql, read="duckdb", write="spark")[0]
    assert "SELECT" in spark
    assert not re.search(r"\b(list_|struct_pack|string_agg)\b", spark, re.I)


def test_detector_docs_are_generated_from_the_catalogue():
    from moneytrail.detect.docs import render

    docs = Path(__file__).resolve().parents[1] / "docs" / "detectors.md"
    assert docs.read_text(encoding="utf-8") == render(), (
        "run: python -m moneytrail.detect.docs > docs/detectors.md"
    )
