"""The detector catalogue: one YAML file per detector, read by a strict loader.

Each ``catalog/<id>.yaml`` declares a detector (id, title, indicator ids, sources, tables it needs,
parameters with type, default and range, severity) and has exactly one query module
``queries/<id>.py`` exposing ``<id>_sql(params) -> str``. Any malformed file raises
:class:`~moneytrail.errors.SchemaError` naming the file and the field at fault.

>>> from moneytrail.detect.catalog import load_catalog
>>> load_catalog()["fan_in"].indicators
('G1',)
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from moneytrail.errors import ConfigError, SchemaError
from moneytrail.schema import catalog as schema_catalog

CATALOG_DIR = Path(__file__).resolve().parent / "catalog"
ENTITY_KINDS = ("account", "party", "transaction", "property", "shipment", "session", "network")
PARAM_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "str": (str,),
}
_DETECTOR_FIELDS = {
    "id",
    "title",
    "description",
    "indicators",
    "sources",
    "tables",
    "entity",
    "severity",
    "parameters",
}
_REQUIRED_FIELDS = {"id", "title", "indicators", "tables", "entity", "severity"}
_PARAM_FIELDS = {"type", "default", "min", "max", "values", "doc"}
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Param:
    """One declared parameter of a detector."""

    name: str
    type: str
    default: Any
    min: float | None = None
    max: float | None = None
    values: tuple[str, ...] | None = None
    doc: str = ""

    def check(self, value: Any, where: str) -> Any:
        """Return ``value`` converted to this parameter's type, or raise naming ``where``."""
        if self.type == "float" and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        ok = isinstance(value, PARAM_TYPES[self.type]) and not (
            self.type != "bool" and isinstance(value, bool)
        )
        if not ok:
            raise ConfigError(
                f"{where}: parameter '{self.name}' must be of type {self.type}. Got {value!r} instead."
            )
        if self.min is not None and value < self.min:
            raise ConfigError(
                f"{where}: parameter '{self.name}' must be at least {self.min}. Got {value!r} instead."
            )
        if self.max is not None and value > self.max:
            raise ConfigError(
                f"{where}: parameter '{self.name}' must be at most {self.max}. Got {value!r} instead."
            )
        if self.values is not None and value not in self.values:
            raise ConfigError(
                f"{where}: parameter '{self.name}' must be one of {', '.join(self.values)}. Got {value!r} instead."
            )
        return value


@dataclass(frozen=True)
class Detector:
    """One detector of the catalogue."""

    id: str
    title: str
    indicators: tuple[str, ...]
    tables: tuple[str, ...]
    entity: str
    severity: float
    sources: tuple[str, ...] = ()
    description: str = ""
    parameters: tuple[Param, ...] = ()
    path: Path | None = field(default=None, compare=False)

    def params(self, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """Defaults merged with ``overrides``, each validated against its declaration."""
        by_name = {p.name: p for p in self.parameters}
        unknown = set(overrides or {}) - set(by_name)
        if unknown:
            raise ConfigError(
                f"Detector '{self.id}' has no parameter(s) {', '.join(sorted(unknown))}; "
                f"its parameters are: {', '.join(by_name) or 'none'}."
            )
        out = {p.name: p.default for p in self.parameters}
        for k, v in (overrides or {}).items():
            out[k] = by_name[k].check(v, f"detector '{self.id}'")
        return out

    def query_function(self) -> Callable[[dict[str, Any]], str]:
        """The ``<id>_sql`` function of the detector's query module."""
        module = importlib.import_module(f"moneytrail.detect.queries.{self.id}")
        fn = getattr(module, f"{self.id}_sql", None)
        if fn is None:
            raise SchemaError(f"The query module queries/{self.id}.py has no function '{self.id}_sql'.")
        return fn

    def sql(self, overrides: dict[str, Any] | None = None) -> str:
        """The detector's core query with its parameters applied."""
        return self.query_function()(self.params(overrides))


def _fail(path: Path, message: str) -> SchemaError:
    return SchemaError(f"Detector file {path.name}: {message}")


def _as_str_tuple(path: Path, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(path, f"'{key}' must be a list of strings. Got {value!r} instead.")
    return tuple(value)


def _parse_param(path: Path, name: str, spec: Any) -> Param:
    where = f"parameter '{name}'"
    if not isinstance(spec, dict):
        raise _fail(path, f"{where} must be a mapping.")
    unknown = set(spec) - _PARAM_FIELDS
    if unknown:
        raise _fail(
            path, f"{where} has unknown field(s) {sorted(unknown)}; allowed are {sorted(_PARAM_FIELDS)}."
        )
    ptype = spec.get("type")
    if ptype not in PARAM_TYPES:
        raise _fail(path, f"{where}: 'type' must be one of {', '.join(PARAM_TYPES)}. Got {ptype!r} instead.")
    if "default" not in spec:
        raise _fail(path, f"{where} has no 'default'.")
    for bound in ("min", "max"):
        if bound in spec and (ptype not in ("int", "float") or not isinstance(spec[bound], int | float)):
            raise _fail(path, f"{where}: '{bound}' must be a number on a numeric parameter.")
    values = spec.get("values")
    param = Param(
        name=name,
        type=ptype,
        default=spec["default"],
        min=spec.get("min"),
        max=spec.get("max"),
        values=tuple(values) if values is not None else None,
        doc=str(spec.get("doc", "")),
    )
    try:
        object.__setattr__(param, "default", param.check(param.default, where))
    except ConfigError as e:
        raise _fail(path, f"the default is invalid: {e}") from None
    return param


def parse_detector(path: Path, text: str, indicators: set[str]) -> Detector:
    """Parse one detector YAML strictly; errors name ``path``."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        raise _fail(path, f"is not valid YAML{line}.") from None
    if not isinstance(data, dict):
        raise _fail(path, "must hold a mapping of fields.")
    unknown = set(data) - _DETECTOR_FIELDS
    if unknown:
        raise _fail(path, f"unknown field(s) {sorted(unknown)}; allowed are {sorted(_DETECTOR_FIELDS)}.")
    missing = _REQUIRED_FIELDS - set(data)
    if missing:
        raise _fail(path, f"missing field(s) {sorted(missing)}.")
    did = data["id"]
    if not isinstance(did, str) or not _ID.match(did) or did != path.stem:
        raise _fail(path, f"'id' must be the file name without .yaml ({path.stem!r}). Got {did!r} instead.")
    inds = _as_str_tuple(path, "indicators", data["indicators"])
    if not inds:
        raise _fail(path, "'indicators' must name at least one indicator id.")
    bad = [i for i in inds if i not in indicators]
    if bad:
        raise _fail(path, f"unknown indicator id(s) {bad}; see TYPOLOGIES.md for the ids.")
    tables = _as_str_tuple(path, "tables", data["tables"])
    known_tables = schema_catalog()
    bad_tables = [t for t in tables if t not in known_tables]
    if not tables or bad_tables:
        raise _fail(path, f"'tables' must list canonical tables. Unknown: {bad_tables or 'none listed'}.")
    if data["entity"] not in ENTITY_KINDS:
        raise _fail(
            path, f"'entity' must be one of {', '.join(ENTITY_KINDS)}. Got {data['entity']!r} instead."
        )
    sev = data["severity"]
    if not isinstance(sev, int | float) or isinstance(sev, bool) or not 0 <= sev <= 1:
        raise _fail(path, f"'severity' must be a number from 0 to 1. Got {sev!r} instead.")
    params = data.get("parameters") or {}
    if not isinstance(params, dict):
        raise _fail(path, "'parameters' must be a mapping of name to declaration.")
    return Detector(
        id=did,
        title=str(data["title"]),
        description=str(data.get("description", "")).strip(),
        indicators=inds,
        sources=_as_str_tuple(path, "sources", data.get("sources", [])),
        tables=tables,
        entity=data["entity"],
        severity=float(sev),
        parameters=tuple(_parse_param(path, n, s) for n, s in params.items()),
        path=path,
    )


@cache
def indicators() -> dict[str, dict]:
    """Indicator ids from TYPOLOGIES.md: ``{id: {title, carried, why?}}``."""
    text = resources.files(__package__).joinpath("indicators.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)["indicators"]


def load_catalog(directory: Path | None = None) -> dict[str, Detector]:
    """All detectors in ``directory`` (default: the package's catalogue), by id, in id order."""
    if directory is None:
        return dict(_package_catalog())
    return _load(Path(directory))


@cache
def _package_catalog() -> dict[str, Detector]:
    return _load(CATALOG_DIR)


def _load(directory: Path) -> dict[str, Detector]:
    known = set(indicators())
    out: dict[str, Detector] = {}
    for path in sorted(directory.glob("*.yaml")):
        det = parse_detector(path, path.read_text(encoding="utf-8"), known)
        out[det.id] = det
    if not out:
        raise SchemaError(f"The detector catalogue {directory.name}/ holds no .yaml files.")
    return out


def select(detectors: dict[str, Detector], only: str | list[str] | None) -> list[Detector]:
    """The detectors named in ``only`` (comma-separated ids), or all of them."""
    if not only:
        return list(detectors.values())
    ids = [s.strip() for s in (only.split(",") if isinstance(only, str) else only) if s.strip()]
    unknown = [i for i in ids if i not in detectors]
    if unknown:
        raise ConfigError(
            f"The '--only' option names unknown detector(s) {', '.join(unknown)}; "
            f"the detectors are: {', '.join(detectors)}."
        )
    return [detectors[i] for i in ids]
