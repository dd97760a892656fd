"""FollowTheMoney export: the lead as FtM entities (JSON lines) that Aleph and OpenSanctions tools read.

Parties become Person, Company or LegalEntity; accounts BankAccount with an Ownership from their
holder; transactions Payment (payer and beneficiary are the holders, with their accounts);
properties RealEstate with Ownership from their transfers and Debt for mortgages; links
Directorship, Family, Associate or UnknownLink. Entity ids are SHA-1 digests of the
moneytrail namespace, the record kind and the source's own id, so the same record always gets the
same id and two exports of overlapping leads merge cleanly.
"""

from __future__ import annotations

import json

from followthemoney import model
from followthemoney.exc import InvalidData

from moneytrail.errors import SchemaError
from moneytrail.investigate.reports.bundle import ReportBundle

NAMESPACE = "moneytrail"
PARTY_SCHEMA = {"person": "Person", "company": "Company"}
CHANNEL_PREFIX = "channel: "


def entity_id(kind: str, source: str | None, source_id: str) -> str:
    """The deterministic FtM id of a moneytrail record."""
    proxy = model.make_entity("Thing")
    return proxy.make_id(NAMESPACE, kind, source or "", source_id)


def validate_entity(data: dict) -> None:
    """Raise :class:`SchemaError` unless ``data`` is a valid FtM entity (schema, required and typed values)."""
    try:
        schema = model.get(data.get("schema", ""))
        if schema is None:
            raise SchemaError(f"FtM entity {data.get('id')!r} has an unknown schema {data.get('schema')!r}.")
        schema.validate(data)
        props = data.get("properties", {})
        missing = [p for p in schema.required if not props.get(p)]
        if missing:
            raise SchemaError(f"FtM entity {data.get('id')!r} ({schema.name}) lacks required {missing}.")
        proxy = model.get_proxy(data, cleaned=False)
    except InvalidData as e:
        detail = "; ".join(
            f"{k}: {v}" for k, v in (getattr(e, "errors", {}) or {}).get("properties", {}).items()
        )
        raise SchemaError(f"FtM entity {data.get('id')!r} is invalid: {detail or e}.") from e
    if not proxy.id:
        raise SchemaError("An FtM entity has no id.")


def _add(proxy, prop: str, value) -> None:
    if value is None or value == "":
        return
    if hasattr(value, "isoformat"):
        value = value.isoformat()
    proxy.add(prop, value, quiet=True)


def ftm_entities(b: ReportBundle) -> list[dict]:
    """The bundle as FtM entity dicts, in a stable order."""
    out: list[dict] = []
    party_ids: dict[str, str] = {}
    party_schema: dict[str, str] = {}
    for pid, p in sorted(b.parties.items()):
        schema = PARTY_SCHEMA.get(p.get("kind") or "", "LegalEntity")
        e = model.make_entity(schema)
        e.id = entity_id("party", p.get("source"), p.get("source_id") or pid)
        _add(e, "name", p.get("name") or p.get("name_native") or p.get("source_id") or pid)
        if p.get("name_native") and p.get("name_native") != p.get("name"):
            _add(e, "alias", p["name_native"])
        for prop, col in (
            ("country", "country"),
            ("address", "address"),
            ("phone", "phone"),
            ("email", "email"),
        ):
            _add(e, prop, p.get(col))
        if schema == "Person":
            _add(e, "birthDate", p.get("birth_date"))
            _add(e, "nationality", p.get("nationality"))
            _add(e, "position", p.get("occupation"))
            _add(e, "idNumber", p.get("document_number"))
        else:
            _add(e, "registrationNumber", p.get("document_number"))
        if pid in b.subject_party_ids:
            _add(e, "notes", f"Subject of moneytrail report {b.report_id}.")
        party_ids[pid] = e.id
        party_schema[pid] = schema
        out.append(e.to_dict())

    account_ids: dict[str, str] = {}
    for aid, a in sorted(b.accounts.items()):
        e = model.make_entity("BankAccount")
        e.id = entity_id("account", a.get("source"), a.get("source_id") or aid)
        _add(e, "accountNumber", a.get("source_id") or aid)
        _add(e, "bankName", a.get("institution"))
        _add(e, "accountType", a.get("institution_type"))
        _add(e, "country", a.get("country"))
        _add(e, "currency", a.get("currency"))
        _add(e, "openingDate", a.get("opened_at").date() if a.get("opened_at") else None)
        account_ids[aid] = e.id
        out.append(e.to_dict())
        holder = a.get("holder_party_id")
        if holder in party_ids:
            o = model.make_entity("Ownership")
            o.id = entity_id("account_holder", a.get("source"), a.get("source_id") or aid)
            _add(o, "owner", party_ids[holder])
            _add(o, "asset", e.id)
            _add(o, "role", "account holder")
            out.append(o.to_dict())

    for t in b.transactions:
        e = model.make_entity("Payment")
        e.id = entity_id("transaction", t.get("source"), t.get("source_id") or t["txn_id"])
        for side, acc_prop, party_prop in (
            ("src_account_id", "payerAccount", "payer"),
            ("dst_account_id", "beneficiaryAccount", "beneficiary"),
        ):
            _add(e, acc_prop, account_ids.get(t[side]))
            _add(e, party_prop, party_ids.get(b.holder(t[side]) or ""))
        _add(e, "amount", t["amount"])
        _add(e, "currency", t["currency"])
        _add(e, "date", t["ts"].replace(microsecond=0) if t.get("ts") else None)
        _add(e, "transactionNumber", t.get("source_id") or t["txn_id"])
        _add(e, "purpose", t.get("memo"))
        summary = CHANNEL_PREFIX + t["channel"]
        if t.get("cash_denomination"):
            summary += f"; denomination: {t['cash_denomination']}"
        _add(e, "summary", summary)
        out.append(e.to_dict())

    property_ids: dict[str, str] = {}
    for prid, p in sorted(b.properties.items()):
        e = model.make_entity("RealEstate")
        e.id = entity_id("property", p.get("source"), p.get("source_id") or prid)
        _add(e, "name", p.get("address") or p.get("source_id") or prid)
        _add(e, "address", p.get("address"))
        _add(e, "propertyType", p.get("kind"))
        _add(e, "amount", p.get("assessed_value"))
        _add(e, "currency", "CAD" if p.get("assessed_value") is not None else None)
        _add(e, "titleNumber", p.get("source_id"))
        property_ids[prid] = e.id
        out.append(e.to_dict())
    for t in b.transfers:
        asset = property_ids.get(t["property_id"])
        ref = t.get("source_id") or t["transfer_id"]
        date = t["ts"].date() if t.get("ts") else None
        if asset and t.get("buyer_party_id") in party_ids:
            o = model.make_entity("Ownership")
            o.id = entity_id("transfer_buyer", t.get("source"), ref)
            _add(o, "owner", party_ids[t["buyer_party_id"]])
            _add(o, "asset", asset)
            _add(o, "startDate", date)
            _add(o, "recordId", ref)
            _add(
                o,
                "summary",
                f"Bought for C${t['price']:,.2f}"
                + (" through a trust account" if t.get("via_trust_account") else ""),
            )
            out.append(o.to_dict())
        if asset and t.get("seller_party_id") in party_ids:
            o = model.make_entity("Ownership")
            o.id = entity_id("transfer_seller", t.get("source"), ref)
            _add(o, "owner", party_ids[t["seller_party_id"]])
            _add(o, "asset", asset)
            _add(o, "endDate", date)
            _add(o, "recordId", ref)
            out.append(o.to_dict())
        if (
            t.get("lender_party_id") in party_ids
            and t.get("buyer_party_id") in party_ids
            and t.get("mortgage_amount")
        ):
            d = model.make_entity("Debt")
            d.id = entity_id("mortgage", t.get("source"), ref)
            _add(d, "debtor", party_ids[t["buyer_party_id"]])
            _add(d, "creditor", party_ids[t["lender_party_id"]])
            _add(d, "amount", t["mortgage_amount"])
            _add(d, "currency", "CAD")
            _add(d, "date", date)
            _add(d, "summary", f"{t.get('lender_kind') or 'unknown'} mortgage lender")
            out.append(d.to_dict())

    for i, link in enumerate(b.links):
        a, c = link["party_a"], link["party_b"]
        if a not in party_ids or c not in party_ids:
            continue
        kind = link["kind"]
        if kind == "director_of" and party_schema[c] == "Company":
            e, props = model.make_entity("Directorship"), ("director", "organization")
        elif kind == "family" and party_schema[a] == party_schema[c] == "Person":
            e, props = model.make_entity("Family"), ("person", "relative")
        elif kind == "associate" and party_schema[a] == party_schema[c] == "Person":
            e, props = model.make_entity("Associate"), ("person", "associate")
        else:
            e, props = model.make_entity("UnknownLink"), ("subject", "object")
            _add(e, "role", kind)
        e.id = entity_id("link", link.get("source"), f"{kind}:{a}:{c}:{link.get('source_id') or i}")
        _add(e, props[0], party_ids[a])
        _add(e, props[1], party_ids[c])
        if e.schema.name in ("Family", "Associate"):
            _add(e, "relationship", kind)
        out.append(e.to_dict())
    return out


def ftm_jsonl(b: ReportBundle, *, validate: bool = True) -> bytes:
    """The bundle as FtM JSON lines (one entity per line, UTF-8)."""
    lines = []
    for data in ftm_entities(b):
        if validate:
            validate_entity(data)
        lines.append(json.dumps(data, ensure_ascii=False, sort_keys=True))
    return ("\n".join(lines) + "\n").encode("utf-8")
