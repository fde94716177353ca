"""How an attachment's decision is said: in explain, on the lesson page and in the API."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from archive.blobs import BlobStore
from federation.blob_transfer import attachment_decisions
from governance.attachment_consent import NOUNS, AttachmentDecision

LESSON_STAYS = "the {noun} stays: the lesson itself does not go"


def may_leave(item: AttachmentDecision, lesson_allowed: bool) -> bool:
    return lesson_allowed and item.allowed


def attachment_words(item: AttachmentDecision, lesson_allowed: bool) -> str:
    if not lesson_allowed:
        return LESSON_STAYS.format(noun=NOUNS[item.attachment.kind])
    return item.words


def attachment_lines(items: list[AttachmentDecision], lesson_allowed: bool) -> list[str]:
    """``policy explain``'s lines for the attachments, after the lesson's own reasons."""
    if not items:
        return []
    lines = ["  Attachments:"]
    for item in items:
        mark = "+" if may_leave(item, lesson_allowed) else "-"
        caption = f" {item.attachment.caption!r}" if item.attachment.caption else ""
        noun = NOUNS[item.attachment.kind]
        lines.append(f"    {mark} {noun}{caption}: {attachment_words(item, lesson_allowed)}")
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
    db: sqlite_utils.Database, record_id: str, now: int, lesson_allowed: bool = True
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
                "consent": attachment_words(decision, lesson_allowed),
            }
        )
    return entries
