"""The name lexicon: Chinese surnames and given-name characters with their romanisations, adopted
English given names, and non-Chinese names. The data are CSV files in this package:

- ``chinese_surnames.csv``: character, pinyin (Hanyu Pinyin, toneless, ``lyu`` for 吕),
  cantonese (Hong Kong government style; alternatives joined by ``|``, the usual one first),
  role (always ``surname``), rank (rough frequency rank, 1 = most common), simulate.
- ``chinese_given.csv``: character, pinyin, cantonese, role (always ``given``), gender
  (m, f or n for either), simulate.
- ``english_given_names.csv``: name, gender, simulate: English given names adopted by Chinese
  speakers.
- ``other_names.csv``: name, part (given | surname), gender: the rest of the population.

``simulate`` is ``yes`` for the names the simulator draws people from and ``no`` for rarer ones
that entity resolution must still recognise (``rare_surnames``, ``rare_given``,
``rare_english_given``).

>>> lex = load()
>>> lex.surname("陈").cantonese
('chan',)
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Character:
    """One Chinese character with its readings."""

    character: str
    pinyin: str
    cantonese: tuple[str, ...]
    gender: str = "n"


@dataclass(frozen=True)
class Lexicon:
    """The whole lexicon, read once."""

    surnames: tuple[Character, ...]
    given: tuple[Character, ...]
    english_given: tuple[tuple[str, str], ...]  # (name, gender)
    other_given: tuple[tuple[str, str], ...]  # (name, gender)
    other_surnames: tuple[str, ...]
    rare_surnames: tuple[Character, ...] = ()
    rare_given: tuple[Character, ...] = ()
    rare_english_given: tuple[tuple[str, str], ...] = ()

    def surname(self, character: str) -> Character:
        """The surname entry for ``character`` (KeyError when unknown)."""
        for s in self.surnames:
            if s.character == character:
                return s
        raise KeyError(character)


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def _simulated(row: dict[str, str]) -> bool:
    return (row.get("simulate") or "yes") == "yes"


def _chars(rows: list[dict[str, str]]) -> tuple[Character, ...]:
    return tuple(
        Character(
            character=r["character"],
            pinyin=r["pinyin"],
            cantonese=tuple(r["cantonese"].split("|")),
            gender=r.get("gender") or "n",
        )
        for r in rows
    )


@cache
def load() -> Lexicon:
    """The lexicon shipped with moneytrail."""
    other = _rows("other_names.csv")
    sur, giv, eng = (
        _rows("chinese_surnames.csv"),
        _rows("chinese_given.csv"),
        _rows("english_given_names.csv"),
    )
    return Lexicon(
        surnames=_chars([r for r in sur if _simulated(r)]),
        given=_chars([r for r in giv if _simulated(r)]),
        english_given=tuple((r["name"], r["gender"]) for r in eng if _simulated(r)),
        other_given=tuple((r["name"], r["gender"]) for r in other if r["part"] == "given"),
        other_surnames=tuple(r["name"] for r in other if r["part"] == "surname"),
        rare_surnames=_chars([r for r in sur if not _simulated(r)]),
        rare_given=_chars([r for r in giv if not _simulated(r)]),
        rare_english_given=tuple((r["name"], r["gender"]) for r in eng if not _simulated(r)),
    )
