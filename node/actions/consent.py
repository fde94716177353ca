"""A participant withdraws their consent to the photos and recordings of one lesson.

``rhizome consent withdraw LESSON --subject Heron`` (and the API) come here. The lesson stays:
a new signed version replaces it, in which Heron agrees to be neither photographed nor
recorded and every attachment showing or recording Heron is gone; then the files themselves
are withdrawn like a lesson is, purged here and at every holder, each answering with a
signed purge receipt (:mod:`federation.attachment_withdrawal`). Heron's other consent (to
the lesson's text) is unchanged; to withdraw the whole lesson, revoke it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from archive.errors import InvalidLesson, UnknownRecord
from archive.queries import load_record
from archive.record import Lesson
from archive.signed_record import SignedRecord
from federation.attachment_withdrawal import withdraw_attachments
from federation.revocation import Actor
from governance.members import Member
from node.actions.lessons import revoker
from node.node import Node


@dataclass(frozen=True)
class WithdrawSubject:
    by: Member
    record: str  # an id or a unique prefix: the lesson's latest version
    subject: str  # the pseudonym, as in consent.subjects


@dataclass(frozen=True)
class SubjectWithdrawn:
    new_version: str
    files: tuple[str, ...]  # the blob ids withdrawn
    revocation_id: str | None  # None when no file showed the subject


def withdraw_subject(node: Node, request: WithdrawSubject) -> SubjectWithdrawn:
    """A new version without the subject's attachments, then their files withdrawn."""
    summary = revoker(node, request.by, request.record)  # who may withdraw, as for revoke
    record = load_record(node.db, summary.id)
    lesson = record.lesson
    where = f"lesson {summary.id[:12]}"
    named = [entry.pseudonym for entry in lesson.consent.subjects]
    if request.subject not in named:
        raise InvalidLesson(
            where, "consent.subjects",
            f"{request.subject!r} is not a participant of this lesson (its participants: "
            f"{', '.join(named) or 'none'}); nothing changed",
        )  # fmt: skip
    files = _files_showing(node, record, request.subject)
    stored = node.writer.add_lesson(_without(lesson, record, request.subject, node.now()), where)
    revocation_id = None
    if files:
        member = request.by
        actor = Actor(member.name, node.member_identity(member.name), member.certificate)
        revocation = withdraw_attachments(node.local_node(), files, request.subject, actor)
        revocation_id = revocation.revocation_id
    return SubjectWithdrawn(stored.id_hex, tuple(files), revocation_id)


def _without(lesson: Lesson, record: SignedRecord, subject: str, now: int) -> Lesson:
    subjects = tuple(
        replace(entry, photographed=False, recorded=False) if entry.pseudonym == subject else entry
        for entry in lesson.consent.subjects
    )
    kept = tuple(item for item in lesson.attachments if subject not in item.subjects)
    return replace(
        lesson, consent=replace(lesson.consent, subjects=subjects), attachments=kept,
        supersedes=record.record_id, created=now,
    )  # fmt: skip


def _files_showing(node: Node, record: SignedRecord, subject: str) -> list[str]:
    """The subject's files in this version and every earlier one we hold."""
    found: list[str] = []
    current: SignedRecord | None = record
    while current is not None:
        found += [a.hash_hex for a in current.lesson.attachments if subject in a.subjects]
        previous = current.lesson.supersedes
        current = _held(node, previous.hex()) if previous is not None else None
    return sorted(set(found))


def _held(node: Node, record_id: str) -> SignedRecord | None:
    try:
        return load_record(node.db, record_id)
    except UnknownRecord:  # an earlier version we no longer hold: the walk ends there
        return None
