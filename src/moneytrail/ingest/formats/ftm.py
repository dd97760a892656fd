"""FollowTheMoney entities as JSON lines (Aleph exports, OpenSanctions data sets, moneytrail's own
``report --format ftm``) into canonical tables.

- Person, Company, Organization, PublicBody, LegalEntity -> ``parties`` (person, company, unknown);
  entities with a sanction-like topic (``sanction``, ``crime...``, ``role.pep...``, ``wanted``,
  ``debarment``, ...) or named by a Sanction entity also -> ``watchlist``.
- BankAccount -> ``accounts``; its holder is the owner of an Ownership whose asset is the account.
- Payment -> ``transactions``. The paying side is the payer's account (payerAccount) or, when no
  BankAccount is named, a placeholder account with the payer's own id, held by the payer (the
  pipeline creates it); likewise for the beneficiary.
- RealEstate -> ``properties``; Directorship, Family, Associate, UnknownLink and the Ownership of
  an organisation -> ``links``.
- Identification and Passport give their holder's ``document_number``; Address entities give the
  ``address`` of the entities that point to them.

Ids are ``ftm:<entity id>``; ``source`` is ``ftm`` and ``source_id`` the entity id. A line that is
not JSON, not an entity, of a schema moneytrail has no table for, or that the canonical validation
rejects goes to the quarantine with its line number; nothing is dropped silently.

The JSON is parsed in Python (DuckDB's JSON reader cannot keep bad lines with their numbers) into
one all-text Parquet file per table, which the pipeline then validates like any other input.
"""

from __future__ import annotations

import gzip
import json
import re
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from moneytrail.errors import InputFileError
from moneytrail.ingest.formats import Mapping
from moneytrail.ingest.sources import MAX_RAW_CHARS, Source, ident, sql_literal
from moneytrail.schema import table

SOURCE = "ftm"
SUFFIXES = (".ftm.json", ".ftm.jsonl", ".jsonl", ".ndjson", ".json")
SANCTION_TOPICS = (
    "sanction",
    "crime",
    "role.pep",
    "role.rca",
    "wanted",
    "debarment",
    "export.control",
    "poi",
)
PARTY_KINDS = (("Person", "person"), ("Organization", "company"), ("LegalEntity", "unknown"))
LINK_SCHEMATA = {
    "Directorship": ("director", "organization", "director_of"),
    "Family": ("person", "relative", "family"),
    "Associate": ("person", "associate", "associate"),
    "UnknownLink": ("subject", "object", None),
}
LINK_KINDS = set(table("links").column("kind").values or ())
CHANNELS = set(table("transactions").column("channel").values or ())
PROPERTY_KINDS = set(table("properties").column("kind").values or ())
INSTITUTION_TYPES = set(table("accounts").column("institution_type").values or ())
# What each output table reads from the JSON (all text; the pipeline types and validates it).
COLUMNS = {
    "parties": [
        "party_id",
        "kind",
        "name",
        "name_native",
        "birth_date",
        "nationality",
        "occupation",
        "address",
        "phone",
        "email",
        "document_number",
        "country",
        "source",
        "source_id",
    ],
    "accounts": [
        "account_id",
        "holder_party_id",
        "institution",
        "institution_type",
        "country",
        "currency",
        "opened_at",
        "is_external",
        "source",
        "source_id",
    ],
    "transactions": [
        "txn_id",
        "ts",
        "src_account_id",
        "dst_account_id",
        "amount",
        "currency",
        "channel",
        "cash_denomination",
        "memo",
        "source",
        "source_id",
    ],
    "properties": ["property_id", "address", "kind", "assessed_value", "source", "source_id"],
    "links": ["party_a", "party_b", "kind", "source", "source_id"],
    "watchlist": [
        "list_name",
        "entry_id",
        "name",
        "aliases",
        "birth_date",
        "country",
        "program",
        "source",
        "source_id",
    ],
}
_FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _model():
    from followthemoney import model

    return model


def _open(path: Path):
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def _is_ftm_name(path: Path) -> bool:
    name = path.name.lower().removesuffix(".gz")
    return name.endswith(SUFFIXES)


def _qid(entity_id: str | None) -> str | None:
    return f"{SOURCE}:{entity_id}" if entity_id else None


def _first(props: dict, *names: str) -> str | None:
    for n in names:
        for v in props.get(n) or []:
            if isinstance(v, dict):  # nested entity (OpenSanctions "nested" exports)
                v = v.get("id")
            if v not in (None, ""):
                return str(v)
    return None


def _values(props: dict, *names: str) -> list[str]:
    out = []
    for n in names:
        for v in props.get(n) or []:
            if isinstance(v, dict):
                v = v.get("id")
            if v not in (None, "") and str(v) not in out:
                out.append(str(v))
    return out


def _is_latin(text: str) -> bool:
    return all(ord(c) < 0x250 or not c.isalpha() for c in text)


def _date(value: str | None) -> str | None:
    """Full dates only: a year or a month alone is not a date the canonical tables can hold."""
    return value[:10] if value and _FULL_DATE.match(value) else None


def _country(value: str | None) -> str | None:
    return value.upper() if value and len(value) == 2 else None


class FtmConverter:
    """Turns FtM JSON lines into rows per canonical table (text values plus line, raw and check)."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict]] = {t: [] for t in COLUMNS}

    # -- rows -------------------------------------------------------------------------------------
    def _emit(self, tname: str, line: int, raw: str, check: str | None = None, **values) -> None:
        row = {c: values.get(c) for c in COLUMNS[tname]}
        row.update(line=line, raw=raw[:MAX_RAW_CHARS], check=check)
        self.rows[tname].append(row)

    def _bad(self, tname: str, line: int, raw: str, reason: str) -> None:
        self._emit(tname, line, raw, reason)

    # -- conversion -------------------------------------------------------------------------------
    def convert(self, lines) -> dict[str, list[dict]]:
        """Convert an iterable of text lines; returns rows per table."""
        model = _model()
        entities: list[tuple[int, str, dict, object]] = []
        for number, text in enumerate(lines, 1):
            raw = text.rstrip("\r\n")
            if not raw.strip():
                continue
            try:
                data = json.loads(raw)
            except ValueError as e:
                self._bad("parties", number, raw, f"the line is not valid JSON ({e.msg} at column {e.colno})")
                continue
            if not isinstance(data, dict) or not data.get("id") or not data.get("schema"):
                self._bad(
                    "parties", number, raw, "the line is not an FtM entity (it needs 'id' and 'schema')"
                )
                continue
            schema = model.get(str(data["schema"]))
            if schema is None:
                self._bad("parties", number, raw, f"'{data['schema']}' is not a FollowTheMoney schema")
                continue
            if not isinstance(data.get("properties", {}), dict):
                self._bad("parties", number, raw, "the entity's 'properties' is not an object")
                continue
            entities.append((number, raw, data, schema))
        self._index(entities)
        for number, raw, data, schema in entities:
            self._one(number, raw, data, schema)
        return self.rows

    def _index(self, entities) -> None:
        """Cross-references resolved before rows are written: holders, sanctions, documents, addresses."""
        self.holder: dict[str, str] = {}
        self.sanctions: dict[str, list[str]] = {}
        self.documents: dict[str, str] = {}
        self.addresses: dict[str, str] = {}
        self.kinds: dict[str, str] = {}
        for _, _, data, schema in entities:
            props = data.get("properties") or {}
            eid = str(data["id"])
            self.kinds[eid] = schema.name
            if schema.is_a("Address"):
                full = _first(props, "full") or ", ".join(_values(props, "street", "city", "postalCode"))
                if full:
                    self.addresses[eid] = full
            elif schema.is_a("Identification"):
                holder, number = _first(props, "holder"), _first(props, "number")
                if holder and number:
                    self.documents.setdefault(holder, number)
            elif schema.is_a("Sanction"):
                for ent in _values(props, "entity"):
                    self.sanctions.setdefault(ent, []).extend(
                        _values(props, "program", "reason", "authority") or ["sanction"]
                    )
        for _, _, data, schema in entities:
            if schema.is_a("Ownership"):
                props = data.get("properties") or {}
                owner, asset = _first(props, "owner"), _first(props, "asset")
                if owner and asset and self.kinds.get(asset) == "BankAccount":
                    self.holder.setdefault(asset, owner)

    def _one(self, number: int, raw: str, data: dict, schema) -> None:
        props = data.get("properties") or {}
        eid = str(data["id"])
        base = {"source": SOURCE, "source_id": eid}
        if schema.is_a("LegalEntity"):
            self._party(number, raw, eid, data, schema, props)
        elif schema.is_a("BankAccount"):
            itype = _first(props, "accountType")
            self._emit(
                "accounts",
                number,
                raw,
                account_id=_qid(eid),
                holder_party_id=_qid(self.holder.get(eid)),
                institution=_first(props, "bankName", "bank"),
                institution_type=itype if itype in INSTITUTION_TYPES else "bank",
                country=_country(_first(props, "country")),
                currency=(_first(props, "currency") or "").upper() or None,
                opened_at=_date(_first(props, "openingDate")),
                is_external="false",
                **base,
            )
        elif schema.is_a("Payment"):
            self._payment(number, raw, eid, props, base)
        elif schema.is_a("RealEstate"):
            kind = _first(props, "propertyType")
            self._emit(
                "properties",
                number,
                raw,
                property_id=_qid(eid),
                address=_first(props, "address", "name"),
                kind=kind if kind in PROPERTY_KINDS else "other",
                assessed_value=_first(props, "amount"),
                **base,
            )
        elif schema.name in LINK_SCHEMATA:
            a_prop, b_prop, kind = LINK_SCHEMATA[schema.name]
            if kind is None:
                role = _first(props, "role")
                kind = role if role in LINK_KINDS else "associate"
            self._link(number, raw, props, a_prop, b_prop, kind, base)
        elif schema.is_a("Ownership"):
            asset = _first(props, "asset")
            asset_kind = self.kinds.get(asset or "", "")
            if asset_kind == "BankAccount":
                return  # consumed: the account's holder
            if asset_kind and _model().get(asset_kind).is_a("Organization"):
                self._link(number, raw, props, "owner", "asset", "director_of", base)
                return
            self._bad(
                "links",
                number,
                raw,
                f"an Ownership of a {asset_kind or 'missing asset'} has no canonical table",
            )
        elif schema.is_a("Sanction") or schema.is_a("Identification") or schema.is_a("Address"):
            return  # consumed by the entities they describe (see _index)
        else:
            self._bad(
                "parties", number, raw, f"FtM schema '{schema.name}' has no canonical table in moneytrail"
            )

    def _party(self, number: int, raw: str, eid: str, data: dict, schema, props: dict) -> None:
        kind = next(k for s, k in PARTY_KINDS if schema.is_a(s))
        names = _values(props, "name")
        aliases = _values(props, "alias", "weakAlias", "previousName")
        latin = [n for n in names + aliases if _is_latin(n)]
        native = [n for n in names + aliases if not _is_latin(n)]
        name = (names and _is_latin(names[0]) and names[0]) or (
            latin[0] if latin else (names[0] if names else None)
        )
        address = _first(props, "address") or next(
            (self.addresses[a] for a in _values(props, "addressEntity") if a in self.addresses), None
        )
        document = _first(
            props, "idNumber", "passportNumber", "registrationNumber", "taxNumber"
        ) or self.documents.get(eid)
        country = _country(_first(props, "country", "jurisdiction", "mainCountry"))
        self._emit(
            "parties",
            number,
            raw,
            party_id=_qid(eid),
            kind=kind,
            name=name,
            name_native=native[0] if native else None,
            birth_date=_date(_first(props, "birthDate", "incorporationDate")) if kind == "person" else None,
            nationality=_country(_first(props, "nationality", "citizenship")),
            occupation=_first(props, "position"),
            address=address,
            phone=_first(props, "phone"),
            email=_first(props, "email"),
            document_number=document,
            country=country,
            source=SOURCE,
            source_id=eid,
        )
        topics = [t for t in _values(props, "topics") if t.startswith(SANCTION_TOPICS)]
        programs = self.sanctions.get(eid, [])
        if topics or programs:
            datasets = data.get("datasets") or []
            self._emit(
                "watchlist",
                number,
                raw,
                list_name=str(datasets[0]) if datasets else SOURCE,
                entry_id=eid,
                name=name or (native[0] if native else None),
                aliases=";".join(n for n in names + aliases if n != name) or None,
                birth_date=_date(_first(props, "birthDate")),
                country=country,
                program="; ".join(dict.fromkeys(programs + topics)),
                source=SOURCE,
                source_id=eid,
            )

    def _payment(self, number: int, raw: str, eid: str, props: dict, base: dict) -> None:
        # Without a named account, the party itself stands for its (placeholder) account.
        src = _first(props, "payerAccount") or _first(props, "payer")
        dst = _first(props, "beneficiaryAccount") or _first(props, "beneficiary")
        channel, denomination = "other", None
        for s in _values(props, "summary", "description"):
            for part in s.split(";"):
                key, _, value = part.partition(":")
                if key.strip() == "channel" and value.strip() in CHANNELS:
                    channel = value.strip()
                elif key.strip() == "denomination" and value.strip().isdigit():
                    denomination = value.strip()
        check = None
        if not src or not dst:
            check = f"the Payment names no {'payer' if not src else 'beneficiary'} (neither a party nor an account)"
        self._emit(
            "transactions",
            number,
            raw,
            check,
            txn_id=_qid(eid),
            ts=_first(props, "date", "startDate"),
            src_account_id=_qid(src),
            dst_account_id=_qid(dst),
            amount=_first(props, "amount"),
            currency=(_first(props, "currency") or "").upper() or None,
            channel=channel,
            cash_denomination=denomination,
            memo=_first(props, "purpose"),
            **base,
        )

    def _link(
        self, number: int, raw: str, props: dict, a_prop: str, b_prop: str, kind: str, base: dict
    ) -> None:
        self._emit(
            "links",
            number,
            raw,
            party_a=_qid(_first(props, a_prop)),
            party_b=_qid(_first(props, b_prop)),
            kind=kind,
            **base,
        )


def _arrow(tname: str, rows: list[dict]) -> pa.Table:
    cols = COLUMNS[tname]
    data = {c: pa.array([r[c] for r in rows], pa.string()) for c in cols}
    data["line"] = pa.array([r["line"] for r in rows], pa.int64())
    data["raw"] = pa.array([r["raw"] for r in rows], pa.string())
    data["check"] = pa.array([r["check"] for r in rows], pa.string())
    return pa.table(data)


class FtmFormat:
    name = "ftm"
    description = (
        "FollowTheMoney entities as JSON lines (Aleph, OpenSanctions; .json, .jsonl, .ftm.json, plain or .gz)"
    )

    def detect(self, path: Path) -> bool:
        if not path.is_file() or not _is_ftm_name(path):
            return False
        try:
            with _open(path) as fh:
                for line in fh:
                    if line.strip():
                        data = json.loads(line)
                        return isinstance(data, dict) and "schema" in data and "id" in data
        except (OSError, ValueError, EOFError):
            return False
        return False

    def sources(self, path: Path) -> list[Source]:
        if not path.is_file():
            raise InputFileError(
                f"The ftm format reads one file of FollowTheMoney JSON lines; {path} is not a file."
            )
        try:
            with _open(path) as fh:
                rows = FtmConverter().convert(fh)
        except (OSError, EOFError) as e:
            raise InputFileError(f"The input file {path} cannot be read: {e}.") from None
        # The staging files live as long as this format object (one ingest run).
        self._tmp = tempfile.TemporaryDirectory(prefix="moneytrail-ftm-")
        self.origin = path
        out = []
        for tname, trows in rows.items():
            if not trows and tname != "parties":
                continue
            p = Path(self._tmp.name) / f"{tname}.parquet"
            pq.write_table(_arrow(tname, trows), p)
            out.append(Source(f"ftm_{tname}", p, tname))
        return out

    def mappings(self, sources: dict[str, Source], con) -> list[Mapping]:
        out = []
        for src in sources.values():
            tname = src.table
            cols = COLUMNS[tname]
            select = ", ".join(ident(c) for c in cols)
            sql = (
                f"SELECT {select}, {ident('check')} AS _check, CAST(line AS BIGINT) AS _line, "
                f"{sql_literal(str(self.origin))} AS _file, raw AS _raw FROM {src.relation}"
            )
            out.append(Mapping(tname, sql, list(cols), src, checked=True))
        return out
