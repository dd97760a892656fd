"""Organisation names: folding, and how rare a name is among the organisations of a data set.

Two records of one company often share nothing but the registered name, written in another case,
with or without punctuation and the legal form ("PEARL RIVER TRADING LIMITED", "Pearl River
Trading Ltd."). The **organisation key** folds those away: tokens are lower-cased and
ASCII-folded, common abbreviations are spelled out, legal forms and filler words are dropped,
and the remaining words are sorted, so word order does not matter either.

How much an agreeing name says depends on its words. "Lucky Supplies" is shared by unrelated
shops; "Pearl River Orient Enterprises Manufacturing" is one firm. The chance that an unrelated
record carries a name is estimated word by word: the share of records that are organisations
times the product, over the name's words, of the share of organisation names using the word.
That estimate is the term frequency of the key (Splink's ``u`` for an agreeing name), so common
words do not link and a name of rare words does.

>>> organisation_key("PEARL RIVER ORIENT TRADING CO., LTD.")
'orient pearl river trading'
>>> organisation_key("Pearl-River Orient Trading Company Limited")
'orient pearl river trading'
"""

from __future__ import annotations

import math
import re

import pyarrow as pa
import pyarrow.compute as pc

from moneytrail.resolve.lexicon import fold

_SPLIT = re.compile(r"[^a-z0-9]+")
# Legal forms in the registries our sources quote, and words that carry no identity.
LEGAL_FORMS = frozenset(
    {
        "ltd", "limited", "co", "company", "inc", "incorporated", "corp", "corporation", "llc",
        "llp", "lp", "plc", "pty", "pte", "gmbh", "ag", "sa", "srl", "bv", "nv", "ulc",
        "the", "and", "of",
    }
)  # fmt: skip
# Abbreviations spelled out so "Pacific Intl Hldgs" and "Pacific International Holdings" agree.
ABBREVIATIONS = {
    "intl": "international",
    "hldgs": "holdings",
    "hldg": "holding",
    "mfg": "manufacturing",
    "grp": "group",
    "svcs": "services",
    "svc": "services",
    "ent": "enterprises",
    "invt": "investment",
    "mgmt": "management",
    "assoc": "associates",
    "bros": "brothers",
}

# the feature columns this module adds, and the column of the term-frequency lookup
ORG_KEY = "org_key"
ORG_RAREST = "org_rarest"
TF_ORG_KEY = "tf_org_key"


def organisation_tokens(name: str | None) -> list[str]:
    """Folded words of an organisation name without legal forms, abbreviations spelled out."""
    if not name:
        return []
    out = []
    for token in _SPLIT.split(fold(name)):
        token = ABBREVIATIONS.get(token, token)
        if token and token not in LEGAL_FORMS:
            out.append(token)
    return out


def organisation_key(name: str | None) -> str | None:
    """The folded, order-free key of an organisation name (None when nothing identifying is left)."""
    words = sorted(set(organisation_tokens(name)))
    return " ".join(words) or None


def organisation_frequencies(keys: pa.ChunkedArray | pa.Array) -> pa.Table:
    """Per distinct organisation key: its estimated term frequency and its rarest word.

    ``keys`` holds the organisation key of every record (nulls, the persons, are ignored).
    ``tf_org_key`` is the product of the shares of distinct keys using each of the key's words,
    words that only ever appear together counting once;
    ``org_rarest`` is the name's least used word (ties by spelling), which blocking uses.
    """
    counted = pc.drop_null(keys)
    distinct = sorted(pc.unique(counted).to_pylist())
    schema = pa.schema([(ORG_KEY, pa.string()), (TF_ORG_KEY, pa.float64()), (ORG_RAREST, pa.string())])
    if not distinct:
        return schema.empty_table()
    n = len(distinct)
    used_by: dict[str, list[int]] = {}
    for i, key in enumerate(distinct):
        for w in key.split(" "):
            used_by.setdefault(w, []).append(i)
    # words used by exactly the same names ("convenience store", "money services") are one unit:
    # multiplying their shares would count one phrase twice and make its names look rare
    unit = {w: tuple(ids) for w, ids in used_by.items()}
    tf, rarest = [], []
    for key in distinct:
        words = key.split(" ")
        tf.append(math.prod(len(u) / n for u in {unit[w] for w in words}))
        rarest.append(min(words, key=lambda w: (len(used_by[w]), w)))
    return pa.table({ORG_KEY: distinct, TF_ORG_KEY: tf, ORG_RAREST: rarest}, schema=schema)
