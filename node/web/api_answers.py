"""The JSON API's answers, declared once: one type per shape a route answers with.

:mod:`node.serialize` builds them (shared with the CLI's ``--json``); :mod:`node.web.openapi`
generates the document's schemas from these types, and a test validates every route's
real answer against them. Every time is UTC ISO 8601 with a Z, or null.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from node.web.api_types import Kind, Label, PeerStatus, Sensitivity

Time = Annotated[str, Meta(extra_json_schema={"format": "date-time"})] | None
RecordId = Annotated[str, Meta(pattern="^[0-9a-f]{64}$")]
NodeId = Annotated[str, Meta(description="a node id")]
Count = Annotated[int, Meta(ge=0)]
Verdict = Literal["allow", "deny"]


class ErrorDetail(Struct, forbid_unknown_fields=True):
    status: int
    code: Annotated[str, Meta(description="stable, machine-readable (see the HTTP API page)")]
    message: Annotated[str, Meta(description="one line for people: what is wrong, and the fix")]


class Error(Struct, forbid_unknown_fields=True):
    """Every error the node answers has this one shape."""

    error: ErrorDetail


class Health(Struct):
    status: Literal["ok"]
    version: str
    sealed: bool  # False: the node home lies in plain text on its disk


class SchemaVersion(Struct):
    version: int
    latest: int


class PeerCounts(Struct):
    active: Count
    reachable: Count
    failing: Count


class HealthCounts(Struct):
    """``/healthz?verbose`` for anyone: counts only, no names, ids or addresses."""

    status: Literal["ok"]
    version: str
    schema: SchemaVersion
    peer_counts: PeerCounts
    withdrawals_waiting: Count
    receipts_missing: Count


class Exchange(Struct):
    at: Time
    direction: str
    received: Count
    sent: Count
    error: str | None


class PeerHealth(Struct):
    id: NodeId
    name: str
    region: str
    url: str
    status: PeerStatus
    current_key: NodeId  # the key that signs for it now; equals id until it rotates
    rotated: Time  # when that key became current (null: it never rotated)
    reachable: Literal["yes", "no", "unknown"]
    last_exchange: Time
    last_inbound: Time
    last_sync: Time
    last_error: str | None
    withdrawals_waiting: Count
    receipts_missing: Count
    sent: Count
    received: Count
    strikes: Count
    history: list[Exchange]


class NodeName(Struct):
    id: NodeId
    name: str
    current_key: NodeId  # the key that signs now; equals id until the key is rotated


class ServedBy(Struct):
    pid: int
    since: Time


class HealthStatus(Struct):
    """``/healthz?verbose`` for a signed-in member: the whole status, as ``rhizome status``."""

    status: Literal["ok"]
    version: str
    schema: SchemaVersion
    peer_counts: PeerCounts
    withdrawals_waiting: Count
    receipts_missing: Count
    node: NodeName
    key_sealed: bool | None
    served_by: ServedBy | None
    disk_free_bytes: int
    records: Count
    peers: list[PeerHealth]
    warnings: list[str]


class SyncReport(Struct):
    peer: NodeId
    received: Count
    sent: Count
    rejected: Count
    rounds: Count
    errors: list[str]


class LessonSummary(Struct):
    id: RecordId
    title: str
    kind: Kind
    language: str
    region: str
    origin: NodeId
    created: Time
    sensitivity: Sensitivity
    summary: str
    tags: list[str]
    scope: str
    author: str | None
    supersedes: str | None
    translation_of: str | None


class SearchHit(LessonSummary):
    snippet: Annotated[str, Meta(description="matches in **double asterisks**")]
    rank: float


class LessonList(Struct):
    """Without ``q``: the newest versions, how many lessons match the filters, and the
    cursors of the pages beside this one (null at either end)."""

    lessons: list[LessonSummary]
    total: Count
    total_exact: Annotated[
        bool, Meta(description="false: two or more filters, counted up to 10,000")
    ]
    next: Annotated[str | None, Meta(description="older lessons: pass as after=")]
    previous: Annotated[str | None, Meta(description="newer lessons: pass as before=")]


class SearchResults(Struct):
    """With ``q``: ranked hits, and the query as searched."""

    lessons: list[SearchHit]
    query: str


class Regions(Struct):
    allow: list[str]
    deny: list[str]


class Subject(Struct):
    pseudonym: str
    share: bool
    recorded: bool
    photographed: bool
    expires: Time
    withdrawn: bool


class Consent(Struct):
    basis: str
    scope: str
    peers: list[str]
    regions: Regions
    reshare: bool
    expires: Time
    purposes: list[str]
    subjects: list[Subject]


class ApprovalEntry(Struct):
    member: str
    at: Time
    verified: bool
    counts: bool


class AttachmentEntry(Struct):
    """One attachment and its consent state (node/attachment_words.py)."""

    hash: str
    kind: Literal["image", "audio", "video", "document"]
    type: str
    size: Count
    caption: str
    subjects: list[str]
    removed: list[str]
    held: bool  # its bytes are on this node
    may_leave: bool  # with the lesson, by the consent of the people in it
    consent: str  # why, in words


SignedDetails = Annotated[dict[str, Any], Meta(description="the signed details (record format 2)")]


class LessonDetail(LessonSummary):
    body: str
    consent: Consent
    labels: list[Label]
    received_from: str | None
    quarantined: bool
    history: list[LessonSummary]
    translations: list[LessonSummary]
    approvals: list[ApprovalEntry]
    # Members only (a public reader gets none: they show people).
    attachments: list[AttachmentEntry] | UnsetType = UNSET
    # An action brief's follow-ups, a collection's items, an evaluation's numbers (or null).
    details: SignedDetails | UnsetType | None = UNSET


class NewLesson(Struct):
    id: RecordId
    already_here: (
        Annotated[
            bool,
            Meta(
                description="true (with status 200, not 201) when this very lesson was here "
                "already: nothing new was stored"
            ),
        ]
        | UnsetType
    ) = UNSET


class Approval(Struct):
    id: RecordId
    member: str
    new: Annotated[bool, Meta(description="false when this member had approved it already")]


class Review(Struct):
    id: RecordId
    status: Literal["accepted", "rejected"]


class Revocation(Struct):
    id: RecordId
    revocation: str
    records: list[RecordId]
    receipts: Annotated[str, Meta(description="where to follow the receipts")]


class SubjectWithdrawal(Struct):
    id: Annotated[RecordId, Meta(description="the new signed version, without their files")]
    subject: str
    files: Annotated[list[RecordId], Meta(description="the attachments withdrawn (hashes)")]
    revocation: Annotated[
        str | None, Meta(description="the files' withdrawal; null when no file showed them")
    ]


class Purposes(Struct):
    purposes: list[str]
    declared: Annotated[Time, Meta(description="when this hub declared them; null: never")]


class Holder(Struct):
    node: NodeId
    name: str | None
    status: Literal["purged", "pending"]
    at: Time
    direct: bool
    verified: bool
    attempts: Count
    evidence: Annotated[str, Meta(description="why a holder is pending again")] | None


class Receipts(Struct):
    record: RecordId
    revocation: str
    purged: Count
    pending: Count
    holders: list[Holder]


class Peer(Struct):
    id: NodeId
    name: str
    region: str
    url: str
    status: PeerStatus
    current_key: NodeId  # the key that signs for it now; equals id until it rotates
    rotated: Time  # when that key became current (null: it never rotated)
    added: Time
    last_exchange: Time
    last_sync: Time
    last_error: str | None
    sent: Count
    received: Count
    strikes: Count


class PeerList(Struct):
    peers: list[Peer]


class Invite(Struct):
    code: str
    node_id: NodeId
    url: str
    expires: Time


class Policy(Struct):
    hash: str
    text: Annotated[str, Meta(description="policy.toml")]


class DecisionReason(Struct):
    code: str
    text: str
    allows: bool


class Explanation(Struct):
    record: RecordId
    peer: NodeId
    decision: Verdict
    reasons: list[DecisionReason]
    policy_hash: str


class LoggedDecision(Struct):
    seq: Count
    at: Time
    direction: Literal["outbound", "inbound"]
    record: RecordId
    peer: NodeId
    decision: Verdict
    reasons: list[str]
    policy_hash: str


class DecisionList(Struct):
    decisions: list[LoggedDecision]


class Event(Struct):
    seq: Count
    at: Time
    kind: str
    subject: str | None
    detail: Annotated[dict[str, Any], Meta(description="ids and counts, never content")]
    hash: str


class EventList(Struct):
    events: list[Event]


class MemberEntry(Struct):
    name: str
    roles: list[str]
    key: str
    added: Time


class MemberList(Struct):
    members: list[MemberEntry]


class QuarantineList(Struct):
    lessons: list[LessonSummary]


class Session(Struct):
    member: str | None
    roles: list[str]
    csrf_token: (
        Annotated[str, Meta(description="send it in X-CSRF-Token with session writes")] | UnsetType
    ) = UNSET
