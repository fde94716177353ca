"""Lesson actions: add, approve, withdraw, and a curator's verdict on a quarantined lesson.

Each checks the member's right itself (:mod:`governance.roles`); whether an approval is a
self-approval, and who may withdraw a lesson, governance decides
(:func:`governance.approvals.is_self_approval`, :func:`governance.roles.require_may_revoke`).
"""

from __future__ import annotations

from dataclasses import dataclass

from archive.attachment import Attachment
from archive.attachment_intake import AttachmentInput
from archive.lesson_file import LessonDraft
from archive.lesson_sources import Intake, SourceFile
from archive.queries import RecordSummary, record_summary
from federation.propagation import revoke
from federation.revocation import Actor
from governance.approvals import approve, is_self_approval
from governance.members import Member
from governance.quarantine import accept_quarantined, reject_quarantined
from governance.roles import require, require_may_revoke
from node.node import Node


@dataclass(frozen=True)
class AddLesson:
    """Sign and store a lesson unless it is already here (:meth:`Node.take_lesson`)."""

    by: Member
    draft: LessonDraft
    where: str  # how errors name the input: a file's path, "lesson", "form"
    source: SourceFile | None = None
    update: bool = False
    dry_run: bool = False
    attachments: tuple[AttachmentInput, ...] = ()  # cleaned and checked by take_lesson
    kept: tuple[Attachment, ...] = ()  # of the version it replaces (the web edit form)


def add_lesson(node: Node, request: AddLesson) -> Intake:
    require(request.by.name, request.by.roles, "lesson.add")
    return node.take_lesson(
        request.draft, request.where, request.by.name, request.source,
        update=request.update, dry_run=request.dry_run, attachments=request.attachments,
        kept=request.kept,
    )  # fmt: skip


@dataclass(frozen=True)
class ApproveLesson:
    by: Member
    record: str  # an id or a unique prefix


@dataclass(frozen=True)
class Approved:
    record: RecordSummary
    member: str
    new: bool  # False: this member had already approved this version


def approve_lesson(node: Node, request: ApproveLesson) -> Approved:
    """A curator's signed approval of this exact version; never of their own lesson."""
    member = request.by
    require(member.name, member.roles, "lesson.approve")
    summary = record_summary(node.db, node.resolve_id(request.record))
    own = is_self_approval(member.name, summary.author, summary.origin, node.node_id)
    new = approve(
        node.db, node.identity, member, node.member_identity(member.name), summary.id, own,
        node.now(),
    )  # fmt: skip
    return Approved(summary, member.name, new)


@dataclass(frozen=True)
class RevokeLesson:
    by: Member
    record: str
    reason: str  # one of federation.revocation.REASONS
    note: str | None = None  # kept on this node only


@dataclass(frozen=True)
class Revoked:
    record: RecordSummary
    revocation_id: str
    record_ids: tuple[str, ...]  # every version and translation withdrawn with it


def revoker(node: Node, member: Member, record: str) -> RecordSummary:
    """The lesson ``member`` asks to withdraw, if they may: its author here, a steward or an
    admin (a web request asks this before it reads its body)."""
    summary = record_summary(node.db, node.resolve_id(record))
    author_here = summary.author if summary.origin == node.node_id else None
    require_may_revoke(member.name, member.roles, author_here)
    return summary


def revoke_lesson(node: Node, request: RevokeLesson) -> Revoked:
    """Withdraw the lesson with its versions and translations: purged here at once, queued
    for every holder (a running node sends it; the caller may wake its outbox)."""
    member = request.by
    summary = revoker(node, member, request.record)
    actor = Actor(member.name, node.member_identity(member.name), member.certificate)
    revocation = revoke(node.local_node(), summary.id, actor, request.reason, request.note)
    return Revoked(summary, revocation.revocation_id, tuple(revocation.record_ids))


@dataclass(frozen=True)
class ReviewQuarantined:
    by: Member
    record: str


def accept_lesson(node: Node, request: ReviewQuarantined) -> str:
    """Let a quarantined lesson from a peer show in list and search; its full id."""
    require(request.by.name, request.by.roles, "lesson.review")
    record_id = node.resolve_id(request.record)
    accept_quarantined(node.db, node.identity, record_id, request.by.name, node.now())
    return record_id


def reject_lesson(node: Node, request: ReviewQuarantined) -> str:
    """Refuse a quarantined lesson: purged, and never fetched again; its full id."""
    require(request.by.name, request.by.roles, "lesson.review")
    record_id = node.resolve_id(request.record)
    reject_quarantined(node.db, node.identity, record_id, request.by.name, node.now())
    return record_id
