"""The name lexicon: Chinese surnames and given-name characters with their romanisations, adopted
English given names, and non-Chinese names. The data are CSV files in this package:

- ``chinese_surnames.csv``: character, pinyin (Hanyu Pinyin, toneless, ``lyu`` for 吕),
  cantonese (Hong Kong government style; alternatives joined by ``|``, the usual one first),
  role (always ``surname``), rank (rough frequency rank, 1 = most common).
- ``chinese_given.csv``: character, pinyin, cantonese, role (always ``given``), gender
  (m, f or n for either).
- ``english_given_names.csv``: name, gender: English given names adopted by Chinese speakers.
- ``other_names.csv``: name, part (given | surname), gender: the rest of the population.

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

    def surname(self, character: str) -> Character:
        """The surname entry for ``character`` (KeyError when unknown)."""
        for s in self.surnames:
            if s.character == character:
                return s
        raise KeyError(character)


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def _chars(name: str) -> tuple[Character, ...]:
    return tuple(
        Character(
            character=r["character"],
            pinyin=r["pinyin"],
            cantonese=tuple(r["cantonese"].split("|")),
            gender=r.get("gender") or "n",
        )
        for r in _rows(name)
    )


@cache
def load() -> Lexicon:
    """The lexicon shipped with moneytrail."""
    other = _rows("other_names.csv")
    return Lexicon(
        surnames=_chars("chinese_surnames.csv"),
        given=_chars("chinese_given.csv"),
        english_given=tuple((r["name"], r["gender"]) for r in _rows("english_given_names.csv")),
        other_given=tuple((r["name"], r["gender"]) for r in other if r["part"] == "given"),
        other_surnames=tuple(r["name"] for r in other if r["part"] == "surname"),
    )
