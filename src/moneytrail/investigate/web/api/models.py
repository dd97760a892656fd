"""Response and request models of the JSON API (separate from the storage models)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, PlainSerializer, WithJsonSchema


def _utc(value: UTCDateTime) -> str:
    # Workspace and case timestamps are naive UTC; say so, as RFC 3339 requires an offset.
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


UTCDateTime = Annotated[
    dt.datetime,
    PlainSerializer(_utc, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]

Role = Literal["analyst", "supervisor", "admin"]
Status = Literal["open", "investigating", "report_drafted", "filed", "closed"]
DispositionValue = Literal["confirmed", "false_positive"]


class ErrorOut(BaseModel):
    detail: Any


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=1000)


class MeOut(BaseModel):
    username: str
    role: Role
    display_name: str | None = None
    csrf_token: str


class LeadSummary(BaseModel):
    lead_id: str
    rank: int
    score: float
    total_value_cad: float | None = None
    first_ts: UTCDateTime | None = None
    last_ts: UTCDateTime | None = None
    typologies: list[str]
    account_count: int
    party_count: int
    narrative: str | None = None


class LeadsPage(BaseModel):
    total: int
    items: list[LeadSummary]
    typologies: list[str]


class LeadMember(BaseModel):
    party_id: str
    name: str | None = None
    name_native: str | None = None
    kind: str | None = None
    score: float | None = None
    reason: str | None = None


class LeadOut(LeadSummary):
    account_ids: list[str]
    party_ids: list[str]
    members: list[LeadMember]
    cases: list[CaseSummary] = []


class GraphNode(BaseModel):
    id: str
    label: str
    label_native: str | None = None
    party_id: str | None = None
    institution: str | None = None
    institution_type: str
    country: str | None = None
    score: float | None = None
    alert: bool
    member: bool
    focus: bool
    volume_cad: float
    group_size: int


class GraphEdge(BaseModel):
    id: str
    source: str
    target: str
    amount_cad: float
    count: int
    first_ts: str | None = None
    last_ts: str | None = None
    channels: list[str]


class NetworkOut(BaseModel):
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    aggregated: bool
    hidden_nodes: int


class SankeyNode(BaseModel):
    name: str
    side: Literal["in", "network", "out"]


class SankeyLink(BaseModel):
    source: str
    target: str
    value: float


class FlowOut(BaseModel):
    nodes: list[SankeyNode]
    links: list[SankeyLink]
    total_in_cad: float
    total_out_cad: float


class ProfileOut(BaseModel):
    """The entity profile; table rows are passed through as objects of their columns."""

    party: dict[str, Any]
    aliases: list[dict[str, Any]]
    accounts: list[dict[str, Any]]
    score: dict[str, Any] | None = None
    hits: list[dict[str, Any]]
    evidence: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    largest_transactions: list[dict[str, Any]]
    casino_sessions: list[dict[str, Any]]
    property_transfers: list[dict[str, Any]]
    leads: list[dict[str, Any]]


class SearchHit(BaseModel):
    kind: Literal["party", "account", "phone"]
    id: str
    party_id: str | None = None
    name: str | None = None
    name_native: str | None = None
    detail: str | None = None
    score: float


class SearchOut(BaseModel):
    query: str
    items: list[SearchHit]


class UserRef(BaseModel):
    username: str
    display_name: str | None = None


class NoteOut(BaseModel):
    id: int
    author: str
    body: str
    created_at: UTCDateTime


class DispositionOut(BaseModel):
    disposition: DispositionValue
    reason: str | None = None
    decided_by: str
    decided_at: UTCDateTime


class CaseSummary(BaseModel):
    id: int
    lead_id: str
    title: str
    status: Status
    assignee: str | None = None
    created_by: str
    created_at: UTCDateTime
    updated_at: UTCDateTime
    disposition: DispositionValue | None = None


class CaseOut(CaseSummary):
    account_ids: list[str]
    party_ids: list[str]
    notes: list[NoteOut]
    disposition_detail: DispositionOut | None = None


class CaseIn(BaseModel):
    lead_id: str = Field(min_length=1, max_length=120)
    title: str | None = Field(default=None, max_length=300)


class CasePatch(BaseModel):
    status: Status | None = None
    assignee: str | None = Field(
        default=None, max_length=80, description="User name; empty string unassigns."
    )
    title: str | None = Field(default=None, min_length=1, max_length=300)


class NoteIn(BaseModel):
    body: str = Field(min_length=1, max_length=20000)


class DispositionIn(BaseModel):
    disposition: DispositionValue
    reason: str | None = Field(default=None, max_length=5000)


class AuditOut(BaseModel):
    id: int
    ts: UTCDateTime
    username: str
    action: str
    object_kind: str
    object_id: str
    detail: str | None = None
    client: str | None = None


class AuditPage(BaseModel):
    total: int
    items: list[AuditOut]


class UserOut(BaseModel):
    username: str
    role: Role
    display_name: str | None = None
    disabled: bool
    created_at: UTCDateTime


class UserIn(BaseModel):
    username: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=10, max_length=1000)
    role: Role = "analyst"
    display_name: str | None = Field(default=None, max_length=200)


class ReportFormats(BaseModel):
    available: bool
    formats: list[str]


LeadOut.model_rebuild()
