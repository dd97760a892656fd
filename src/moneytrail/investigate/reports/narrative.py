"""The narrative of why the activity is suspicious, written from the evidence.

Every paragraph about a typology names its indicator id and its published sources (short ids,
resolved to full citations in the report's source list), and every figure in it is computed from
the bundle's transactions and hits.
"""

from __future__ import annotations

import json
from collections import defaultdict

from moneytrail.investigate.reports.bundle import ReportBundle
from moneytrail.investigate.reports.indicators import indicator, sort_indicator_ids, split_ids


def money(value: float | None, currency: str = "C$") -> str:
    """C$1,234.56 style."""
    return f"{currency}{(value or 0.0):,.2f}"


def day(ts) -> str:
    return ts.date().isoformat() if hasattr(ts, "date") else str(ts or "")


def entity_label(b: ReportBundle, kind: str, entity_id: str) -> str:
    """A readable name for the entity a hit is about."""
    if kind == "account":
        acc = b.accounts.get(entity_id, {})
        return f"the account {acc.get('source_id') or entity_id} of {b.account_label(entity_id)}"
    if kind == "party":
        return b.party_name(entity_id)
    if kind == "transaction":
        t = next((t for t in b.transactions if t["txn_id"] == entity_id), None)
        return f"transaction {t['source_id'] if t else entity_id}"
    return f"{kind} {entity_id}"


def _metrics(text: str | None) -> str:
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    parts = []
    for k, v in sorted(data.items()):
        if isinstance(v, float):
            v = f"{v:,.0f}" if v.is_integer() and abs(v) >= 2 else f"{v:,.2f}"
        parts.append(f"{k.replace('_', ' ')} {v}")
    return ", ".join(parts)


# Hits described one by one per paragraph; the rest are summed up in one sentence.
MAX_HITS_DESCRIBED = 5


def _cite(iid: str) -> str:
    ind = indicator(iid)
    cites = ", ".join(s.id for s in ind.sources)
    return f"{ind.title} (indicator {iid}; sources: {cites or 'none catalogued'})"


def _hit_sentences(b: ReportBundle, hits: list[dict], txns: dict[str, dict]) -> list[str]:
    """One sentence per hit (the most severe first), then one summing up the others."""
    hits = sorted(hits, key=lambda h: (-h["severity"], h["hit_id"]))
    out = []
    for h in hits[:MAX_HITS_DESCRIBED]:
        ev = [txns[t] for t in split_ids(h.get("evidence_txn_ids")) if t in txns]
        when = ""
        if h.get("window_start") and h.get("window_end"):
            when = f" between {day(h['window_start'])} and {day(h['window_end'])}"
        s = (
            f"The {h['detector_id'].replace('_', ' ')} detector fired on "
            f"{entity_label(b, h['entity_kind'], h['entity_id'])}{when} with severity {h['severity']:.2f}"
        )
        m = _metrics(h.get("metrics"))
        s += f" ({m})." if m else "."
        if ev:
            refs = ", ".join(t["source_id"] or t["txn_id"] for t in ev[:8])
            more = f" and {len(ev) - 8} more" if len(ev) > 8 else ""
            s += (
                f" Evidence: {len(ev)} transaction{'s' if len(ev) != 1 else ''} totalling "
                f"{money(sum(t.get('amount_cad') or 0 for t in ev))} ({refs}{more})."
            )
        out.append(s)
    rest = hits[MAX_HITS_DESCRIBED:]
    if rest:
        ev = {t for h in rest for t in split_ids(h.get("evidence_txn_ids")) if t in txns}
        out.append(
            f"{len(rest)} further hits of the same kind cite {len(ev)} transactions totalling "
            f"{money(sum(txns[t].get('amount_cad') or 0 for t in ev))}."
        )
    return out


def indicator_paragraphs(b: ReportBundle) -> list[dict]:
    """One paragraph per indicator seen, with its id, title, sources and text."""
    by_ind: dict[str, list[dict]] = defaultdict(list)
    for h in b.hits:
        for iid in split_ids(h.get("indicator_ids")):
            by_ind[iid].append(h)
    txns = {t["txn_id"]: t for t in b.transactions}
    out = []
    for iid in sort_indicator_ids(list(by_ind) + split_ids(b.lead.get("typologies"))):
        ind = indicator(iid)
        sentences = [_cite(iid) + "."] + _hit_sentences(b, by_ind.get(iid, []), txns)
        if not by_ind.get(iid):
            sentences.append("Risk scoring attributes this indicator to the network as a whole.")
        out.append(
            {
                "indicator_id": iid,
                "title": ind.title,
                "sources": [s.id for s in ind.sources],
                "text": " ".join(sentences),
            }
        )
    return out


def evidence_paragraphs(b: ReportBundle) -> list[str]:
    """The evidence grouped by the indicators each detector cites, so each hit is told once."""
    groups: dict[tuple[str, ...], list[dict]] = defaultdict(list)
    for h in b.hits:
        groups[tuple(sort_indicator_ids(split_ids(h.get("indicator_ids"))))].append(h)
    txns = {t["txn_id"]: t for t in b.transactions}
    order = sorted(groups, key=lambda ids: sort_indicator_ids(ids)[0] if ids else "~")
    out = []
    for ids in order:
        cites = [_cite(i) for i in ids]
        head = (
            (", ".join(cites[:-1]) + " and " + cites[-1])
            if len(cites) > 1
            else (cites[0] if cites else "Other hits")
        )
        out.append(" ".join([head + "."] + _hit_sentences(b, groups[ids], txns)))
    seen = {i for ids in groups for i in ids}
    rest = [i for i in sort_indicator_ids(split_ids(b.lead.get("typologies"))) if i not in seen]
    if rest:
        out.append("Risk scoring also attributes to the network: " + "; ".join(_cite(i) for i in rest) + ".")
    return out


def overview(b: ReportBundle) -> str:
    """The opening paragraph: who, when, how much, and how the network ranks."""
    subjects = [b.party_name(p) for p in sorted(b.subject_party_ids) if p in b.parties]
    first, last = b.span
    text = (
        f"This report concerns {len(subjects)} subject{'s' if len(subjects) != 1 else ''} "
        f"({'; '.join(subjects)}) and {len(b.transactions)} transactions worth {money(b.total_cad)} "
        f"between {day(first)} and {day(last)}."
    )
    if b.lead.get("rank") is not None and b.lead.get("score") is not None:
        text += f" Risk scoring ranks this network {b.lead['rank']} with a score of {b.lead['score']:.2f}."
    if b.lead.get("narrative"):
        text += " " + b.lead["narrative"].strip()
    return text


def scoring_paragraph(b: ReportBundle) -> str | None:
    """The subjects' account scores and their one-line reasons."""
    parts = []
    for aid in sorted(b.account_scores, key=lambda a: -b.account_scores[a]["score"]):
        s = b.account_scores[aid]
        acc = b.accounts.get(aid, {})
        reason = f": {s['reason']}" if s.get("reason") else ""
        parts.append(
            f"{acc.get('source_id') or aid} ({b.account_label(aid)}) scores {s['score']:.2f}{reason}"
        )
    if not parts:
        return None
    return "Account risk scores: " + "; ".join(parts) + "."


def narrative(b: ReportBundle) -> str:
    """The whole narrative as plain text paragraphs separated by blank lines."""
    paras = [overview(b), *evidence_paragraphs(b)]
    scoring = scoring_paragraph(b)
    if scoring:
        paras.append(scoring)
    if b.case and b.case.get("notes"):
        paras.append("Investigator notes: " + " ".join(str(n) for n in b.case["notes"]))
    return "\n\n".join(paras)
