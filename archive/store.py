"""Writing records: the one path by which a lesson enters the archive.

Whether typed by a local author or received from a peer, a record is stored as its signed
envelope plus readable columns *derived from* that envelope, its full-text index entry and
an event-log entry, all in one transaction.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any

import sqlite_utils

from archive.blobs import index_attachments
from archive.db import transaction
from archive.derivation import may_supersede_origin
from archive.details import FollowUps
from archive.errors import InvalidLesson
from archive.event_log import append_event
from archive.folding import fold
from archive.record import Consent, Lesson, consent_to_json
from archive.signed_record import SignedRecord, sign_lesson
from crypto.signing import SigningIdentity

Clock = Callable[[], float]
# Called inside the storing transaction for each new version (a lesson with ``supersedes``),
# after it is stored: governance's rule of who may supersede and what a widening needs
# (wired in by node.Node). Raising InvalidLesson rolls the version back.
VersionRule = Callable[[SignedRecord, str], None]

DERIVED_COLUMNS = (
    "kind", "title", "summary", "language", "region", "tags", "sensitivity", "scope",
    "consent", "origin", "author", "created", "supersedes", "translation_of",
    "next_due", "expires_at",
)  # fmt: skip


def derived_columns(record: SignedRecord) -> dict[str, Any]:
    """The readable columns of a record, computed from its signed content alone."""
    lesson = record.lesson
    return {
        "kind": lesson.kind,
        "title": lesson.title,
        "summary": lesson.summary,
        "language": lesson.language,
        "region": lesson.region,
        "tags": json.dumps(list(lesson.tags), ensure_ascii=False),
        "sensitivity": lesson.sensitivity,
        "scope": lesson.consent.scope,
        "consent": consent_to_json(lesson.consent),
        "origin": lesson.origin_id,
        "author": lesson.author,
        "created": lesson.created,
        "supersedes": lesson.supersedes.hex() if lesson.supersedes else None,
        "translation_of": lesson.translation_of.hex() if lesson.translation_of else None,
        "next_due": lesson.details.next_due() if isinstance(lesson.details, FollowUps) else None,
        "expires_at": earliest_expiry(lesson.consent),
    }


def earliest_expiry(consent: Consent) -> int | None:
    """When the first consent in the record runs out (its own or a participant's): the
    indexed ``expires_at`` the expiry check reads (archive/listing_schema.py)."""
    expiries = [consent.expires, *(subject.expires for subject in consent.subjects)]
    known = [expiry for expiry in expiries if expiry is not None]
    return min(known) if known else None


def search_columns(lesson: Lesson) -> tuple[str, str, str, str]:
    """What the full-text index holds for a lesson: title, summary, body, tags, folded
    (archive.folding: queries are folded alike; snippets come from the signed text)."""
    title, summary, body = fold(lesson.title), fold(lesson.summary), fold(lesson.body)
    return title, summary, body, fold(" ".join(lesson.tags))


def has_record(db: sqlite_utils.Database, record_id: str) -> bool:
    return db.execute("SELECT 1 FROM records WHERE id = ?", [record_id]).fetchone() is not None


def insert_record(
    db: sqlite_utils.Database,
    record: SignedRecord,
    received_from: str | None,
    stored_at: int,
    quarantined: bool = False,
) -> bool:
    """Insert a verified record and its index entry; False if we already hold it."""
    row = {"id": record.id_hex, "envelope": record.envelope, **derived_columns(record)}
    row.update(received_from=received_from, stored_at=stored_at, quarantined=int(quarantined))
    names = ", ".join(row)
    cursor = db.execute(
        f"INSERT OR IGNORE INTO records ({names}) VALUES ({', '.join('?' for _ in row)})",
        list(row.values()),
    )
    if cursor.rowcount == 0:  # the same id is here already: one statement, not two
        return False
    db.execute(
        "INSERT INTO records_fts (rowid, title, summary, body, tags) VALUES (?, ?, ?, ?, ?)",
        [cursor.lastrowid, *search_columns(record.lesson)],
    )
    if record.lesson.attachments:
        index_attachments(db, record)  # which blobs it names (archive/blobs.py)
    return True


class RecordWriter:
    """Signs and stores this node's own lessons, logging each one."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        identity: SigningIdentity,
        clock: Clock = time.time,
        version_rule: VersionRule | None = None,
    ) -> None:
        self.db = db
        self.identity = identity
        self.clock = clock
        self.version_rule = version_rule

    def now(self) -> int:
        return int(self.clock())

    def add_lesson(self, lesson: Lesson, where: str = "lesson") -> SignedRecord:
        """Sign and store a new local lesson in one transaction."""
        record = sign_lesson(self.identity, lesson)
        with transaction(self.db):
            self._store_own(record, where)
        return record

    def add_lessons(
        self, lessons: Iterable[tuple[str, Lesson]]
    ) -> list[tuple[str, SignedRecord | InvalidLesson]]:
        """Store many lessons in one transaction, each in a savepoint of its own.

        A lesson that breaks a rule is reported and rolled back alone; the others stay.
        """
        outcomes: list[tuple[str, SignedRecord | InvalidLesson]] = []
        with transaction(self.db):
            for where, lesson in lessons:
                try:
                    record = sign_lesson(self.identity, lesson)
                    with transaction(self.db):
                        self._store_own(record, where)
                except InvalidLesson as error:
                    outcomes.append((where, error))
                else:
                    outcomes.append((where, record))
        return outcomes

    def _store_own(self, record: SignedRecord, where: str) -> None:
        self._check_new_version(record.lesson, where)
        if insert_record(self.db, record, None, self.now()):
            self.log("record.added", record.id_hex, {"kind": record.lesson.kind})
            if record.lesson.supersedes is not None and self.version_rule is not None:
                self.version_rule(record, where)

    def log(self, kind: str, subject: str | None, detail: dict[str, Any]) -> int:
        return append_event(self.db, self.identity, kind, subject, detail, self.now())

    def _check_new_version(self, lesson: Lesson, where: str) -> None:
        for name in ("supersedes", "translation_of"):
            target = getattr(lesson, name)
            if target is None:
                continue
            row = self.db.execute(
                "SELECT origin FROM records WHERE id = ?", [target.hex()]
            ).fetchone()
            if row is None:
                raise InvalidLesson(where, name, f"no record {target.hex()[:12]} in this archive")
            if name == "supersedes" and not may_supersede_origin(row[0], lesson.origin_id):
                raise InvalidLesson(where, name, "only the origin node can publish a new version")
        if lesson.supersedes is not None:
            newer = self.db.execute(
                "SELECT id FROM records WHERE supersedes = ?", [lesson.supersedes.hex()]
            ).fetchone()
            if newer is not None:
                raise InvalidLesson(
                    where,
                    "supersedes",
                    f"already superseded by {newer[0][:12]}: supersede that version",
                )
