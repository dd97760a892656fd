"""Everything a report shows about one lead or case, read once through the engine.

A :class:`ReportBundle` is plain Python data (rows as dicts), so each renderer (STR, dossier,
graph exports, FollowTheMoney) is a pure function of it, and redaction is one transformation of
the bundle that every format then inherits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pyarrow as pa

from moneytrail.engine import make_engine
from moneytrail.engine.base import Engine
from moneytrail.errors import WorkspaceError
from moneytrail.investigate.reports import queries
from moneytrail.investigate.reports.indicators import sort_indicator_ids, split_ids
from moneytrail.workspace import Workspace

# A dossier of more transactions than this is unreadable; the rest are summarised by the charts.
MAX_TRANSACTIONS = 5000


@dataclass
class ReportBundle:
    """The evidence about one lead (or the lead of a case), as rows keyed by moneytrail id."""

    report_id: str
    lead: dict
    case: dict | None = None
    subject_party_ids: set[str] = field(default_factory=set)
    subject_account_ids: set[str] = field(default_factory=set)
    parties: dict[str, dict] = field(default_factory=dict)
    accounts: dict[str, dict] = field(default_factory=dict)
    transactions: list[dict] = field(default_factory=list)
    hits: list[dict] = field(default_factory=list)
    account_scores: dict[str, dict] = field(default_factory=dict)
    party_scores: dict[str, dict] = field(default_factory=dict)
    links: list[dict] = field(default_factory=list)
    properties: dict[str, dict] = field(default_factory=dict)
    transfers: list[dict] = field(default_factory=list)
    truncated: int = 0
    redacted: bool = False

    # -- derived views ---------------------------------------------------------------------
    @property
    def indicator_ids(self) -> list[str]:
        ids = split_ids(self.lead.get("typologies"))
        for h in self.hits:
            ids += split_ids(h.get("indicator_ids"))
        return sort_indicator_ids(ids)

    def txn_indicators(self) -> dict[str, list[str]]:
        """Indicator ids per evidence transaction, from the hits that cite it."""
        out: dict[str, set[str]] = {}
        for h in self.hits:
            for tid in split_ids(h.get("evidence_txn_ids")):
                out.setdefault(tid, set()).update(split_ids(h.get("indicator_ids")))
        return {k: sort_indicator_ids(v) for k, v in out.items()}

    def accounts_of(self, party_id: str) -> list[str]:
        """Ids of the accounts ``party_id`` holds (an index built on first use)."""
        index = self.__dict__.get("_by_holder")
        key = (id(self.accounts), len(self.accounts))
        if index is None or index[0] != key:
            by: dict[str, list[str]] = {}
            for aid, acc in sorted(self.accounts.items()):
                if acc.get("holder_party_id"):
                    by.setdefault(acc["holder_party_id"], []).append(aid)
            index = (key, by)
            self.__dict__["_by_holder"] = index
        return index[1].get(party_id, [])

    def holder(self, account_id: str | None) -> str | None:
        acc = self.accounts.get(account_id or "")
        return acc.get("holder_party_id") if acc else None

    def is_subject_party(self, party_id: str | None) -> bool:
        return party_id in self.subject_party_ids

    def party_name(self, party_id: str | None) -> str:
        p = self.parties.get(party_id or "")
        if not p:
            return party_id or "(unknown)"
        return p.get("name") or p.get("name_native") or p.get("source_id") or party_id

    def account_label(self, account_id: str | None) -> str:
        """What an account is called in a report: its holder's name, else its source id."""
        acc = self.accounts.get(account_id or "")
        if not acc:
            return account_id or "(unknown)"
        if acc.get("holder_party_id") in self.parties:
            return self.party_name(acc["holder_party_id"])
        return acc.get("source_id") or account_id

    @property
    def total_cad(self) -> float:
        return float(sum(t.get("amount_cad") or 0.0 for t in self.transactions))

    @property
    def span(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        times = [t["ts"] for t in self.transactions if t.get("ts")]
        return (min(times), max(times)) if times else (self.lead.get("first_ts"), self.lead.get("last_ts"))


def _ids(values) -> pa.Table:
    return pa.table({"id": pa.array(sorted({v for v in values if v}), pa.string())})


def _rows(eng: Engine, sql: str, label: str) -> list[dict]:
    return eng.query(sql, label=label).to_pylist()


def find_lead(eng: Engine, lead_id: str) -> dict | None:
    """The lead row called ``lead_id``, or None."""
    if not eng.has_table("leads"):
        return None
    rows = _rows(eng, queries.lead_sql(lead_id), "report lead")
    return rows[0] if rows else None


def parse_case_id(text: str) -> int | None:
    """The case number in ``text`` ("12", "C12", "case-12", "case:12"), or None."""
    t = text.strip().lower()
    for prefix in ("case-", "case:", "case", "c"):
        if t.startswith(prefix) and t[len(prefix) :].isdigit():
            t = t[len(prefix) :]
            break
    return int(t) if t.isdigit() else None


def _case_lookup(workspace: Workspace, case_id: str) -> dict | None:
    """The case called ``case_id`` from the workbench's case store, as plain data, or None."""
    number = parse_case_id(case_id)
    if number is None:
        return None
    from moneytrail.investigate.cases import database_url
    from moneytrail.investigate.cases.store import CaseStore

    url = database_url(workspace)
    # Never create a case database just to find out there is no case.
    if url.startswith("sqlite:///") and not (workspace.root / "cases.db").exists():
        return None
    store = CaseStore(url).open()
    try:
        case = store.case(number)
        if case is None:
            return None
        return {
            "case_id": f"case-{case.id}",
            "lead_id": case.lead_id,
            "title": case.title,
            "status": case.status,
            "disposition": case.disposition.disposition if case.disposition else None,
            "notes": [f"{n.created_at:%Y-%m-%d} {n.author.username}: {n.body}" for n in case.notes],
            "subject_party_ids": split_ids(case.party_ids),
            "subject_account_ids": split_ids(case.account_ids),
        }
    finally:
        store.close()


def load_bundle(workspace: Workspace, lead_or_case_id: str, engine: str = "duckdb") -> ReportBundle:
    """Read the evidence of lead (or case) ``lead_or_case_id`` from ``workspace``."""
    with make_engine(engine, workspace) as eng:
        lead = find_lead(eng, lead_or_case_id)
        case = None
        if lead is None:
            case = _case_lookup(workspace, lead_or_case_id)
            if case is not None and case.get("lead_id"):
                lead = find_lead(eng, case["lead_id"])
            if case is not None and lead is None:
                lead = {"lead_id": case.get("lead_id"), "narrative": None}
        if lead is None:
            raise WorkspaceError(
                f"'{lead_or_case_id}' is neither a lead in {workspace.path('leads')} nor a case of the workbench; "
                "list leads with `moneytrail export leads`."
            )
        return _collect(eng, lead_or_case_id, lead, case)


def _collect(eng: Engine, report_id: str, lead: dict, case: dict | None) -> ReportBundle:
    b = ReportBundle(report_id=report_id, lead=lead, case=case)
    member_accounts = set(split_ids(lead.get("member_account_ids")))
    member_parties = set(split_ids(lead.get("member_party_ids")))
    if case:
        member_parties |= set(case.get("subject_party_ids") or [])
        member_accounts |= set(case.get("subject_account_ids") or [])

    eng.register_arrow("report_ids_parties", _ids(member_parties))
    eng.register_arrow("report_ids_accounts", _ids(member_accounts))
    # Subjects: the member parties, the holders of member accounts, and every account they hold.
    if eng.has_table("accounts"):
        for a in _rows(
            eng, queries.rows_by_id_sql("accounts", "account_id", "report_ids_accounts"), "report accounts"
        ):
            b.accounts[a["account_id"]] = a
            if a.get("holder_party_id"):
                member_parties.add(a["holder_party_id"])
        eng.register_arrow("report_ids_parties", _ids(member_parties))
        for a in _rows(eng, queries.accounts_of_parties_sql("report_ids_parties"), "report subject accounts"):
            b.accounts[a["account_id"]] = a
            member_accounts.add(a["account_id"])
    b.subject_party_ids = member_parties
    b.subject_account_ids = member_accounts
    eng.register_arrow("report_ids_accounts", _ids(member_accounts))

    if eng.has_table("detector_hits"):
        txn_table = (
            "transactions"
            if eng.has_table("transactions")
            else "(SELECT '' AS txn_id, '' AS src_account_id, '' AS dst_account_id)"
        )
        b.hits = _rows(
            eng,
            queries.member_hits_sql("report_ids_accounts", "report_ids_parties", txn_table),
            "report hits",
        )

    evidence = {tid for h in b.hits for tid in split_ids(h.get("evidence_txn_ids"))}
    if eng.has_table("transactions"):
        if evidence:
            eng.register_arrow("report_ids_txns", _ids(evidence))
            txns = _rows(
                eng,
                queries.rows_by_id_sql("transactions", "txn_id", "report_ids_txns"),
                "report transactions",
            )
        else:
            first, last = lead.get("first_ts"), lead.get("last_ts")
            txns = _rows(
                eng,
                queries.member_transactions_sql(
                    "report_ids_accounts",
                    first.isoformat(sep=" ") if first else None,
                    last.isoformat(sep=" ") if last else None,
                    MAX_TRANSACTIONS + 1,
                ),
                "report member transactions",
            )
        txns.sort(key=lambda t: (t["ts"] or dt.datetime.min, t["txn_id"]))
        b.truncated = max(0, len(txns) - MAX_TRANSACTIONS)
        b.transactions = txns[:MAX_TRANSACTIONS]

    # Counterparty accounts and their holders.
    other_accounts = {t[k] for t in b.transactions for k in ("src_account_id", "dst_account_id")} - set(
        b.accounts
    )
    if other_accounts and eng.has_table("accounts"):
        eng.register_arrow("report_ids_other", _ids(other_accounts))
        for a in _rows(
            eng, queries.rows_by_id_sql("accounts", "account_id", "report_ids_other"), "report counterparties"
        ):
            b.accounts[a["account_id"]] = a
    involved = set(member_parties) | {
        a["holder_party_id"] for a in b.accounts.values() if a.get("holder_party_id")
    }

    if eng.has_table("property_transfers"):
        eng.register_arrow("report_ids_parties", _ids(member_parties))
        b.transfers = _rows(eng, queries.transfers_of_parties_sql("report_ids_parties"), "report transfers")
        for t in b.transfers:
            involved |= {
                t.get(k)
                for k in ("buyer_party_id", "seller_party_id", "lender_party_id", "deposit_payer_party_id")
            }
        if eng.has_table("properties") and b.transfers:
            eng.register_arrow("report_ids_props", _ids(t["property_id"] for t in b.transfers))
            for p in _rows(
                eng,
                queries.rows_by_id_sql("properties", "property_id", "report_ids_props"),
                "report properties",
            ):
                b.properties[p["property_id"]] = p
    involved.discard(None)

    eng.register_arrow("report_ids_involved", _ids(involved))
    if eng.has_table("parties"):
        for p in _rows(
            eng, queries.rows_by_id_sql("parties", "party_id", "report_ids_involved"), "report parties"
        ):
            b.parties[p["party_id"]] = p
    if eng.has_table("links"):
        b.links = _rows(eng, queries.links_among_sql("report_ids_involved"), "report links")
    if eng.has_table("account_scores"):
        rows = _rows(
            eng,
            queries.rows_by_id_sql("account_scores", "account_id", "report_ids_accounts"),
            "report scores",
        )
        b.account_scores = {r["account_id"]: r for r in rows}
    if eng.has_table("party_scores"):
        rows = _rows(
            eng,
            queries.rows_by_id_sql("party_scores", "party_id", "report_ids_parties"),
            "report party scores",
        )
        b.party_scores = {r["party_id"]: r for r in rows}
    return b
