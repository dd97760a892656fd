"""The indicator catalogue with its published sources (package data ``indicators.yaml``).

>>> from moneytrail.investigate.reports.indicators import indicator
>>> indicator("S1").sources[0].id
'C22'
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from moneytrail.errors import SchemaError


@dataclass(frozen=True)
class Source:
    """A published source: short id (C22, FC25, ...) and full citation."""

    id: str
    citation: str


@dataclass(frozen=True)
class Indicator:
    """An indicator id from the typology brief, its title and its sources."""

    id: str
    title: str
    sources: tuple[Source, ...]


@cache
def catalogue() -> dict[str, Indicator]:
    """All indicators by id, read strictly from ``indicators.yaml``."""
    text = resources.files(__package__).joinpath("indicators.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    sources = {k: Source(k, str(v)) for k, v in (data.get("sources") or {}).items()}
    out: dict[str, Indicator] = {}
    for iid, spec in (data.get("indicators") or {}).items():
        missing = [s for s in spec.get("sources", []) if s not in sources]
        if missing or not spec.get("title"):
            raise SchemaError(
                f"reports/indicators.yaml, indicator '{iid}': needs a title and known sources; "
                f"unknown sources {missing}."
            )
        out[iid] = Indicator(iid, spec["title"], tuple(sources[s] for s in spec["sources"]))
    return out


def indicator(iid: str) -> Indicator:
    """The indicator ``iid``; an unknown id gets a placeholder so a report never fails on it."""
    return catalogue().get(iid) or Indicator(iid, f"Indicator {iid} (not in the catalogue)", ())


def split_ids(text: str | None) -> list[str]:
    """Split a ';'-joined id list, dropping blanks and keeping first-seen order."""
    seen: dict[str, None] = {}
    for part in (text or "").split(";"):
        part = part.strip()
        if part:
            seen[part] = None
    return list(seen)


def sort_indicator_ids(ids) -> list[str]:
    """Indicator ids in the brief's order (family letter, then number)."""

    def key(i: str) -> tuple:
        order = "CURTSGW"
        fam = order.index(i[0]) if i and i[0] in order else len(order)
        num = int(i[1:]) if i[1:].isdigit() else 999
        return (fam, num, i)

    return sorted(set(ids), key=key)


def cited_sources(indicator_ids) -> list[Source]:
    """The distinct sources of ``indicator_ids``, in order of first citation."""
    seen: dict[str, Source] = {}
    for iid in sort_indicator_ids(indicator_ids):
        for s in indicator(iid).sources:
            seen.setdefault(s.id, s)
    return list(seen.values())
