"""The suspicious transaction report (STR) draft: JSON validated against ``str_schema.json``, and HTML.

The structure follows a FINTRAC STR: the reporting entity, the transactions with their fields
(conductor and beneficiary sides), the subjects with their identifiers, and the narrative of why
the activity is suspicious, which cites indicator ids and their published sources.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from importlib import resources

import jsonschema

from moneytrail.errors import SchemaError
from moneytrail.investigate.reports.bundle import ReportBundle
from moneytrail.investigate.reports.indicators import cited_sources, indicator
from moneytrail.investigate.reports.narrative import indicator_paragraphs, narrative
from moneytrail.investigate.reports.templating import render

PLACEHOLDER_ENTITY = "(reporting entity to be completed)"


@cache
def str_schema() -> dict:
    """The JSON Schema of the STR draft."""
    return json.loads(resources.files(__package__).joinpath("str_schema.json").read_text(encoding="utf-8"))


def validate_str(doc: dict) -> None:
    """Raise :class:`SchemaError` naming the first field that breaks the STR schema."""
    validator = jsonschema.Draft202012Validator(str_schema(), format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        where = "/".join(str(p) for p in e.absolute_path) or "(root)"
        raise SchemaError(f"The STR draft breaks str_schema.json at '{where}': {e.message}.")


def _iso(value) -> str | None:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _datetime(value) -> str:
    # JSON Schema's date-time needs an offset; workspace timestamps are naive local times of the source.
    return (value.isoformat() if isinstance(value, dt.datetime) else str(value)) + (
        "" if getattr(value, "tzinfo", None) else "Z"
    )


def _side(b: ReportBundle, account_id: str) -> dict:
    acc = b.accounts.get(account_id, {})
    holder = acc.get("holder_party_id")
    return {
        "account_id": account_id,
        "account_number": acc.get("source_id"),
        "institution": acc.get("institution"),
        "institution_type": acc.get("institution_type"),
        "country": acc.get("country"),
        "holder_party_id": holder,
        "holder_name": b.party_name(holder) if holder else None,
    }


def _party(b: ReportBundle, pid: str) -> dict:
    p = b.parties.get(pid, {"party_id": pid, "kind": "unknown"})
    ids = []
    if p.get("document_number"):
        ids.append(
            {
                "type": "identity document" if p.get("kind") == "person" else "registration number",
                "value": str(p["document_number"]),
                "issuer": p.get("nationality") or p.get("country"),
            }
        )
    if p.get("source_id"):
        ids.append(
            {
                "type": f"{p.get('source') or 'source'} customer id",
                "value": str(p["source_id"]),
                "issuer": None,
            }
        )
    score = b.party_scores.get(pid, {}).get("score")
    if score is None:
        held = [b.account_scores[a]["score"] for a in b.accounts_of(pid) if a in b.account_scores]
        score = max(held) if held else None
    return {
        "party_id": pid,
        "kind": p.get("kind") if p.get("kind") in ("person", "company") else "unknown",
        "name": b.party_name(pid),
        "name_native": p.get("name_native"),
        "birth_date": _iso(p.get("birth_date")),
        "nationality": p.get("nationality"),
        "country": p.get("country"),
        "occupation": p.get("occupation"),
        "address": p.get("address"),
        "phone": p.get("phone"),
        "email": p.get("email"),
        "risk_score": score,
        "identifiers": ids,
        "accounts": sorted(b.accounts[a].get("source_id") or a for a in b.accounts_of(pid)),
    }


def build_str(
    b: ReportBundle, *, now: dt.datetime | None = None, reporting_entity: dict | None = None
) -> dict:
    """The STR draft of bundle ``b`` as a JSON-ready dict (validated)."""
    now = now or dt.datetime.now(dt.UTC)
    per_txn = b.txn_indicators()
    txns = [
        {
            "txn_id": t["txn_id"],
            "reference": t.get("source_id") or t["txn_id"],
            "datetime": _datetime(t["ts"]),
            "amount": float(t["amount"]),
            "currency": t["currency"],
            "amount_cad": t.get("amount_cad"),
            "channel": t["channel"],
            "cash_denomination": t.get("cash_denomination"),
            "memo": t.get("memo"),
            "indicator_ids": per_txn.get(t["txn_id"], []),
            "conductor": _side(b, t["src_account_id"]),
            "beneficiary": _side(b, t["dst_account_id"]),
        }
        for t in b.transactions
    ]
    subjects = [_party(b, p) for p in sorted(b.subject_party_ids) if p in b.parties]
    others = sorted(set(b.parties) - b.subject_party_ids)
    ids = b.indicator_ids
    paragraphs = {p["indicator_id"]: p["text"] for p in indicator_paragraphs(b)}
    entity = {"name": PLACEHOLDER_ENTITY, "identifier": None, "activity_sector": None, "contact": None}
    entity.update(reporting_entity or {})
    doc = {
        "report_type": "STR",
        "schema_version": "1",
        "status": "draft",
        "report_id": f"STR-{b.report_id}",
        "generated_at": now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "redacted": b.redacted,
        "lead": {k: b.lead.get(k) for k in ("lead_id", "rank", "score", "total_value_cad")},
        "case": {
            k: v for k, v in b.case.items() if isinstance(v, str | int | float | bool | type(None) | list)
        }
        if b.case
        else None,
        "reporting_entity": entity,
        "transactions": txns,
        "subjects": subjects,
        "related_parties": [_party(b, p) for p in others],
        "suspicion": {
            "indicators": [
                {
                    "id": i,
                    "title": indicator(i).title,
                    "sources": [s.id for s in indicator(i).sources],
                    "text": paragraphs.get(i, ""),
                }
                for i in ids
            ],
            "narrative": narrative(b),
        },
        "action_taken": None,
        "sources": [{"id": s.id, "citation": s.citation} for s in cited_sources(ids)],
    }
    validate_str(doc)
    return doc


def str_json(doc: dict) -> bytes:
    """The STR draft as UTF-8 JSON (names in their own script, not escaped)."""
    return (json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n").encode("utf-8")


def str_html(doc: dict) -> str:
    """The STR draft as a readable, self-contained HTML page."""
    return render("str.html.j2", doc=doc, paragraphs=doc["suspicion"]["narrative"].split("\n\n"))
