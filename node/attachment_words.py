"""How an attachment's decision is said: in explain, on the lesson page and in the API."""

from __future__ import annotations

from typing import Any

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
