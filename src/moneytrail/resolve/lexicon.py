"""The Chinese-name lexicon used by name normalisation.

A lexicon maps characters to their Mandarin pinyin and Cantonese (Hong Kong government style)
romanisations, marks which characters are surnames, and lists adopted English given names.

It is read from the project's name lexicon (``moneytrail.names``), the rarer entries the
simulator does not draw included; pypinyin covers characters outside it.

From it we derive the *readings* of every romanised token: the pinyin of each character that can
be written that way (chan -> chen; wong -> wang, huang; a pinyin token reads as itself).
Comparing names on readings makes "Chen Guoqiang" and "Chan Kwok Keung" equal without guessing
which romanisation a clerk used, and without chaining unrelated syllables together.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import cache


def fold(text: str) -> str:
    """Lower-case ASCII folding (ü -> u, é -> e) used for every Latin token."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


@dataclass
class Lexicon:
    """Characters with their romanisations, surnames and English names, and the derived classes."""

    pinyin: dict[str, str] = field(default_factory=dict)  # character -> pinyin
    cantonese: dict[str, list[str]] = field(default_factory=dict)  # character -> romanisations
    surnames: set[str] = field(default_factory=set)  # characters used as surnames
    english_names: set[str] = field(default_factory=set)
    token_readings: dict[str, tuple[str, ...]] = field(default_factory=dict)  # token -> pinyin readings
    pinyin_tokens: set[str] = field(default_factory=set)
    cantonese_tokens: set[str] = field(default_factory=set)
    surname_tokens: set[str] = field(default_factory=set)
    known_tokens: frozenset[str] = frozenset()
    source: str = ""

    def add(self, char: str, pinyin: str, cantonese: list[str], role: str = "") -> None:
        char = char.strip()
        if len(char) != 1:
            return
        py = fold(pinyin.strip()).replace("v", "u")
        cants = [fold(c.strip()) for c in cantonese if c.strip()]
        if py:
            self.pinyin.setdefault(char, py)
        merged = self.cantonese.setdefault(char, [])
        merged.extend(c for c in cants if c not in merged)
        if "surname" in role.lower() or "family" in role.lower():
            self.surnames.add(char)

    def build(self) -> Lexicon:
        """Derive, for every romanised token, the pinyin readings it can stand for."""
        readings: dict[str, list[str]] = {}
        for char, py in self.pinyin.items():
            self.pinyin_tokens.add(py)
            readings.setdefault(py, [])
            if py not in readings[py]:
                readings[py].insert(0, py)
            for c in self.cantonese.get(char, []):
                self.cantonese_tokens.add(c)
                lst = readings.setdefault(c, [])
                if py not in lst:
                    lst.append(py)
            if char in self.surnames:
                self.surname_tokens.add(py)
                self.surname_tokens.update(self.cantonese.get(char, []))
        self.token_readings = {t: tuple(v) for t, v in readings.items()}
        self.known_tokens = frozenset(self.token_readings)
        return self

    def readings(self, token: str) -> tuple[str, ...]:
        """The pinyin readings a token can stand for ("wong" -> wang, huang); itself when unknown."""
        return self.token_readings.get(token, (token,))

    def char_pinyin(self, char: str) -> str | None:
        """Pinyin of one character: the lexicon's reading, else pypinyin's."""
        if char in self.pinyin:
            return self.pinyin[char]
        return _pypinyin(char)

    def romanised(self, native: str, system: str) -> list[str]:
        """Romanise Chinese characters in ``system`` ('pinyin' or 'cantonese'), one token per character."""
        out = []
        for ch in native:
            if not is_cjk(ch):
                continue
            if system == "cantonese" and self.cantonese.get(ch):
                out.append(self.cantonese[ch][0])
            else:
                py = self.char_pinyin(ch)
                if py:
                    out.append(py)
        return out


def is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


@cache
def _pypinyin(char: str) -> str | None:
    from pypinyin import Style, lazy_pinyin

    out = lazy_pinyin(char, style=Style.NORMAL, errors="ignore")
    return fold(out[0]).replace("v", "u") if out else None


_INITIALS = (
    "",
    "b",
    "p",
    "m",
    "f",
    "d",
    "t",
    "n",
    "l",
    "g",
    "k",
    "h",
    "j",
    "q",
    "x",
    "zh",
    "ch",
    "sh",
    "r",
    "z",
    "c",
    "s",
    "y",
    "w",
)
_FINALS = (
    "a",
    "o",
    "e",
    "i",
    "u",
    "ai",
    "ei",
    "ao",
    "ou",
    "an",
    "en",
    "ang",
    "eng",
    "ong",
    "ia",
    "ie",
    "iao",
    "iu",
    "ian",
    "in",
    "iang",
    "ing",
    "iong",
    "ua",
    "uo",
    "uai",
    "ui",
    "uan",
    "un",
    "uang",
    "ue",
    "er",
)


_I_FINALS = ("i", "ia", "ie", "iao", "iu", "ian", "in", "iang", "ing", "iong")
_SPECIAL = {
    "": ("a", "o", "e", "ai", "ei", "ao", "ou", "an", "en", "ang", "eng", "er"),
    "y": ("a", "e", "ao", "ou", "an", "ang", "i", "in", "ing", "u", "ue", "uan", "un", "ong"),
    "w": ("a", "o", "ai", "ei", "an", "en", "ang", "eng", "u"),
    "j": (*_I_FINALS, "u", "ue", "uan", "un"),
}


@cache
def pinyin_syllables() -> frozenset[str]:
    """Toneless pinyin syllables (initial + final under pinyin's spelling rules; a few rare
    impossible pairs do no harm), for splitting run-together given names like 'guoqiang'."""
    out = set()
    for i in _INITIALS:
        if i in ("j", "q", "x"):
            finals = _SPECIAL["j"]
        elif i in _SPECIAL:
            finals = _SPECIAL[i]
        elif i in ("b", "p", "m", "d", "t", "n", "l"):
            finals = _FINALS
        else:  # f g k h zh ch sh r z c s: no i-family finals except bare i after zh ch sh r z c s
            finals = tuple(f for f in _FINALS if f not in _I_FINALS or (f == "i" and i not in "fgkh"))
        out.update(i + f for f in finals)
    return frozenset(out)


@cache
def default_lexicon() -> Lexicon:
    """The lexicon built from ``moneytrail.names``: given-name characters, then surnames, then
    the rarer entries (the order decides which reading of a shared token comes first)."""
    from moneytrail.names import load

    names = load()
    lex = Lexicon(source="moneytrail.names")
    for role, chars in (
        ("given", names.given),
        ("surname", names.surnames),
        ("surname", names.rare_surnames),
        ("given", names.rare_given),
    ):
        for ch in chars:
            lex.add(ch.character, ch.pinyin, list(ch.cantonese), role)
    lex.english_names = {fold(n) for n, _ in (*names.english_given, *names.rare_english_given)}
    return lex.build()
