"""Which attachments go into an offline copy: those every person in them agreed to.

An offline copy holds only public, unconditional lessons (:mod:`node.export.rule`); an
attachment of such a lesson goes in only when governance's per-attachment decision allows it
(:func:`governance.attachment_consent.decide_attachment`: every person it shows agreed to be
photographed, every person it records agreed to be recorded) and its bytes are on this hub.
Each one left out is named with the reason, in the same words as ``policy explain``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from archive.attachment import Attachment
from archive.record import Lesson
from governance.attachment_consent import decide_attachment

EXTENSIONS = {
    "image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "audio/ogg": "ogg",
    "audio/mpeg": "mp3", "audio/flac": "flac", "video/mp4": "mp4", "video/webm": "webm",
    "video/x-matroska": "mkv", "application/pdf": "pdf",
}  # fmt: skip
BlobReader = Callable[[str], bytes | None]  # hex hash -> the bytes, or None if not here


@dataclass(frozen=True)
class CopiedFile:
    """An attachment copied into the folder, under ``name`` (relative: ``files/…``)."""

    attachment: Attachment
    name: str
    data: bytes


@dataclass(frozen=True)
class LeftOut:
    lesson: str  # its title
    attachment: Attachment
    reason: str


def plan_attachments(
    lessons: list[Lesson], read_blob: BlobReader, now: int
) -> tuple[list[list[CopiedFile]], list[LeftOut]]:
    """Per lesson, the files that go in (in the record's order); and those left out, why."""
    copied: list[list[CopiedFile]] = []
    left_out: list[LeftOut] = []
    for lesson in lessons:
        files = []
        for attachment in lesson.attachments:
            decision = decide_attachment(attachment, [lesson.consent], now)
            data = read_blob(attachment.hash_hex) if decision.allowed else None
            if not decision.allowed:
                left_out.append(LeftOut(lesson.title, attachment, decision.words))
            elif data is None:
                left_out.append(LeftOut(lesson.title, attachment, "its file is not on this hub"))
            else:
                extension = EXTENSIONS.get(attachment.media_type, "bin")
                files.append(
                    CopiedFile(attachment, f"files/{attachment.hash_hex[:16]}.{extension}", data)
                )
        copied.append(files)
    return copied, left_out
