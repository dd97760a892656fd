"""Search by name (fuzzy, any romanisation, Chinese characters), account id or phone number.

Names are compared by romanisation class (``moneytrail.resolve.names``): "Chan Kwok Keung",
"Chen Guoqiang" and 陈国强 share their classes, so any of them finds the others. An inverted index
from class to parties is built on the first name search and kept until the tables change.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass

from moneytrail.investigate.web import queries as Q
from moneytrail.investigate.web.reader import Reader

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_DIGITS = re.compile(r"\d")
MIN_SCORE = 0.3


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def _features(name: str | None, native: str | None) -> tuple[set[str], str]:
    """(romanisation classes, folded name) of a name; plain tokens when resolve is unavailable."""
    try:
        from moneytrail.resolve.names import name_features
    except ImportError:  # pragma: no cover - resolve ships with moneytrail
        name_features = None
    folded = " ".join(re.split(r"[^a-z0-9]+", _fold(name or ""))).strip()
    if name_features is not None:
        f = name_features(name or None, native or None)
        # ``name_parts`` holds every reading of every token; older versions called it name_classes.
        parts = getattr(f, "name_parts", None) or getattr(f, "name_classes", None) or []
        keys = {f"key:{k}" for k in (getattr(f, "name_keys", None) or [])}
        return set(parts) | keys, f.name_norm or folded
    return set(folded.split()) | {c for c in (native or "") if _CJK.match(c)}, folded


@dataclass
class NameIndex:
    rows: list[dict]
    classes: list[set[str]]
    folded: list[str]
    by_class: dict[str, list[int]]


def build_index(reader: Reader) -> NameIndex:
    rows = reader.rows(Q.party_names_sql(), label="the name index")
    classes, folded, by_class = [], [], defaultdict(list)
    for i, r in enumerate(rows):
        c, f = _features(r.get("name"), r.get("name_native"))
        classes.append(c)
        folded.append(f)
        for k in c:
            by_class[k].append(i)
    return NameIndex(rows, classes, folded, dict(by_class))


def search_names(reader: Reader, text: str, limit: int = 20) -> list[dict]:
    """Parties whose name matches ``text`` in any romanisation, best first."""
    if not reader.has("parties"):
        return []
    index: NameIndex = reader.cached(("name-index",), lambda: build_index(reader))
    native = "".join(_CJK.findall(text)) or None
    latin = _CJK.sub(" ", text).strip() or None
    q_classes, q_folded = _features(latin, native)
    candidates: set[int] = set()
    for k in q_classes:
        candidates.update(index.by_class.get(k, ()))
    if not candidates and q_folded:
        # no shared token: fall back to a substring scan (short queries, ids typed as names)
        candidates = {i for i, f in enumerate(index.folded) if q_folded in f}
    scored = []
    for i in candidates:
        # share of the query's readings found, plus a bonus when a whole-name key matches
        q_plain = {k for k in q_classes if not k.startswith("key:")} or q_classes
        found = len(q_plain & index.classes[i]) / (len(q_plain) or 1)
        key_match = any(k.startswith("key:") and k in index.classes[i] for k in q_classes)
        ratio = difflib.SequenceMatcher(None, q_folded, index.folded[i]).ratio() if q_folded else 0.0
        score = 0.45 * found + 0.35 * key_match + 0.2 * ratio
        scored.append((score, index.rows[i]["party_id"], i))
    # a single shared syllable ("Kong" in a company name) is not a match worth showing
    scored = [s for s in scored if s[0] >= MIN_SCORE]
    scored.sort(key=lambda t: (-t[0], t[1]))
    out = []
    for score, _pid, i in scored[:limit]:
        r = index.rows[i]
        out.append(
            {
                "kind": "party",
                "id": r["party_id"],
                "party_id": r["party_id"],
                "name": r.get("name"),
                "name_native": r.get("name_native"),
                "detail": r.get("source"),
                "score": round(score, 3),
            }
        )
    return out


def search(reader: Reader, text: str, kind: str = "any", limit: int = 20) -> list[dict]:
    """Search parties by name or phone and accounts by id; ``kind`` is any, name, account or phone."""
    text = text.strip()
    if not text:
        return []
    results: list[dict] = []
    # Country codes are written or not: compare the national number (last ten digits).
    digits = "".join(_DIGITS.findall(text))[-10:]
    if kind in ("any", "phone") and len(digits) >= 4 and reader.has("parties"):
        for r in reader.rows(Q.search_phone_sql(digits, limit), label="the phone search"):
            results.append(
                {
                    "kind": "phone",
                    "id": r["party_id"],
                    "party_id": r["party_id"],
                    "name": r["name"],
                    "name_native": r["name_native"],
                    "detail": r["phone"],
                    "score": 1.0,
                }
            )
    if kind in ("any", "account") and reader.has("accounts"):
        for r in reader.rows(Q.search_accounts_sql(text, limit), label="the account search"):
            results.append(
                {
                    "kind": "account",
                    "id": r["account_id"],
                    "party_id": r["holder_party_id"],
                    "name": r["account_id"],
                    "name_native": None,
                    "detail": f"{r['institution'] or ''} ({r['institution_type'] or 'other'})",
                    "score": 1.0,
                }
            )
    if kind in ("any", "name"):
        results.extend(search_names(reader, text, limit))
    return results[:limit]
