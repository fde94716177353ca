"""Signed records: sealing a lesson, and opening one that came from anywhere.

:func:`open_record` is the only door into the archive for bytes: it checks the envelope
signature, that the payload is canonical, that every field has the right type and obeys the
lesson rules, and that the signer is the origin the record claims. A record that passes is
what its origin signed, whoever carried it to us.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from archive.attachment import attachment_from_wire
from archive.details_wire import details_from_wire
from archive.errors import InvalidLesson
from archive.record import (
    CONSENT_ORDER,
    DETAILS_FORMAT_VERSION,
    FIELD_ORDER,
    FIELD_ORDER_V2,
    LABEL_ORDER,
    RECORD_FORMAT_VERSION,
    SUBJECT_ORDER,
    Consent,
    Label,
    Lesson,
    Subject,
    encode_lesson,
    validate_lesson,
)
from crypto.canonical import DecodeLimits, unpack
from crypto.envelope import open_envelope, seal
from crypto.errors import CryptoError
from crypto.key_history import RETIRED, SUSPECT, UNKNOWN, VALID
from crypto.signing import RECORD_CONTEXT, SigningIdentity

KeyCheck = Callable[[bytes, bytes, int], str]  # (origin, signer, made at) -> standing
MAX_RECORD_BYTES = 1 << 20
RECORD_LIMITS = DecodeLimits(max_bytes=MAX_RECORD_BYTES, max_array_len=1_000, max_map_len=64)


@dataclass(frozen=True)
class SignedRecord:
    """A lesson together with its signed bytes and id."""

    lesson: Lesson
    envelope: bytes
    record_id: bytes

    @property
    def id_hex(self) -> str:
        return self.record_id.hex()


def sign_lesson(identity: SigningIdentity, lesson: Lesson) -> SignedRecord:
    """Seal a lesson with the origin node's key."""
    if lesson.origin != identity.node_key:  # a later key signs for the node's first key
        raise InvalidLesson("lesson", "origin", "a node signs only records of its own origin")
    envelope = seal(identity, RECORD_CONTEXT, encode_lesson(lesson))
    return SignedRecord(lesson, envelope.raw, envelope.content_id)


def open_record(raw: bytes, where: str = "record", keys: KeyCheck | None = None) -> SignedRecord:
    """Verify and decode envelope bytes; raise a :class:`RhizomeError` saying what is wrong.

    The origin is the node's first key; the signer is that key or, after a rotation, a later
    key of the node's history: ``keys`` (archive/key_store.py) says whether it spoke for the
    origin when the record was made. Without ``keys`` only the first key may sign."""
    try:
        envelope = open_envelope(raw, RECORD_CONTEXT, RECORD_LIMITS)
        wire = unpack(envelope.payload, RECORD_LIMITS)
    except CryptoError as error:
        raise InvalidLesson(where, None, str(error)) from error
    lesson = lesson_from_wire(wire, where)
    signer_standing(lesson, envelope.signer, where, keys)
    validate_lesson(lesson, where)
    return SignedRecord(lesson, raw, envelope.content_id)


def signer_standing(lesson: Lesson, signer: bytes, where: str, keys: KeyCheck | None) -> str:
    """How far ``signer`` speaks for the lesson's origin (VALID or SUSPECT); raise
    :class:`InvalidLesson` when it does not (``keys`` as for :func:`open_record`)."""
    standing = VALID if keys is None and lesson.origin == signer else UNKNOWN
    if keys is not None:
        standing = keys(lesson.origin, signer, lesson.created)
    if standing not in (VALID, SUSPECT):  # a suspect one is stored in quarantine, if at all
        raise InvalidLesson(where, "origin", _NOT_ITS_KEY.get(standing, _NOT_ITS_KEY[UNKNOWN]))
    return standing


_NOT_ITS_KEY = {
    UNKNOWN: "the record is not signed by the node it names",
    RETIRED: "the record is signed by a key its node retired before the record was made",
}


def record_signer(record: SignedRecord) -> bytes:
    """The key that signed an opened record (its origin's first key or a later one)."""
    signer = unpack(record.envelope, RECORD_LIMITS)[1]
    assert isinstance(signer, bytes)  # open_record checked the envelope
    return signer


def lesson_from_wire(wire: Any, where: str) -> Lesson:
    """Rebuild a :class:`Lesson` from its decoded canonical map, checking every type."""
    version = wire.get("v") if isinstance(wire, dict) else None
    if version == DETAILS_FORMAT_VERSION:
        fields = _ordered_map(wire, FIELD_ORDER_V2, where, "record")
        if fields["details"] is None:  # format 2 exists only to carry details
            raise InvalidLesson(where, "details", "a format 2 record carries details")
    else:
        fields = _ordered_map(wire, FIELD_ORDER, where, "record")
    if fields["v"] not in (RECORD_FORMAT_VERSION, DETAILS_FORMAT_VERSION):
        raise InvalidLesson(where, "v", f"record format {fields['v']!r} is not supported")
    kind = _text(fields, "kind", where)
    return Lesson(
        kind=kind,
        title=_text(fields, "title", where),
        summary=_text(fields, "summary", where),
        body=_text(fields, "body", where),
        language=_text(fields, "language", where),
        region=_text(fields, "region", where),
        tags=_texts(fields, "tags", where),
        sensitivity=_text(fields, "sensitivity", where),
        consent=_consent(fields["consent"], where),
        labels=tuple(_label(item, where) for item in _list(fields, "labels", where)),
        supersedes=_optional_digest(fields, "supersedes", where),
        translation_of=_optional_digest(fields, "translation_of", where),
        attachments=tuple(
            attachment_from_wire(item, where) for item in _list(fields, "attachments", where)
        ),
        created=_integer(fields, "created", where),
        origin=_digest(fields["origin"], "origin", where),
        author=_text(fields, "author", where),
        details=details_from_wire(kind, fields.get("details"), where),
    )


def _ordered_map(value: Any, order: tuple[str, ...], where: str, name: str) -> dict[str, Any]:
    if not isinstance(value, dict) or tuple(value) != order:
        raise InvalidLesson(
            where, name, f"must be a map with the fields {', '.join(order)} in order"
        )
    return value


def _consent(value: Any, where: str) -> Consent:
    fields = _ordered_map(value, CONSENT_ORDER, where, "consent")
    return Consent(
        basis=_text(fields, "basis", where, "consent."),
        scope=_text(fields, "scope", where, "consent."),
        peers=_texts(fields, "peers", where, "consent."),
        regions_allow=_texts(fields, "regions_allow", where, "consent."),
        regions_deny=_texts(fields, "regions_deny", where, "consent."),
        reshare=_boolean(fields, "reshare", where, "consent."),
        expires=_optional_integer(fields, "expires", where, "consent."),
        purposes=_texts(fields, "purposes", where, "consent."),
        subjects=tuple(
            _subject(item, where) for item in _list(fields, "subjects", where, "consent.")
        ),
    )


def _subject(value: Any, where: str) -> Subject:
    fields = _ordered_map(value, SUBJECT_ORDER, where, "consent.subjects")
    prefix = "consent.subjects."
    return Subject(
        pseudonym=_text(fields, "pseudonym", where, prefix),
        share=_boolean(fields, "share", where, prefix),
        recorded=_boolean(fields, "recorded", where, prefix),
        photographed=_boolean(fields, "photographed", where, prefix),
        expires=_optional_integer(fields, "expires", where, prefix),
        withdrawn=_boolean(fields, "withdrawn", where, prefix),
    )


def _label(value: Any, where: str) -> Label:
    fields = _ordered_map(value, LABEL_ORDER, where, "labels")
    return Label(
        type=_text(fields, "type", where, "labels."),
        name=_text(fields, "name", where, "labels."),
        community=_text(fields, "community", where, "labels."),
    )


def _typed(
    fields: dict[str, Any],
    name: str,
    kind: type | tuple[type, ...],
    where: str,
    prefix: str,
    noun: str,
) -> Any:
    value = fields[name]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise InvalidLesson(where, prefix + name, f"must be {noun}")
    return value


def _text(fields: dict[str, Any], name: str, where: str, prefix: str = "") -> str:
    value: str = _typed(fields, name, str, where, prefix, "text")
    return value


def _boolean(fields: dict[str, Any], name: str, where: str, prefix: str = "") -> bool:
    value: bool = _typed(fields, name, bool, where, prefix, "true or false")
    return value


def _integer(fields: dict[str, Any], name: str, where: str, prefix: str = "") -> int:
    value: int = _typed(fields, name, int, where, prefix, "an integer")
    return value


def _optional_integer(
    fields: dict[str, Any], name: str, where: str, prefix: str = ""
) -> int | None:
    return None if fields[name] is None else _integer(fields, name, where, prefix)


def _list(fields: dict[str, Any], name: str, where: str, prefix: str = "") -> list[Any]:
    value: list[Any] = _typed(fields, name, list, where, prefix, "a list")
    return value


def _texts(fields: dict[str, Any], name: str, where: str, prefix: str = "") -> tuple[str, ...]:
    values = _list(fields, name, where, prefix)
    if not all(isinstance(value, str) for value in values):
        raise InvalidLesson(where, prefix + name, "must be a list of text")
    return tuple(values)


def _digest(value: Any, name: str, where: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != 32:
        raise InvalidLesson(where, name, "must be 32 bytes")
    return value


def _optional_digest(fields: dict[str, Any], name: str, where: str) -> bytes | None:
    return None if fields[name] is None else _digest(fields[name], name, where)
