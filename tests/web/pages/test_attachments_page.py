"""The lesson page shows its attachments: thumbnails and files served by the node itself,
with what was removed and whether each may leave; never to a visitor who has not signed in."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from archive.attachment_intake import AttachmentInput
from archive.lesson_file import draft_from_fields
from archive.queries import load_record
from node.node import Node
from tests.attachment_files import GPS_CANARY, jpeg_with_gps, tagged_mp3
from tests.web.conftest import Client, page

SUBJECTS = [
    {"pseudonym": "Heron", "share": True, "photographed": False, "recorded": True},
    {"pseudonym": "Kite", "share": True, "photographed": True},
]


def lesson_with_files(node: Node) -> tuple[str, list[str]]:
    consent = {"basis": "consent", "scope": "federation", "subjects": SUBJECTS}
    front = {"title": "River drill", "kind": "after_action_review", "consent": consent}
    draft = draft_from_fields(front, "What we learned.\n", "test")
    files = [
        AttachmentInput("kite.jpg", jpeg_with_gps((400, 300)), "Kite crossing", ("Kite",)),
        AttachmentInput("debrief.mp3", tagged_mp3(), "Debrief", ("Heron",)),
        AttachmentInput("heron.jpg", jpeg_with_gps((50, 40)), "Heron", ("Heron",)),
    ]
    intake = node.take_lesson(draft, "test", "admin", attachments=files)
    assert intake.record_id is not None
    attached = load_record(node.db, intake.record_id).lesson.attachments
    return intake.record_id, [attachment.hash_hex for attachment in attached]


async def test_the_page_shows_thumbnails_audio_and_why_a_photo_stays(
    client: Client, members: Node, tmp_path: Path
) -> None:
    record_id, (kite, debrief, _) = lesson_with_files(members)
    text = await page(client, f"/lessons/{record_id}")
    assert f'src="/lessons/{record_id}/attachments/{kite}/thumbnail"' in text
    assert (
        f'<audio controls preload="none" src="/lessons/{record_id}/attachments/{debrief}">' in text
    )
    assert "the photo stays: Heron did not agree to be photographed" in text
    assert "GPS location" in text  # what was removed is said
    thumb = await client.get(f"/lessons/{record_id}/attachments/{kite}/thumbnail")
    assert thumb.status == 200 and thumb.content_type == "image/jpeg"
    assert thumb.headers["X-Content-Type-Options"] == "nosniff"
    with Image.open(io.BytesIO(await thumb.read())) as small:
        assert max(small.size) <= 320
    full = await client.get(f"/lessons/{record_id}/attachments/{kite}")
    body = await full.read()
    assert full.status == 200 and full.content_type == "image/jpeg"
    assert GPS_CANARY not in body
    audio = await client.get(f"/lessons/{record_id}/attachments/{debrief}")
    assert audio.status == 200 and audio.content_type == "audio/mpeg"


async def test_a_visitor_and_a_wrong_hash_get_no_file(
    client: Client, visitor: Client, members: Node
) -> None:
    record_id, (kite, _, _) = lesson_with_files(members)
    anonymous = await visitor.get(f"/lessons/{record_id}/attachments/{kite}", allow_redirects=False)
    assert anonymous.status in (302, 303, 401)
    missing = await client.get(f"/lessons/{record_id}/attachments/{'0' * 64}")
    assert missing.status == 404
