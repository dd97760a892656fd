"""Name normalisation that knows Chinese names.

One name (Latin script, and the original characters when a source kept them) becomes a set of
comparison features:

- ``name_norm``: folded tokens in the written order ("chan kwok keung");
- ``name_sorted``: the same tokens sorted, so surname-first and given-first orders agree;
- ``name_keys``: every way to read the name in pinyin, tokens sorted ("chen guo qiang"). A
  Cantonese token stands for the pinyin of each character it can romanise (wong -> wang, huang),
  so "Chen Guoqiang", "Guoqiang Chen", "Chan Kwok-Keung" and 陈国强 share a key, and two names
  are the same name when their key sets intersect. From the characters when a source kept them;
- ``name_key``: the first key (a single string for display and screening);
- ``name_parts``: every reading of every token (adopted English names included), for overlap
  levels and blocking;
- ``name_core`` and ``core_keys``: parts and keys without the adopted English name;
- ``english_name``: an adopted English given name written beside a Chinese one ("Kenny");
- ``rom_system``: pinyin, cantonese, mixed or latin, for explanations.

>>> a = name_features("Chan Kwok-Keung", None)
>>> b = name_features("Chen Guoqiang", "陈国强")
>>> bool(set(a.name_keys) & set(b.name_keys))
True
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, fields
from functools import lru_cache

from moneytrail.resolve.lexicon import Lexicon, default_lexicon, fold, is_cjk, pinyin_syllables

_SPLIT = re.compile(r"[^a-z0-9]+")
# Honorifics and generational suffixes carry no identity.
_STOP = {"mr", "mrs", "ms", "miss", "dr", "jr", "sr", "ii", "iii"}
# Company forms are written many ways ("Ltd", "LIMITED", "Co."); they carry no identity either.
_STOP |= {"ltd", "limited", "co", "inc", "incorporated", "corp", "corporation", "llc", "company", "plc"}
# Readings multiply per token; past this many keys a name keeps its most likely ones.
MAX_KEYS = 16


@dataclass(frozen=True)
class NameFeatures:
    """Comparison features of one name; see the module docstring."""

    name_norm: str | None
    name_sorted: str | None
    name_key: str | None
    name_keys: list[str]
    name_parts: list[str]
    name_core: list[str]
    core_keys: list[str]
    english_name: str | None
    rom_system: str | None
    native_pinyin: str | None

    def as_dict(self) -> dict:
        # asdict() deep-copies every list; this runs once per distinct name, so keep it cheap
        return {f: getattr(self, f) for f in _FIELDS}


_FIELDS = tuple(f.name for f in fields(NameFeatures))


def tokens(name: str | None) -> list[str]:
    """Fold and split a Latin name on spaces, hyphens, commas and other punctuation."""
    if not name:
        return []
    return [t for t in _SPLIT.split(fold(name)) if t and t not in _STOP]


def split_syllables(token: str, lex: Lexicon | None = None) -> list[str]:
    """Split a run-together romanised given name ("guoqiang", "kwokkeung") into its syllables.

    Splits into two or three lexicon readings, or two pinyin syllables of which one is a lexicon
    reading, so English names ("angela") and Latin surnames stay whole.
    """
    lex = lex or default_lexicon()
    return list(_split_cached(token, id(lex)) if lex is default_lexicon() else _split(token, lex))


@lru_cache(maxsize=200_000)
def _split_cached(token: str, _lex_id: int) -> tuple[str, ...]:
    return tuple(_split(token, default_lexicon()))


def _split(token: str, lex: Lexicon) -> list[str]:
    known = lex.known_tokens
    if len(token) < 4 or token in known or token in lex.english_names:
        return [token]
    for parts in (2, 3):
        split = _split_into(token, known, parts)
        if split:
            return split
    split = _split_into(token, pinyin_syllables() | known, 2)
    if split and any(s in known for s in split):
        return split
    return [token]


def _split_into(token: str, inventory: frozenset[str], parts: int) -> list[str] | None:
    if parts == 1:
        return [token] if token in inventory else None
    # longest first syllable first ("xian" before "xi an"), pinyin's own convention
    for i in range(min(len(token) - 1, 6), 0, -1):
        head = token[:i]
        if head in inventory:
            rest = _split_into(token[i:], inventory, parts - 1)
            if rest:
                return [head, *rest]
    return None


def _keys(readings: list[tuple[str, ...]]) -> list[str]:
    out: list[str] = []
    for combo in itertools.product(*readings):
        key = " ".join(sorted(combo))
        if key not in out:
            out.append(key)
        if len(out) >= MAX_KEYS:
            break
    return out


@lru_cache(maxsize=500_000)
def name_features(name: str | None, native: str | None) -> NameFeatures:
    """Features of one name; ``native`` is the name in its original script (may be None)."""
    lex = default_lexicon()
    toks: list[str] = []
    for t in tokens(name):
        toks.extend(_split_cached(t, id(lex)))
    known = lex.token_readings
    chinese = [t for t in toks if t in known]
    native_chars = [c for c in (native or "") if is_cjk(c)]
    # an adopted English name only counts beside a Chinese name ("Kenny Chan", not "John Smith")
    english = (
        [t for t in toks if t in lex.english_names and t not in known] if (chinese or native_chars) else []
    )
    native_py = lex.romanised("".join(native_chars), "pinyin") if native_chars else []

    if native_py:
        # the characters are the most reliable spelling of a Chinese name
        keys = core_keys = _keys([(p,) for p in native_py])
    else:
        keys = _keys([lex.readings(t) for t in toks]) if toks else []
        rest = [t for t in toks if t not in english]
        core_keys = _keys([lex.readings(t) for t in rest]) if english and rest else keys
    parts = sorted({r for t in toks for r in lex.readings(t)} | set(native_py))
    core = sorted({r for t in toks if t not in english for r in lex.readings(t)} | set(native_py))
    return NameFeatures(
        name_norm=" ".join(toks) or None,
        name_sorted=" ".join(sorted(toks)) or None,
        name_key=keys[0] if keys else None,
        name_keys=keys,
        name_parts=parts,
        name_core=core,
        core_keys=core_keys,
        english_name=english[0] if english else None,
        rom_system=_system(chinese, lex) if toks else None,
        native_pinyin=" ".join(native_py) or None,
    )


def _system(chinese: list[str], lex: Lexicon) -> str:
    if not chinese:
        return "latin"
    py = sum(t in lex.pinyin_tokens for t in chinese)
    ca = sum(t in lex.cantonese_tokens for t in chinese)
    if py == len(chinese) and ca < len(chinese):
        return "pinyin"
    if ca == len(chinese) and py < len(chinese):
        return "cantonese"
    return "mixed" if py and ca else ("pinyin" if py >= ca else "cantonese")


def same_name(a: NameFeatures, b: NameFeatures) -> bool:
    """True when two names can be the same name read in some romanisation and order."""
    return bool(set(a.name_keys) & set(b.name_keys))


def romanisations(native: str) -> dict[str, str]:
    """Pinyin and Cantonese spellings of a Chinese name, surname first."""
    lex = default_lexicon()
    return {system: " ".join(lex.romanised(native, system)) for system in ("pinyin", "cantonese")}
