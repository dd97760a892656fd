"""Readable explanations of a scored pair: which fields agreed, which differed, and how the names
relate ("name (Cantonese romanisation of 陈国强) and birth date agreed; phone differed")."""

from __future__ import annotations

from collections.abc import Mapping

FIELDS = (
    ("dob", "birth date"),
    ("phone", "phone"),
    ("email", "e-mail"),
    ("address", "address"),
    ("document_number", "document number"),
)


def _present(v) -> bool:
    if v is None:
        return False
    try:
        return v == v and v != ""  # NaN from pandas is not equal to itself
    except (TypeError, ValueError):
        return True


def _as_set(v) -> set:
    if v is None or (isinstance(v, float) and v != v):
        return set()
    return set(v)


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _name_level_labels() -> dict[int, str]:
    global _LABELS
    if _LABELS is None:
        from moneytrail.resolve.model import name_level_labels

        _LABELS = name_level_labels()
    return _LABELS


_LABELS: dict[int, str] | None = None


def name_relation(pair: Mapping) -> str | None:
    """How the two names relate, as a short phrase, or None when they do not agree.

    Uses the name level the model chose (``gamma_name``) when the pair carries it, else compares
    the name features of the two records.
    """
    norm_l, norm_r = pair.get("name_norm_l"), pair.get("name_norm_r")
    nat_l, nat_r = pair.get("name_native_l"), pair.get("name_native_r")
    level = _name_level_labels().get(pair["gamma_name"], "") if pair.get("gamma_name") is not None else None
    if level is not None:
        eng = (
            pair.get("english_name_l") if _present(pair.get("english_name_l")) else pair.get("english_name_r")
        )
        if level.startswith("same spelling"):
            return "name"
        if level.startswith("same name"):
            return _same_name_phrase(pair)
        if level.startswith("same Chinese name"):
            return f"name (adopted English name {str(eng).capitalize()} beside the same Chinese name)"
        if level.startswith("spelling close"):
            return "name (close spelling)"
        if level.startswith("adopted English name"):
            return f"surname (with adopted English name {str(eng).capitalize()})"
        if level.startswith("two name parts"):
            return "two parts of the name"
        if level.startswith("one name part"):
            return "part of the name"
        return None
    keys_l, keys_r = _as_set(pair.get("name_keys_l")), _as_set(pair.get("name_keys_r"))
    if _present(norm_l) and norm_l == norm_r:
        return "name"
    if not _present(norm_l) and not _present(norm_r) and _present(nat_l) and nat_l == nat_r:
        return "name (characters)"
    if keys_l & keys_r:
        return _same_name_phrase(pair)
    eng = pair.get("english_name_l") if _present(pair.get("english_name_l")) else pair.get("english_name_r")
    core_l, core_r = _as_set(pair.get("core_keys_l")), _as_set(pair.get("core_keys_r"))
    if _present(eng) and core_l & core_r:
        return f"name (adopted English name {str(eng).capitalize()} beside the same Chinese name)"
    parts_l, parts_r = _as_set(pair.get("name_core_l")), _as_set(pair.get("name_core_r"))
    if _present(eng) and parts_l and parts_r and (parts_l <= parts_r or parts_r <= parts_l):
        return f"surname (with adopted English name {str(eng).capitalize()})"
    return None


def _same_name_phrase(pair: Mapping) -> str:
    """The same name read in another romanisation or order: say which."""
    norm_l, norm_r = pair.get("name_norm_l"), pair.get("name_norm_r")
    nat_l, nat_r = pair.get("name_native_l"), pair.get("name_native_r")
    if _present(norm_l) and norm_l == norm_r:
        return "name"
    if not _present(norm_l) and not _present(norm_r) and _present(nat_l) and nat_l == nat_r:
        return "name (characters)"
    native = nat_l if _present(nat_l) else (nat_r if _present(nat_r) else None)
    sys_l, sys_r = pair.get("rom_system_l"), pair.get("rom_system_r")
    if native:
        # the system of the side written in Latin letters, preferring the side without characters
        if _present(nat_l) and _present(norm_r):
            other = sys_r
        elif _present(nat_r) and _present(norm_l):
            other = sys_l
        else:
            other = sys_l if _present(norm_l) else sys_r
        if not _present(norm_l) and not _present(norm_r):
            return f"name (characters {native})"
        if other == "cantonese":
            return f"name (Cantonese romanisation of {native})"
        if other == "pinyin":
            if sorted(str(norm_l).split()) == sorted(str(norm_r).split()):
                return f"name (pinyin of {native}, order swapped)"
            return f"name (pinyin of {native})"
    if _present(norm_l) and sorted(str(norm_l).split()) == sorted(str(norm_r).split()):
        return "name (order swapped)"
    if {sys_l, sys_r} == {"pinyin", "cantonese"}:
        return "name (pinyin and Cantonese romanisations of one Chinese name)"
    return "name (another romanisation)"


def explain_pair(pair: Mapping) -> str:
    """One sentence: what agreed and what differed between the two records of ``pair``."""
    agreed: list[str] = []
    differed: list[str] = []
    rel = name_relation(pair)
    if rel:
        agreed.append(rel)
    elif pair.get("gamma_name") is not None:
        if pair["gamma_name"] >= 0:
            differed.append("name")
    elif _present(pair.get("name_norm_l")) and _present(pair.get("name_norm_r")):
        if _as_set(pair.get("name_parts_l")) & _as_set(pair.get("name_parts_r")):
            agreed.append("part of the name")
        elif _similar(str(pair.get("name_norm_l")), str(pair.get("name_norm_r"))):
            agreed.append("name (close spelling)")
        else:
            differed.append("name")
    for col, label in FIELDS:
        a, b = pair.get(f"{col}_l"), pair.get(f"{col}_r")
        if not (_present(a) and _present(b)):
            continue
        if a == b:
            agreed.append(label)
        elif col == "dob" and str(a)[:7] == str(b)[:7]:
            agreed.append("birth month")
        else:
            differed.append(label)
    text = f"{_join(agreed)} agreed" if agreed else "nothing agreed"
    if differed:
        text += f"; {_join(differed)} differed"
    return text


def _similar(a: str, b: str) -> bool:
    """Close spellings, roughly the model's Jaro-Winkler typo level."""
    import difflib

    return difflib.SequenceMatcher(None, a.replace(" ", ""), b.replace(" ", "")).ratio() >= 0.85
