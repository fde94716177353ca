"""Lessons with attachments on a running node, through the one way in (Node.take_lesson)."""

from __future__ import annotations

from typing import Any

from archive.attachment_intake import AttachmentInput
from archive.lesson_file import draft_from_fields
from archive.queries import load_record
from archive.signed_record import SignedRecord
from tests.integration.conftest import RunningNode

SUBJECTS = [
    {"pseudonym": "Heron", "share": True, "photographed": False, "recorded": True},
    {"pseudonym": "Kite", "share": True, "photographed": True, "recorded": True},
]


def add_with_attachments(
    running: RunningNode, inputs: list[AttachmentInput], title: str = "River drill",
    **consent: Any,
) -> SignedRecord:  # fmt: skip
    front = {
        "title": title, "kind": "after_action_review",
        "consent": {"basis": "consent", "scope": "federation", "subjects": SUBJECTS, **consent},
    }  # fmt: skip
    draft = draft_from_fields(front, "What we learned.\n", "test")
    intake = running.node.take_lesson(draft, "test", "admin", attachments=inputs)
    assert intake.record_id is not None
    return load_record(running.node.db, intake.record_id)
