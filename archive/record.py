"""The lesson record: its fields, its rules and its one canonical wire form.

A record is signed once and never changed. Its canonical form is a msgpack map whose keys
always come in the order of :data:`FIELD_ORDER` (documented in docs/reference/record-format.md);
the signature covers those bytes and the record id is their SHA-256 (see ``crypto.envelope``).
The same rules apply to a lesson typed by a local author and to one received from a peer:
:func:`validate_lesson` is the single place they live.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from archive.attachment import Attachment, attachment_to_wire, validate_attachments
from archive.details import Details, details_to_wire, validate_details
from archive.errors import InvalidLesson
from crypto.canonical import pack
from crypto.node_id import node_id_from_public_key

RECORD_FORMAT_VERSION = 1
# Format 2 adds one field, ``details`` (archive.details); a record without details is still
# written in format 1, so every record signed before keeps its bytes and its id.
DETAILS_FORMAT_VERSION = 2
KINDS = (
    "case_study",
    "after_action_review",
    "checklist",
    "training_module",
    "action_brief",
    "story",
)
# Records of an exchange's own work, not lessons: built by their own commands and pages.
EXCHANGE_KINDS = ("collection", "evaluation")
RECORD_KINDS = KINDS + EXCHANGE_KINDS
SENSITIVITIES = ("low", "medium", "high")
SCOPES = ("local", "peers", "federation", "public")
# "consent": the people concerned agreed; "notice": they were only told; "none": nothing
# was recorded. Only "consent" can ever leave the node (governance enforces it).
CONSENT_BASES = ("consent", "notice", "none")
LABEL_TYPES = ("provenance", "protocol", "permission")

MAX_TITLE = 300
MAX_SUMMARY = 2_000
MAX_BODY_BYTES = 256 * 1024
MAX_TAGS = 32
MAX_TAG = 64
MAX_REGION = 100
MAX_AUTHOR = 100
MAX_LIST = 64
MAX_SUBJECTS = 200
MAX_LABELS = 16
MAX_LABEL_TEXT = 2_000
MAX_ATTACHMENTS = 64

# Well-formed BCP 47: a 2–3 letter (or 4–8 for registered) primary subtag, then subtags of
# 1–8 letters or digits. We check the shape, not the registry, so new tags keep working.
_BCP47 = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|[0-9]{3}))?(-[A-Za-z0-9]{1,8})*$")


def is_language_tag(tag: str) -> bool:
    """Whether ``tag`` is a well-formed BCP 47 language tag (shape only)."""
    return _BCP47.fullmatch(tag) is not None


FIELD_ORDER = (
    "v",
    "kind",
    "title",
    "summary",
    "body",
    "language",
    "region",
    "tags",
    "sensitivity",
    "consent",
    "labels",
    "supersedes",
    "translation_of",
    "attachments",
    "created",
    "origin",
    "author",
)
FIELD_ORDER_V2 = (*FIELD_ORDER, "details")
CONSENT_ORDER = (
    "basis",
    "scope",
    "peers",
    "regions_allow",
    "regions_deny",
    "reshare",
    "expires",
    "purposes",
    "subjects",
)
SUBJECT_ORDER = ("pseudonym", "share", "recorded", "photographed", "expires", "withdrawn")
LABEL_ORDER = ("type", "name", "community")


@dataclass(frozen=True)
class Subject:
    """One participant's consent, under a pseudonym (never a real name)."""

    pseudonym: str
    share: bool = False
    recorded: bool = False
    photographed: bool = False
    expires: int | None = None
    withdrawn: bool = False


@dataclass(frozen=True)
class Consent:
    """What the people concerned agreed to; signed into the record."""

    basis: str = "none"
    scope: str = "local"
    peers: tuple[str, ...] = ()
    regions_allow: tuple[str, ...] = ()
    regions_deny: tuple[str, ...] = ()
    reshare: bool = False
    expires: int | None = None
    purposes: tuple[str, ...] = ()
    subjects: tuple[Subject, ...] = ()


@dataclass(frozen=True)
class Label:
    """A Local Contexts-style label: who the knowledge comes from and how to treat it."""

    type: str
    name: str
    community: str


@dataclass(frozen=True)
class Lesson:
    """The content of one signed record."""

    kind: str
    title: str
    body: str
    language: str
    region: str
    created: int
    origin: bytes
    author: str
    summary: str = ""
    tags: tuple[str, ...] = ()
    sensitivity: str = "low"
    consent: Consent = field(default_factory=Consent)
    labels: tuple[Label, ...] = ()
    supersedes: bytes | None = None
    translation_of: bytes | None = None
    attachments: tuple[Attachment, ...] = ()
    details: Details | None = None

    @property
    def origin_id(self) -> str:
        return node_id_from_public_key(self.origin)


def _subject_to_wire(subject: Subject) -> dict[str, Any]:
    return {name: getattr(subject, name) for name in SUBJECT_ORDER}


def _consent_to_wire(consent: Consent) -> dict[str, Any]:
    wire = {name: getattr(consent, name) for name in CONSENT_ORDER}
    wire["subjects"] = [_subject_to_wire(subject) for subject in consent.subjects]
    return {
        name: list(value) if isinstance(value, tuple) else value for name, value in wire.items()
    }


def consent_to_json(consent: Consent) -> str:
    """The consent block as compact JSON, for the derived column decisions read."""
    return json.dumps(_consent_to_wire(consent), ensure_ascii=False, separators=(",", ":"))


def consent_from_json(text: str) -> Consent:
    """The inverse of :func:`consent_to_json` (the column was checked by ``verify``)."""
    wire = json.loads(text)
    subjects = tuple(Subject(**subject) for subject in wire.pop("subjects"))
    lists = {key: tuple(value) for key, value in wire.items() if isinstance(value, list)}
    return Consent(**{**wire, **lists, "subjects": subjects})


def lesson_to_wire(lesson: Lesson) -> dict[str, Any]:
    """The ordered map that is packed and signed."""
    wire = {
        "v": RECORD_FORMAT_VERSION if lesson.details is None else DETAILS_FORMAT_VERSION,
        "kind": lesson.kind,
        "title": lesson.title,
        "summary": lesson.summary,
        "body": lesson.body,
        "language": lesson.language,
        "region": lesson.region,
        "tags": list(lesson.tags),
        "sensitivity": lesson.sensitivity,
        "consent": _consent_to_wire(lesson.consent),
        "labels": [{name: getattr(label, name) for name in LABEL_ORDER} for label in lesson.labels],
        "supersedes": lesson.supersedes,
        "translation_of": lesson.translation_of,
        "attachments": [attachment_to_wire(item) for item in lesson.attachments],
        "created": lesson.created,
        "origin": lesson.origin,
        "author": lesson.author,
    }
    if lesson.details is not None:
        wire["details"] = details_to_wire(lesson.details)
    return wire


def encode_lesson(lesson: Lesson) -> bytes:
    """The canonical bytes of a lesson (validated first)."""
    validate_lesson(lesson, "lesson")
    return pack(lesson_to_wire(lesson))


def validate_lesson(lesson: Lesson, where: str) -> None:
    """Raise :class:`InvalidLesson` naming the first field that breaks a rule."""
    _check_choice(where, "kind", lesson.kind, RECORD_KINDS)
    _check_text(where, "title", lesson.title, MAX_TITLE, required=True)
    _check_text(where, "summary", lesson.summary, MAX_SUMMARY)
    if len(lesson.body.encode("utf-8")) > MAX_BODY_BYTES:
        raise InvalidLesson(where, "body", f"longer than the limit of {MAX_BODY_BYTES} bytes")
    if not is_language_tag(lesson.language):
        raise InvalidLesson(
            where, "language", f"{lesson.language!r} is not a BCP 47 tag like en or pt-BR"
        )
    _check_text(where, "region", lesson.region, MAX_REGION, required=True)
    _check_text(where, "author", lesson.author, MAX_AUTHOR, required=True)
    _check_strings(where, "tags", lesson.tags, MAX_TAGS, MAX_TAG)
    _check_choice(where, "sensitivity", lesson.sensitivity, SENSITIVITIES)
    _check_consent(where, lesson.consent)
    _check_labels(where, lesson.labels)
    for name in ("supersedes", "translation_of"):
        value = getattr(lesson, name)
        if value is not None and len(value) != 32:
            raise InvalidLesson(where, name, "must be a full record id")
    if len(lesson.attachments) > MAX_ATTACHMENTS:
        raise InvalidLesson(where, "attachments", f"more than {MAX_ATTACHMENTS} attachments")
    pseudonyms = {subject.pseudonym for subject in lesson.consent.subjects}
    validate_attachments(lesson.attachments, pseudonyms, where)
    if len(lesson.origin) != 32:
        raise InvalidLesson(where, "origin", "must be a 32-byte node key")
    if lesson.created < 0:
        raise InvalidLesson(where, "created", "must not be before 1970")
    validate_details(lesson.kind, lesson.details, where, SCOPES)


def _check_choice(where: str, name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise InvalidLesson(where, name, f"{value!r} is not one of {', '.join(choices)}")


def _check_text(where: str, name: str, value: str, limit: int, required: bool = False) -> None:
    if required and not value.strip():
        raise InvalidLesson(where, name, "is required and must not be empty")
    if len(value) > limit:
        raise InvalidLesson(where, name, f"longer than the limit of {limit} characters")


def _check_strings(
    where: str, name: str, values: tuple[str, ...], max_items: int, max_len: int
) -> None:
    if len(values) > max_items:
        raise InvalidLesson(where, name, f"more than {max_items} entries")
    for value in values:
        if not value.strip() or len(value) > max_len:
            raise InvalidLesson(where, name, f"entries must be 1 to {max_len} characters")


def _check_consent(where: str, consent: Consent) -> None:
    _check_choice(where, "consent.basis", consent.basis, CONSENT_BASES)
    _check_choice(where, "consent.scope", consent.scope, SCOPES)
    for name in ("peers", "regions_allow", "regions_deny", "purposes"):
        _check_strings(where, f"consent.{name}", getattr(consent, name), MAX_LIST, MAX_REGION)
    if len(consent.subjects) > MAX_SUBJECTS:
        raise InvalidLesson(where, "consent.subjects", f"more than {MAX_SUBJECTS} subjects")
    for subject in consent.subjects:
        _check_text(where, "consent.subjects.pseudonym", subject.pseudonym, MAX_TAG, required=True)


def _check_labels(where: str, labels: tuple[Label, ...]) -> None:
    if len(labels) > MAX_LABELS:
        raise InvalidLesson(where, "labels", f"more than {MAX_LABELS} labels")
    for label in labels:
        _check_choice(where, "labels.type", label.type, LABEL_TYPES)
        _check_text(where, "labels.name", label.name, MAX_TAG, required=True)
        _check_text(where, "labels.community", label.community, MAX_LABEL_TEXT)
