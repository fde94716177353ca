"""An attachment as the signed record names it: a content hash and what it shows.

A lesson's ``attachments`` field is a list of maps in the order of
:data:`ATTACHMENT_ORDER` (docs/reference/record-format.md). The bytes themselves live
outside the record, as a content-addressed blob (:mod:`archive.blobs`): the record signs the
SHA-256 of the cleaned file, its media type and size, a caption, the pseudonyms of the
subjects it shows or records (each must have a consent entry in the lesson) and the kinds of
metadata that were removed before it was stored. Governance decides per attachment and per
peer whether the bytes may leave (:mod:`governance.attachment_consent`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from archive.errors import InvalidLesson

ATTACHMENT_ORDER = ("hash", "type", "size", "caption", "subjects", "removed")
# Media types a node takes in, and what each one is for consent: an image shows people
# (photographed), audio records them (recorded), a video does both, a document neither.
MEDIA_KINDS = {
    "image/jpeg": "image",
    "image/png": "image",
    "image/webp": "image",
    "audio/ogg": "audio",
    "audio/mpeg": "audio",
    "audio/flac": "audio",
    "video/mp4": "video",
    "video/webm": "video",
    "video/x-matroska": "video",
    "application/pdf": "document",
}
MAX_CAPTION = 500
MAX_ATTACHMENT_SUBJECTS = 64
MAX_REMOVED = 32
MAX_REMOVED_TEXT = 100
MAX_SIZE = 1 << 40  # a bound on the number, not the configured cap (node config)


@dataclass(frozen=True)
class Attachment:
    """One attachment of a lesson: the hash of its bytes and the people in it."""

    hash: bytes
    media_type: str
    size: int
    caption: str = ""
    subjects: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    @property
    def hash_hex(self) -> str:
        return self.hash.hex()

    @property
    def kind(self) -> str:
        """image, audio, video or document."""
        return MEDIA_KINDS.get(self.media_type, "document")

    @property
    def shows_people(self) -> bool:
        """Whether it pictures its subjects (an image or a video)."""
        return self.kind in ("image", "video")

    @property
    def records_people(self) -> bool:
        """Whether it records its subjects' voices (audio or a video)."""
        return self.kind in ("audio", "video")


def attachment_to_wire(attachment: Attachment) -> dict[str, Any]:
    return {
        "hash": attachment.hash,
        "type": attachment.media_type,
        "size": attachment.size,
        "caption": attachment.caption,
        "subjects": list(attachment.subjects),
        "removed": list(attachment.removed),
    }


def attachment_from_wire(value: Any, where: str) -> Attachment:
    """An attachment map of a received record, every field's type checked."""
    field = "attachments"
    if not isinstance(value, dict) or tuple(value) != ATTACHMENT_ORDER:
        raise InvalidLesson(
            where, field, f"each must be a map with the fields {', '.join(ATTACHMENT_ORDER)}"
        )
    digest, media_type, size = value["hash"], value["type"], value["size"]
    if not isinstance(digest, bytes) or len(digest) != 32:
        raise InvalidLesson(where, field + ".hash", "must be 32 bytes")
    if not isinstance(media_type, str) or not isinstance(value["caption"], str):
        raise InvalidLesson(where, field, "type and caption must be text")
    if type(size) is not int:
        raise InvalidLesson(where, field + ".size", "must be an integer")
    lists = []
    for name in ("subjects", "removed"):
        items = value[name]
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise InvalidLesson(where, f"{field}.{name}", "must be a list of text")
        lists.append(tuple(items))
    return Attachment(digest, media_type, size, value["caption"], lists[0], lists[1])


def validate_attachments(
    attachments: tuple[Attachment, ...], pseudonyms: set[str], where: str
) -> None:
    """The rules of the attachments field; ``pseudonyms`` are the lesson's consent subjects."""
    seen: set[bytes] = set()
    for attachment in attachments:
        if not isinstance(attachment, Attachment):
            raise InvalidLesson(where, "attachments", "each attachment must be an attachment map")
        if attachment.hash in seen:
            raise InvalidLesson(where, "attachments", "the same file is attached twice")
        seen.add(attachment.hash)
        _validate_one(attachment, pseudonyms, where)


def _validate_one(attachment: Attachment, pseudonyms: set[str], where: str) -> None:
    field = "attachments"
    if len(attachment.hash) != 32:
        raise InvalidLesson(where, field + ".hash", "each attachment is a 32-byte content hash")
    if attachment.media_type not in MEDIA_KINDS:
        raise InvalidLesson(
            where, field + ".type", f"{attachment.media_type!r} is not a supported media type"
        )
    if not 0 < attachment.size <= MAX_SIZE:
        raise InvalidLesson(where, field + ".size", "must be a positive number of bytes")
    if len(attachment.caption) > MAX_CAPTION:
        raise InvalidLesson(where, field + ".caption", f"longer than {MAX_CAPTION} characters")
    if len(attachment.subjects) > MAX_ATTACHMENT_SUBJECTS:
        raise InvalidLesson(where, field + ".subjects", "names too many subjects")
    for pseudonym in attachment.subjects:
        if pseudonym not in pseudonyms:
            raise InvalidLesson(
                where,
                field + ".subjects",
                f"{pseudonym!r} has no entry in consent.subjects: every person an attachment "
                "shows or records needs their own consent entry",
            )
    removed = attachment.removed
    if len(removed) > MAX_REMOVED or any(len(item) > MAX_REMOVED_TEXT for item in removed):
        raise InvalidLesson(where, field + ".removed", "too many or too long entries")
