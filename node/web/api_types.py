"""The JSON API's requests, declared once: each route's body and query parameters.

Bodies and queries are decoded into these types (:func:`node.web.json_bodies.body_of`,
:func:`node.web.api.query_of`), so a limit written here is the limit enforced, and
:mod:`node.web.openapi` generates the OpenAPI document from the same types (answers:
:mod:`node.web.api_answers`). Docstrings and ``Meta`` descriptions become the schemas' words.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from archive.record import (
    LABEL_TYPES,
    MAX_BODY_BYTES,
    MAX_LABEL_TEXT,
    MAX_LABELS,
    MAX_REGION,
    MAX_SUMMARY,
    MAX_TAG,
    MAX_TAGS,
    MAX_TITLE,
    RECORD_KINDS,
    SENSITIVITIES,
)
from federation.invites import DEFAULT_TTL
from federation.peers import PEER_STATUSES
from federation.purposes import MAX_PURPOSE, MAX_PURPOSES
from federation.revocation import REASONS

MAX_NAME_CHARS = 64
MAX_PASSWORD_CHARS = 1_024
MAX_NOTE_CHARS = 2_000
MAX_CODE_CHARS = 1_000
MIN_INVITE_TTL = 60
MAX_INVITE_TTL = 7 * 24 * 3600
MAX_PAGE = 500
MAX_LOG_PAGE = 10_000
MAX_LESSON_OFFSET = 10_000  # deeper pages of the list follow its cursors (archive.listing)
Cursor = Annotated[
    str,
    Meta(
        pattern=r"^[0-9]{1,15}\.[0-9a-f]{64}$",
        description="a page's next or previous value, as given (created time, a dot, an id)",
    ),
]

# typing.Literal cannot take a tuple at run time; msgspec reads Literal[...] built this way.
Kind = Literal[RECORD_KINDS]  # type: ignore[valid-type]  # lists show collections too
Sensitivity = Literal[SENSITIVITIES]  # type: ignore[valid-type]
PeerStatus = Literal[PEER_STATUSES]  # type: ignore[valid-type]
Reason = Literal[REASONS]  # type: ignore[valid-type]


# ---- query parameters: others are ignored (a cache buster, ``?verbose``) --------------------


class LessonQuery(Struct):
    q: Annotated[str, Meta(description="full-text search (case and accents ignored)")] = ""
    kind: Annotated[str, Meta(description="only this kind")] | None = None
    language: Annotated[str, Meta(description="only this language")] | None = None
    region: Annotated[str, Meta(description="only this region")] | None = None
    tag: Annotated[str, Meta(description="only lessons with this tag")] | None = None
    limit: Annotated[int, Meta(ge=1, le=MAX_PAGE, description="how many at most")] = 50
    offset: Annotated[int, Meta(ge=0, le=MAX_LESSON_OFFSET, description="skip this many")] = 0
    after: Cursor | None = None  # the list only: the page after (older than) this cursor
    before: Cursor | None = None  # the list only: the page before (newer than) this cursor


class LogQuery(Struct):
    limit: Annotated[int, Meta(ge=1, le=MAX_LOG_PAGE, description="how many at most")] = 50


class DecisionQuery(LogQuery):
    record: Annotated[str, Meta(description="only this record (id or prefix)")] = ""


class ExplainQuery(Struct):
    record: Annotated[str, Meta(min_length=1, description="record id or prefix")]
    peer: Annotated[str, Meta(min_length=1, description="peer node id or name")]


# ---- request bodies: unknown fields are refused ------------------------------------------


class NoFields(Struct, forbid_unknown_fields=True):
    """No fields: send no body, or ``{}``."""


class SignIn(Struct, forbid_unknown_fields=True):
    name: Annotated[str, Meta(max_length=MAX_NAME_CHARS)]
    password: Annotated[str, Meta(max_length=MAX_PASSWORD_CHARS)]


class RevokeInput(Struct, forbid_unknown_fields=True):
    reason: Reason
    note: (
        Annotated[
            str,
            Meta(max_length=MAX_NOTE_CHARS, description="kept on this node only; never travels"),
        ]
        | None
    ) = None


class WithdrawSubjectInput(Struct, forbid_unknown_fields=True):
    subject: Annotated[
        str,
        Meta(min_length=1, max_length=MAX_TAG,
             description="the participant's pseudonym, as in the lesson's consent.subjects"),
    ]  # fmt: skip


class PurposesInput(Struct, forbid_unknown_fields=True):
    purposes: Annotated[
        list[Annotated[str, Meta(min_length=1, max_length=MAX_PURPOSE)]],
        Meta(max_length=MAX_PURPOSES,
             description="what this hub uses lessons for (training, research, press, …); "
             "empty: none"),
    ]  # fmt: skip


class InviteInput(Struct, forbid_unknown_fields=True):
    ttl: Annotated[
        int,
        Meta(ge=MIN_INVITE_TTL, le=MAX_INVITE_TTL, description="seconds until the code expires"),
    ] = DEFAULT_TTL


class PairInput(Struct, forbid_unknown_fields=True):
    code: Annotated[str, Meta(max_length=MAX_CODE_CHARS, description="rhz1-…")]


class Label(Struct):
    type: Literal[LABEL_TYPES]  # type: ignore[valid-type]
    name: Annotated[str, Meta(max_length=MAX_TAG)]
    community: Annotated[str, Meta(max_length=MAX_LABEL_TEXT)] = ""


class LessonInput(Struct, forbid_unknown_fields=True):
    """The front matter of a lesson file, plus its body (docs/reference/lesson-format.md).

    The route hands these fields to the lesson-file parser (``draft_from_fields``) and
    ``validate_lesson``, which check them as for ``rhizome lesson add``; the limits here are
    the record's own (archive/record.py), and a test keeps the field names the parser's."""

    title: Annotated[str, Meta(max_length=MAX_TITLE)]
    kind: Kind
    body: Annotated[
        str, Meta(description=f"the lesson in Markdown, at most {MAX_BODY_BYTES:,} bytes of UTF-8")
    ]
    summary: Annotated[str, Meta(max_length=MAX_SUMMARY)] | UnsetType = UNSET
    language: Annotated[str, Meta(description="BCP 47; default: the node's")] | UnsetType = UNSET
    region: (
        Annotated[str, Meta(max_length=MAX_REGION, description="default: the node's")] | UnsetType
    ) = UNSET
    tags: (
        Annotated[list[Annotated[str, Meta(max_length=MAX_TAG)]], Meta(max_length=MAX_TAGS)]
        | UnsetType
    ) = UNSET
    sensitivity: Sensitivity = "low"
    consent: (
        Annotated[
            dict[str, Any],
            Meta(description="as in a lesson file (no consent: the lesson stays here)"),
        ]
        | UnsetType
    ) = UNSET
    labels: Annotated[list[Label], Meta(max_length=MAX_LABELS)] | UnsetType = UNSET
    supersedes: (
        Annotated[str, Meta(description="id or prefix of the version this replaces")] | UnsetType
    ) = UNSET
    translation_of: Annotated[str, Meta(description="id or prefix of the original")] | UnsetType = (
        UNSET
    )
    # An exchange's own work (archive.details): follow-ups of an action brief, an evaluation.
    follow_up: Annotated[str, Meta(description="action briefs: ISO 8601 date")] | UnsetType = UNSET
    milestones: (
        Annotated[list[dict[str, Any]], Meta(description="action briefs: {title, due, done}")]
        | UnsetType
    ) = UNSET
    evaluation: (
        Annotated[dict[str, Any], Meta(description="evaluations: the numbers, as in a file")]
        | UnsetType
    ) = UNSET
