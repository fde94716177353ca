"""Taking attachments in with a lesson: files named in front matter, on the command line or
uploaded in the form, cleaned (:mod:`archive.attachment_files`), capped, then stored as
blobs only when the lesson itself is stored.

Front matter names files beside the lesson::

    attachments:
      - file: drill.jpg
        caption: Morning drill at the river
        subjects: [Heron, Kite]

Every name in ``subjects`` needs an entry in ``consent.subjects`` (the record's rules say
so); the consent of those people decides where the file may go.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import sqlite_utils

from archive.attachment import MAX_CAPTION, Attachment
from archive.attachment_files import (
    MAX_FILE_BYTES,
    MAX_LESSON_BYTES,
    RefusedAttachment,
    clean_attachment,
)
from archive.blobs import BlobStore, records_naming
from archive.errors import InvalidLesson
from archive.record import Lesson, validate_lesson

SPEC_FIELDS = {"file", "caption", "subjects"}


@dataclass(frozen=True)
class AttachmentSpec:
    """A file named by a lesson file's front matter, relative to the lesson file."""

    file: str
    caption: str = ""
    subjects: tuple[str, ...] = ()


@dataclass(frozen=True)
class AttachmentInput:
    """A file to attach, read: its name (for messages only: it is not stored), its bytes,
    a caption and the people it shows or records."""

    name: str
    data: bytes
    caption: str = ""
    subjects: tuple[str, ...] = ()


@dataclass(frozen=True)
class Caps:
    max_file_bytes: int = MAX_FILE_BYTES
    max_lesson_bytes: int = MAX_LESSON_BYTES


@dataclass(frozen=True)
class Prepared:
    """A cleaned attachment, its descriptor and its bytes (not stored yet)."""

    attachment: Attachment
    data: bytes


def attachment_specs(front: dict[str, Any], where: str) -> tuple[AttachmentSpec, ...]:
    """The ``attachments`` front-matter field, every type checked."""
    value = front.get("attachments")
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidLesson(where, "attachments", "must be a list of {file, caption, subjects}")
    return tuple(_spec(item, where) for item in value)


def _spec(item: Any, where: str) -> AttachmentSpec:
    if not isinstance(item, dict) or not isinstance(item.get("file"), str):
        raise InvalidLesson(where, "attachments", "each entry needs file: the name of a file")
    if unknown := sorted(set(map(str, item)) - SPEC_FIELDS):
        raise InvalidLesson(where, "attachments." + unknown[0], "unknown field (known: "
                            "caption, file, subjects)")  # fmt: skip
    caption = item.get("caption") or ""
    subjects = item.get("subjects") or []
    if not isinstance(caption, str):
        raise InvalidLesson(where, "attachments.caption", "must be text")
    if not isinstance(subjects, list) or not all(isinstance(s, str) for s in subjects):
        raise InvalidLesson(where, "attachments.subjects", "must be a list of pseudonyms")
    return AttachmentSpec(item["file"], caption.strip(), tuple(s.strip() for s in subjects))


def read_spec(spec: AttachmentSpec, folder: Path, where: str, caps: Caps) -> AttachmentInput:
    """The file a spec names, beside the lesson file (size checked before it is read)."""
    path = folder / spec.file
    try:
        size = path.stat().st_size
        if size > caps.max_file_bytes:
            raise RefusedAttachment(
                f"{where}: {spec.file}", None,
                f"the file is {size:,} bytes, over the limit of {caps.max_file_bytes:,}",
            )  # fmt: skip
        data = path.read_bytes()
    except OSError as error:
        raise InvalidLesson(
            where, "attachments", f"cannot read {spec.file} ({error.strerror})"
        ) from error
    return AttachmentInput(spec.file, data, spec.caption, spec.subjects)


def prepare(inputs: Sequence[AttachmentInput], caps: Caps, where: str) -> list[Prepared]:
    """Clean every file and check the caps; nothing is stored (CPU work: not on a loop)."""
    prepared: list[Prepared] = []
    total = 0
    for given in inputs:
        if len(given.caption) > MAX_CAPTION:
            raise InvalidLesson(where, "attachments.caption", f"over {MAX_CAPTION} characters")
        clean = clean_attachment(given.data, f"{where}: {given.name}", caps.max_file_bytes)
        total += len(clean.data)
        if total > caps.max_lesson_bytes:
            raise RefusedAttachment(
                where, "attachments",
                f"the attachments add up to more than the limit of {caps.max_lesson_bytes:,} "
                "bytes per lesson",
            )  # fmt: skip
        digest = hashlib.sha256(clean.data).digest()
        attachment = Attachment(
            digest, clean.media_type, len(clean.data), given.caption, given.subjects,
            clean.removed,
        )  # fmt: skip
        prepared.append(Prepared(attachment, clean.data))
    return prepared


@contextmanager
def blobs_stored(db: sqlite_utils.Database, prepared: Sequence[Prepared]) -> Iterator[None]:
    """Store the blobs for a lesson being stored; if storing the lesson fails, the blobs no
    record names are removed again, so a refused lesson leaves nothing behind."""
    if not prepared:
        yield
        return
    store = BlobStore.of(db)
    new = [item.attachment.hash_hex for item in prepared if not store.has(item.attachment.hash_hex)]
    for item in prepared:
        store.put(item.data)
    try:
        yield
    except BaseException:
        for digest in new:
            if not records_naming(db, [digest]):
                store.delete(digest)
        raise


def with_attachments(
    lesson: Lesson, prepared: Sequence[Prepared], where: str, kept: Sequence[Attachment] = ()
) -> Lesson:
    """The lesson naming ``kept`` attachments (of the version it replaces: their blobs are
    here) and its newly cleaned ones, checked again (subjects need consent)."""
    if not prepared and not kept:
        return lesson
    known = {attachment.hash for attachment in kept}
    new = tuple(item.attachment for item in prepared if item.attachment.hash not in known)
    named = replace(lesson, attachments=(*kept, *new))
    validate_lesson(named, where)
    return named
