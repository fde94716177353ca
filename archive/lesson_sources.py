"""Taking in this node's own lessons once: the same lesson added again is "already here".

Every front end (``lesson add``, ``lesson import``, the JSON API, the web form) stores a new
lesson through :func:`take_lesson`, which remembers a keyed fingerprint of the lesson's
content in ``lesson_sources``, in the same transaction as the record. So:

- the same content again, from any file, path or front end, is *already here* (its id);
  a re-run of an interrupted import therefore resumes instead of duplicating;
- a lesson whose content was withdrawn is *refused*: it is not imported again;
- a file with changed content that is the same lesson as one stored before is *changed*,
  and becomes a new version (``supersedes`` the latest one) only when asked (``update``).
  A file is the same lesson when it sits at the same path as a file stored before, or has
  the same file name, title and author (a folder moved elsewhere). A front matter that
  names ``supersedes`` itself decides alone.

Content means what the lesson says, normalized: the fields of the signed record except
when, where and by whom it was added, with line ends and Unicode composition made uniform,
so a file saved again or re-typed in YAML differently is still the same lesson.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from enum import StrEnum

import sqlite_utils

from archive.db import transaction
from archive.errors import InvalidLesson
from archive.queries import history
from archive.record import Lesson, lesson_to_wire
from archive.store import RecordWriter
from archive.tombstones import tombstone_of
from crypto.canonical import pack
from crypto.fingerprint import keyed_fingerprint

CONTENT_CONTEXT = b"rhizome/lesson-content/v1"
PATH_CONTEXT = b"rhizome/lesson-path/v1"
NAME_CONTEXT = b"rhizome/lesson-name/v1"


class Outcome(StrEnum):
    STORED = "stored"
    ALREADY_HERE = "already here"
    UPDATED = "updated"
    CHANGED = "changed"


class LessonWithdrawn(InvalidLesson):
    """This exact lesson was withdrawn here: a withdrawn lesson is not taken in again.

    If the people concerned agreed again, record that agreement in its consent block: the
    lesson is then a new one and can be added.
    """

    http_status = 409
    code = "withdrawn"


class LessonChanged(InvalidLesson):
    """This file is a changed copy of a lesson stored before: store it as a new version of
    that lesson (``--update``), or give the file another name and the lesson its own title
    to store it as a separate lesson."""

    http_status = 409
    code = "changed"


@dataclass(frozen=True)
class SourceFile:
    """Where a lesson file lies: its absolute path, and its file name alone."""

    path: str
    name: str


@dataclass(frozen=True)
class Intake:
    """What happened (or, in a dry run, would happen) to one lesson."""

    where: str
    outcome: Outcome
    title: str
    record_id: str | None = None  # stored, updated or already here: that record
    previous: str | None = None  # updated or changed: the version it replaces


@dataclass(frozen=True)
class _Keys:
    content: bytes
    path: bytes | None
    name: bytes | None


def take_lesson(
    writer: RecordWriter,
    lesson: Lesson,
    where: str,
    source: SourceFile | None = None,
    *,
    update: bool = False,
) -> Intake:
    """Store ``lesson`` unless it is already here; the one way our own lessons come in.

    Runs in one transaction (a savepoint inside the caller's): the record, its event and
    its fingerprints are stored together or not at all. Raises :class:`InvalidLesson`
    (:class:`LessonWithdrawn` included) for a lesson that must not be stored.
    """
    db = writer.db
    keys = _keys(db, lesson, source)
    with transaction(db):  # decided inside the write lock: two front ends cannot race
        intake, to_store = _decide(db, lesson, where, keys, update)
        if to_store is None:
            return intake
        record = writer.add_lesson(to_store, where)
        db.execute(
            "INSERT OR REPLACE INTO lesson_sources "
            "(content_key, record_id, path_key, name_key, stored_at) VALUES (?, ?, ?, ?, ?)",
            [keys.content, record.id_hex, keys.path, keys.name, writer.now()],
        )
    return replace(intake, record_id=record.id_hex)


def plan_lesson(
    db: sqlite_utils.Database,
    lesson: Lesson,
    where: str,
    source: SourceFile | None = None,
    *,
    update: bool = False,
) -> Intake:
    """What :func:`take_lesson` would do, storing nothing (a dry run: no key needed)."""
    return _decide(db, lesson, where, _keys(db, lesson, source), update)[0]


def changed_error(intake: Intake) -> LessonChanged:
    """The error for a front end that cannot ask about a changed file (no ``--update``)."""
    assert intake.previous is not None
    return LessonChanged(
        intake.where,
        None,
        f"changed since it was stored as {intake.previous[:12]}: use --update to store it "
        "as a new version",
    )


def _decide(
    db: sqlite_utils.Database, lesson: Lesson, where: str, keys: _Keys, update: bool
) -> tuple[Intake, Lesson | None]:
    """The outcome, and the lesson to store (None: nothing to store)."""
    known = _text(db, "SELECT record_id FROM lesson_sources WHERE content_key = ?", keys.content)
    if known is not None and tombstone_of(db, known) is not None:
        problem = f"this exact lesson was withdrawn ({known[:12]}); it is not added again"
        raise LessonWithdrawn(where, None, problem)
    if known is not None and _text(db, "SELECT id FROM records WHERE id = ?", known):
        return Intake(where, Outcome.ALREADY_HERE, lesson.title, record_id=known), None
    heads = [] if lesson.supersedes is not None else _same_lesson(db, keys)
    if len(heads) > 1:
        listed = ", ".join(head[:12] for head in heads)
        raise InvalidLesson(
            where,
            "supersedes",
            f"the file matches several lessons ({listed}): name the one it replaces",
        )
    if not heads:
        return Intake(where, Outcome.STORED, lesson.title), lesson
    previous = heads[0]
    if not update:
        return Intake(where, Outcome.CHANGED, lesson.title, previous=previous), None
    new_version = replace(lesson, supersedes=bytes.fromhex(previous))
    return Intake(where, Outcome.UPDATED, lesson.title, previous=previous), new_version


def _same_lesson(db: sqlite_utils.Database, keys: _Keys) -> list[str]:
    """The latest versions of the stored lessons this file is a changed copy of."""
    found: list[str] = []
    for key, column in ((keys.path, "path_key"), (keys.name, "name_key")):
        if key is None:
            continue
        rows = db.execute(f"SELECT record_id FROM lesson_sources WHERE {column} = ?", [key])
        for (record_id,) in rows.fetchall():
            if _text(db, "SELECT id FROM records WHERE id = ?", record_id) is None:
                continue  # withdrawn and purged: nothing left to be a version of
            latest = history(db, record_id)[-1].id
            if latest not in found:
                found.append(latest)
        if found:  # the path decides before the name
            break
    return found


def _keys(db: sqlite_utils.Database, lesson: Lesson, source: SourceFile | None) -> _Keys:
    secret = _one(db, "SELECT key FROM lesson_source_key", None)
    assert isinstance(secret, bytes), "schema m011 makes the key"
    content = keyed_fingerprint(secret, CONTENT_CONTEXT, content_bytes(lesson))
    if source is None:
        return _Keys(content, None, None)
    title = " ".join(_normal(lesson.title).casefold().split())
    name = pack([source.name.casefold(), title, lesson.author])
    return _Keys(
        content,
        keyed_fingerprint(secret, PATH_CONTEXT, source.path.encode("utf-8", "surrogateescape")),
        keyed_fingerprint(secret, NAME_CONTEXT, name),
    )


def content_bytes(lesson: Lesson) -> bytes:
    """What makes two lessons the same: every signed field but when, where and by whom."""
    plain = replace(
        lesson,
        created=0,
        origin=b"",
        author="",
        title=_normal(lesson.title),
        summary=_normal(lesson.summary),
        body=_normal(lesson.body),
    )
    return pack(lesson_to_wire(plain))


def _normal(text: str) -> str:
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


def _one(db: sqlite_utils.Database, sql: str, value: object) -> object:
    row = db.execute(sql, [] if value is None else [value]).fetchone()
    return None if row is None else row[0]


def _text(db: sqlite_utils.Database, sql: str, value: object) -> str | None:
    found = _one(db, sql, value)
    return None if found is None else str(found)
