"""The lesson page shows its attachments: thumbnails and files served by the node itself,
with what was removed and whether each may leave; never to a visitor who has not signed in."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import aiohttp
from PIL import Image

from archive.attachment_intake import AttachmentInput
from archive.blobs import BlobStore
from archive.lesson_file import draft_from_fields
from archive.queries import load_record
from node.node import Node
from tests.attachment_files import (
    GPS_CANARY,
    VIDEO_CANARIES,
    jpeg_with_gps,
    tagged_mp3,
    video_with_canaries,
)
from tests.web.conftest import Client, counts, page, post, redirected_to, signed_in, token
from tests.web.pages.test_lesson_form import FORM

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


async def upload(
    client: Client, files: list[tuple[str, str, bytes, str, str]], **fields: str
) -> Any:
    """Post the lesson form with files, as a browser does (multipart, CSRF from the page)."""
    form = aiohttp.FormData()
    for name, value in {**FORM, **fields}.items():
        form.add_field(name, value)
    form.add_field("csrf_token", await token(client, "/lessons/new"))
    for index, (filename, content_type, data, caption, people) in enumerate(files):
        form.add_field(f"attachment_{index}", data, filename=filename, content_type=content_type)
        form.add_field(f"attachment_{index}_caption", caption)
        form.add_field(f"attachment_{index}_subjects", people)
    return await client.post("/lessons/new", data=form, allow_redirects=False)


async def test_the_form_uploads_a_photo_cleaned_and_an_edit_keeps_it(
    client: Client, members: Node
) -> None:
    await signed_in(client, "ana")
    photo = ("drill.jpg", "image/jpeg", jpeg_with_gps(), "At the river", "Heron")
    response = await upload(client, [photo], subject_0_photographed="on")
    record_id = redirected_to(response).rsplit("/", 1)[1]
    (stored,) = load_record(members.db, record_id).lesson.attachments
    assert stored.caption == "At the river" and stored.subjects == ("Heron",)
    assert GPS_CANARY not in BlobStore.of(members.db).read(stored.hash_hex)
    edited = await post(
        client, f"/lessons/{record_id}/edit", {**FORM, "subject_0_photographed": "on",
                                                 "title": "Buddy pairs, revised"},
        from_page=f"/lessons/{record_id}/edit",
    )  # fmt: skip
    new_id = redirected_to(edited).rsplit("/", 1)[1]
    assert load_record(members.db, new_id).lesson.attachments == (stored,)


async def test_a_refused_upload_stores_nothing_and_says_why(client: Client, members: Node) -> None:
    await signed_in(client, "ana")
    before = counts(members)
    fake = ("photo.jpg", "image/jpeg", b"<script>not a photo</script>", "", "")
    response = await upload(client, [fake])
    assert response.status == 400
    assert "not a JPEG" in await response.text()
    assert counts(members) == before
    stranger = ("x.jpg", "image/jpeg", jpeg_with_gps(), "", "Egret")
    response = await upload(client, [stranger])
    assert "no entry in consent.subjects" in await response.text()
    assert counts(members) == before
    assert not list((members.paths.root / "blobs").rglob("*.*"))


async def test_a_video_uploads_cleaned_and_plays_from_the_node(
    client: Client, members: Node
) -> None:
    await signed_in(client, "ana")
    video = ("drill.mp4", "video/mp4", video_with_canaries(), "The drill", "Heron")
    response = await upload(client, [video], subject_0_photographed="on")
    record_id = redirected_to(response).rsplit("/", 1)[1]
    (stored,) = load_record(members.db, record_id).lesson.attachments
    assert stored.kind == "video" and stored.media_type == "video/mp4"
    lesson_page = await client.get(f"/lessons/{record_id}")
    text = await lesson_page.text()
    source = f'<source src="/lessons/{record_id}/attachments/{stored.hash_hex}" type="video/mp4">'
    assert '<video controls preload="metadata">' + source in text  # served here, not linked
    assert "media-src 'self'" in lesson_page.headers["Content-Security-Policy"]
    assert "GPS location" in text and "device make and model" in text  # what was removed
    assert "the video may go with the lesson: Heron agreed" in text
    served = await client.get(f"/lessons/{record_id}/attachments/{stored.hash_hex}")
    body = await served.read()
    assert served.status == 200 and served.content_type == "video/mp4"
    assert served.headers["Accept-Ranges"] == "bytes"
    assert all(canary not in body for canary in VIDEO_CANARIES)
    assert body == BlobStore.of(members.db).read(stored.hash_hex)


async def test_a_file_answers_one_byte_range_so_a_video_can_seek(
    client: Client, members: Node
) -> None:
    record_id, (kite, _, _) = lesson_with_files(members)
    path = f"/lessons/{record_id}/attachments/{kite}"
    whole = await (await client.get(path)).read()
    size = len(whole)
    for asked, first, last in (("bytes=0-99", 0, 99), ("bytes=100-", 100, size - 1),
                               ("bytes=-10", size - 10, size - 1),
                               (f"bytes=5-{size + 50}", 5, size - 1)):  # fmt: skip
        part = await client.get(path, headers={"Range": asked})
        assert part.status == 206, asked
        assert part.headers["Content-Range"] == f"bytes {first}-{last}/{size}"
        assert await part.read() == whole[first : last + 1]
    for asked in (f"bytes={size}-", "bytes=9-3", "bytes=0-1,5-9", "pages=1"):
        refused = await client.get(path, headers={"Range": asked})
        assert refused.status == 416, asked
        assert refused.headers["Content-Range"] == f"bytes */{size}"
        assert await refused.read() == b""


async def test_a_renamed_script_is_not_taken_as_a_video(client: Client, members: Node) -> None:
    await signed_in(client, "ana")
    before = counts(members)
    script = ("drill.mp4", "video/mp4", b"#!/bin/sh\nrm -rf ~\n", "", "")
    response = await upload(client, [script])
    assert response.status == 400
    assert "read from the file&#39;s bytes, not its name" in await response.text()
    assert counts(members) == before
    assert not list((members.paths.root / "blobs").rglob("*.*"))
