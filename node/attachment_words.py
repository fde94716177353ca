"""How an attachment's decision is said: in explain, on the lesson page and in the API."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from archive.blobs import BlobStore
from federation.blob_transfer import attachment_decisions
from governance.attachment_consent import NOUN_PHRASES, NOUNS, AttachmentDecision
from governance.words import Words
from node.i18n import N_, gettext
from node.reason_words import say_attachment_decision, say_words

LESSON_STAYS = N_("{noun} stays: the lesson itself does not go")


def may_leave(item: AttachmentDecision, lesson_allowed: bool) -> bool:
    return lesson_allowed and item.allowed


def attachment_words(
    item: AttachmentDecision, lesson_allowed: bool, *, english: bool = True
) -> str:
    """Why the attachment goes or stays: in English (JSON), or in the reader's language."""
    if not lesson_allowed:
        words = Words.of(LESSON_STAYS, noun=Words(NOUN_PHRASES[item.attachment.kind]))
        return words.english if english else say_words(words)
    return item.words if english else say_attachment_decision(item)


def attachment_lines(items: list[AttachmentDecision], lesson_allowed: bool) -> list[str]:
    """``policy explain``'s lines for the attachments, after the lesson's own reasons."""
    if not items:
        return []
    lines = ["  " + gettext("Attachments:")]
    for item in items:
        mark = "+" if may_leave(item, lesson_allowed) else "-"
        caption = f" {item.attachment.caption!r}" if item.attachment.caption else ""
        noun = gettext(NOUNS[item.attachment.kind])
        said = attachment_words(item, lesson_allowed, english=False)
        lines.append(f"    {mark} {noun}{caption}: {said}")
    return lines


def attachment_json(item: AttachmentDecision, lesson_allowed: bool) -> dict[str, Any]:
    attachment = item.attachment
    return {
        "hash": attachment.hash_hex,
        "type": attachment.media_type,
        "caption": attachment.caption,
        "subjects": list(attachment.subjects),
        "may_leave": may_leave(item, lesson_allowed),
        "reason": attachment_words(item, lesson_allowed),
        "codes": [reason.code for reason in item.reasons],
    }


def attachment_entries(
    db: sqlite_utils.Database,
    record_id: str,
    now: int,
    lesson_allowed: bool = True,
    *,
    english: bool = True,
) -> list[dict[str, Any]]:
    """Each attachment of a record as the lesson page and the API show it: kind, caption,
    people, what was removed, whether its bytes are here, and its consent state (whether it
    may leave with the lesson, and in words why or why not)."""
    store = BlobStore.of(db)
    entries = []
    for decision in attachment_decisions(db, record_id, now):
        attachment = decision.attachment
        entries.append(
            {
                "hash": attachment.hash_hex,
                "kind": attachment.kind,
                "type": attachment.media_type,
                "size": attachment.size,
                "caption": attachment.caption,
                "subjects": list(attachment.subjects),
                "removed": list(attachment.removed),
                "held": store.has(attachment.hash_hex),
                "may_leave": may_leave(decision, lesson_allowed),
                "consent": attachment_words(decision, lesson_allowed, english=english),
            }
        )
    return entries
