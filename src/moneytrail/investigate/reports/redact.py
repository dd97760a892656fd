"""Redaction: pseudonymise everyone who is not a subject, for sharing a report outside the unit.

Each non-subject party becomes "Counterparty A", "Counterparty B", ... in order of first appearance
(stable within one document), its identifying fields are dropped, its ids and its accounts' ids are
replaced, and every other text in the bundle (memos, narratives, metrics, institution names) is
scrubbed of its names and identifiers, so a name cannot leak through a free-text field.
"""

from __future__ import annotations

import copy
import re
import string

from moneytrail.investigate.reports.bundle import ReportBundle

# Fields of a party that identify a person; dropped for non-subjects.
_IDENTIFYING = (
    "name_native",
    "birth_date",
    "address",
    "phone",
    "email",
    "document_number",
    "occupation",
    "declared_income",
    "nationality",
)
_PARTY_REFS = ("buyer_party_id", "seller_party_id", "lender_party_id", "deposit_payer_party_id")


def _letters(i: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA ..."""
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = string.ascii_uppercase[r] + out
    return out


def _order(b: ReportBundle) -> list[str]:
    """Non-subject parties in order of first appearance in the report."""
    seen: dict[str, None] = {}
    for t in b.transactions:
        for k in ("src_account_id", "dst_account_id"):
            h = b.holder(t.get(k))
            if h:
                seen.setdefault(h, None)
    for t in b.transfers:
        for k in _PARTY_REFS:
            if t.get(k):
                seen.setdefault(t[k], None)
    for pid in sorted(b.parties):
        seen.setdefault(pid, None)
    return [p for p in seen if p not in b.subject_party_ids]


def _variants(party: dict) -> list[str]:
    """The strings that identify a party in free text, longest first."""
    out = set()
    for k in ("name", "name_native", "address", "phone", "email", "document_number", "source_id", "party_id"):
        v = party.get(k)
        if isinstance(v, str) and len(v.strip()) >= 2:
            out.add(v.strip())
    name = party.get("name")
    if isinstance(name, str) and " " in name.strip():
        parts = name.split()
        out.add(" ".join(reversed(parts)))  # family name first or last
    return sorted(out, key=len, reverse=True)


class _Scrubber:
    """Replaces every known identifying string with its label in one regex pass per text."""

    def __init__(self, pairs: list[tuple[str, str]]):
        # Longest first, so "Wong Mei Ling" wins over "Wong"; matching is case-insensitive.
        self.labels = {}
        for text, label in sorted(pairs, key=lambda p: -len(p[0])):
            self.labels.setdefault(text.casefold(), label)
        latin = [t for t in self.labels if t.isascii()]
        other = [t for t in self.labels if not t.isascii()]
        parts = []
        # Word boundaries for Latin-script strings; none for CJK, which has no spaces between words.
        if latin:
            parts.append(r"(?<![\w])(?:" + "|".join(re.escape(t) for t in latin) + r")(?![\w])")
        if other:
            parts.append("(?:" + "|".join(re.escape(t) for t in other) + ")")
        self.pattern = re.compile("|".join(parts), re.IGNORECASE) if parts else None

    def __call__(self, text: str) -> str:
        if self.pattern is None:
            return text
        return self.pattern.sub(lambda m: self.labels.get(m.group(0).casefold(), "[redacted]"), text)


def redact_bundle(b: ReportBundle) -> ReportBundle:
    """A redacted copy of ``b``: non-subjects pseudonymised everywhere."""
    r = copy.deepcopy(b)
    r.__dict__.pop("_by_holder", None)  # the holder index refers to the old account ids
    r.redacted = True
    pseudo = {pid: f"Counterparty {_letters(i)}" for i, pid in enumerate(_order(b))}
    new_pid = {pid: f"X-{name.split()[-1]}" for pid, name in pseudo.items()}
    replacements: list[tuple[str, str]] = []
    for pid, label in pseudo.items():
        party = b.parties.get(pid, {"party_id": pid})
        for v in _variants(party):
            replacements.append((v, label))

    # Accounts held by non-subjects get new ids too: their numbers identify their holders.
    new_aid: dict[str, str] = {}
    counters: dict[str, int] = {}
    for aid in sorted(b.accounts):
        acc = b.accounts[aid]
        holder = acc.get("holder_party_id")
        if aid in b.subject_account_ids:
            continue
        tag = new_pid.get(holder, "X-UNKNOWN")
        counters[tag] = counters.get(tag, 0) + 1
        new_aid[aid] = f"{tag}-{counters[tag]}"
        for v in (aid, acc.get("source_id")):
            if isinstance(v, str) and len(v) >= 2:
                replacements.append((v, new_aid[aid]))
    scrubber = _Scrubber(replacements)

    parties = {}
    for pid, p in r.parties.items():
        if pid in pseudo:
            p = {k: (None if k in _IDENTIFYING else v) for k, v in p.items()}
            p.update(party_id=new_pid[pid], name=pseudo[pid], source_id=new_pid[pid])
            pid = new_pid[pid]
        parties[pid] = p
    r.parties = parties
    accounts = {}
    for aid, a in r.accounts.items():
        if aid in new_aid:
            a = dict(a, account_id=new_aid[aid], source_id=new_aid[aid])
            a["holder_party_id"] = new_pid.get(a.get("holder_party_id"), a.get("holder_party_id"))
            aid = new_aid[aid]
        accounts[aid] = a
    r.accounts = accounts
    for t in r.transactions:
        for k in ("src_account_id", "dst_account_id"):
            t[k] = new_aid.get(t[k], t[k])
    for link in r.links:
        for k in ("party_a", "party_b"):
            link[k] = new_pid.get(link[k], link[k])
        link["source_id"] = None
    for t in r.transfers:
        for k in _PARTY_REFS:
            if t.get(k):
                t[k] = new_pid.get(t[k], t[k])

    def scrub(value):
        if isinstance(value, str):
            return scrubber(value)
        if isinstance(value, dict):
            return {k: scrub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [scrub(v) for v in value]
        return value

    # Free text may still name a counterparty; pseudonyms themselves contain no real name.
    keep = {
        "party_id",
        "account_id",
        "holder_party_id",
        "src_account_id",
        "dst_account_id",
        "party_a",
        "party_b",
        "name",
    }
    for rows in (
        r.transactions,
        r.hits,
        r.links,
        r.transfers,
        list(r.properties.values()),
        list(r.account_scores.values()),
        list(r.party_scores.values()),
        list(r.accounts.values()),
        list(r.parties.values()),
        [r.lead],
        [r.case] if r.case else [],
    ):
        for row in rows:
            for k, v in list(row.items()):
                if k not in keep or (k == "name" and v not in pseudo.values()):
                    row[k] = scrub(v)
    return r
