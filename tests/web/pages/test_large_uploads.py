"""The lesson form takes files up to the node's attachment caps, not the 2 MiB of other forms:
read as it arrives, in memory, and refused with a clear message (413, nothing stored) as
soon as a cap is passed; the node keeps serving."""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
from collections.abc import AsyncIterator

import aiohttp
import pytest

from archive.blobs import BlobStore
from archive.queries import load_record
from node.node import Node
from node.web.app import MAX_REQUEST_BYTES, create_app
from node.web.uploads import UPLOAD_SLOTS, UploadSlots
from tests.attachment_files import pdf_with_metadata
from tests.web.conftest import (
    Client,
    ClientFactory,
    counts,
    page,
    redirected_to,
    signed_in,
    token,
)
from tests.web.pages.test_lesson_form import FORM

MIB = 1024 * 1024
FILE_CAP, LESSON_CAP = 4 * MIB, 6 * MIB


@pytest.fixture
def capped(members: Node) -> Node:
    members.config = dataclasses.replace(
        members.config, max_file_bytes=FILE_CAP, max_lesson_bytes=LESSON_CAP
    )
    return members


async def lesson_form(client: Client, files: list[tuple[str, bytes]]) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for name, value in FORM.items():
        form.add_field(name, value)
    form.add_field("csrf_token", await token(client, "/lessons/new"))
    for index, (filename, data) in enumerate(files):
        form.add_field(f"attachment_{index}", data, filename=filename,
                       content_type="application/octet-stream")  # fmt: skip
        form.add_field(f"attachment_{index}_subjects", "Heron")
    return form


async def refused(
    client: Client, node: Node, response: aiohttp.ClientResponse, then: str = "/lessons/new"
) -> str:
    """The refusal's text, after checking nothing was stored and the node still serves."""
    text = await response.text()
    assert response.status == 413, text[:500]
    assert "; nothing was stored" in text, text[text.find("<main") :][:1500]
    await page(client, then)  # the same node answers the next request
    return text


def refuse_temporary_files(*args: object, **kwargs: object) -> None:
    raise AssertionError("an upload was written to a temporary file")


async def test_a_file_over_2_mib_within_the_caps_is_taken(
    client: Client, capped: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    # aiohttp's own form reader writes each file to a temporary file: plaintext on the disk of
    # a sealed node. The lesson form is read into memory instead.
    monkeypatch.setattr(tempfile, "TemporaryFile", refuse_temporary_files)
    await signed_in(client, "ana")
    pdf = pdf_with_metadata(b"A" * (3 * MIB))
    assert MAX_REQUEST_BYTES < len(pdf) < FILE_CAP
    response = await client.post("/lessons/new", data=await lesson_form(client, [("big.pdf", pdf)]),
                                 allow_redirects=False)  # fmt: skip
    record_id = redirected_to(response).rsplit("/", 1)[1]
    (stored,) = load_record(capped.db, record_id).lesson.attachments
    assert stored.size > MAX_REQUEST_BYTES
    assert len(BlobStore.of(capped.db).read(stored.hash_hex)) == stored.size


async def test_a_file_over_the_cap_is_refused_as_it_arrives(client: Client, capped: Node) -> None:
    await signed_in(client, "ana")
    before = counts(capped)
    form = await lesson_form(client, [("huge.pdf", b"%PDF-" + bytes(FILE_CAP))])
    response = await client.post("/lessons/new", data=form, allow_redirects=False)
    text = await refused(client, capped, response)
    assert "huge.pdf: the file is over the limit of 4,194,304 bytes per file" in text
    two = [("a.pdf", b"%PDF-" + bytes(3 * MIB)), ("b.pdf", b"%PDF-" + bytes(3 * MIB + 1))]
    response = await client.post("/lessons/new", data=await lesson_form(client, two),
                                 allow_redirects=False)  # fmt: skip
    text = await refused(client, capped, response)
    assert "b.pdf: the files add up to more than the limit of 6,291,456 bytes per lesson" in text
    assert counts(capped) == before
    assert not list((capped.paths.root / "blobs").rglob("*.*"))


async def test_a_body_whose_length_is_over_the_cap_is_refused_before_it_is_read(
    client: Client, capped: Node
) -> None:
    await signed_in(client, "ana")
    before = counts(capped)
    form = await lesson_form(client, [("huge.pdf", b"%PDF-" + bytes(8 * MIB))])
    response = await client.post("/lessons/new", data=form, allow_redirects=False)
    text = await refused(client, capped, response)
    assert "over the limit of 7,340,032 (6,291,456 bytes of files per lesson" in text
    assert counts(capped) == before


async def test_a_chunked_body_without_a_length_is_counted_too(client: Client, capped: Node) -> None:
    await signed_in(client, "ana")
    form = await lesson_form(client, [("huge.pdf", b"%PDF-" + bytes(FILE_CAP))])
    body = form()  # the multipart payload, sent in chunks without Content-Length

    async def chunks() -> AsyncIterator[bytes]:
        buffer = _Buffer()
        await body.write(buffer)  # type: ignore[arg-type]
        data = bytes(buffer.data)
        for offset in range(0, len(data), MIB):
            yield data[offset : offset + MIB]

    response = await client.post(
        "/lessons/new", data=chunks(), headers={"Content-Type": body.content_type},
        allow_redirects=False,
    )  # fmt: skip
    text = await refused(client, capped, response)
    assert "huge.pdf: the file is over the limit of 4,194,304 bytes per file" in text


class _Buffer:
    def __init__(self) -> None:
        self.data = bytearray()

    async def write(self, chunk: bytes) -> None:
        self.data += chunk


async def test_other_forms_take_no_files_and_stay_small(visitor: Client, capped: Node) -> None:
    csrf = await token(visitor, "/signin")
    form = aiohttp.FormData({"csrf_token": csrf, "name": "ana", "password": "x"})
    form.add_field("extra", b"%PDF-" + bytes(1000), filename="x.pdf")
    response = await visitor.post("/signin", data=form, allow_redirects=False)
    assert response.status == 400
    assert "this form takes no files" in await response.text()
    big = aiohttp.FormData({"csrf_token": csrf, "name": "ana", "password": "x" * (2 * MIB)},
                           default_to_multipart=True)  # fmt: skip
    response = await visitor.post("/signin", data=big, allow_redirects=False)
    text = await refused(visitor, capped, response, then="/signin")
    assert "over the limit of 1,048,576; nothing was stored" in text


async def test_uploads_beyond_the_slots_wait_then_are_refused(
    aiohttp_client: ClientFactory, capped: Node
) -> None:
    """Files are held in memory: only so many lesson forms are received at once."""
    app = create_app(capped, background_sync=False)
    turns = UploadSlots.new(at_once=1, wait=0.2)
    app[UPLOAD_SLOTS] = turns
    client = await aiohttp_client(app)
    await signed_in(client, "ana")
    pdf = pdf_with_metadata(b"slow upload")
    body = (await lesson_form(client, [("slow.pdf", pdf)]))()
    buffer = _Buffer()
    await body.write(buffer)  # type: ignore[arg-type]
    go_on = asyncio.Event()

    async def trickle() -> AsyncIterator[bytes]:
        yield bytes(buffer.data[:1000])
        await go_on.wait()  # the first upload holds its turn until the test lets it go on
        yield bytes(buffer.data[1000:])

    first = asyncio.create_task(client.post(
        "/lessons/new", data=trickle(), headers={"Content-Type": body.content_type},
        allow_redirects=False,
    ))  # fmt: skip
    for _ in range(500):
        if turns.slots.locked():
            break
        await asyncio.sleep(0.01)
    assert turns.slots.locked(), "the first upload never started"
    form = await lesson_form(client, [("other.pdf", pdf_with_metadata(b"other"))])
    busy = await client.post("/lessons/new", data=form, allow_redirects=False)
    assert busy.status == 503
    assert "send the form again in a moment" in await busy.text()
    go_on.set()
    assert redirected_to(await first).startswith("/lessons/")
    again = await client.post("/lessons/new", data=form, allow_redirects=False)
    assert redirected_to(again).startswith("/lessons/")


async def test_the_form_says_the_limits_before_a_file_is_chosen(
    client: Client, members: Node
) -> None:
    await signed_in(client, "ana")
    text = await page(client, "/lessons/new")
    assert "Up to 25 MiB per file and 100 MiB for all the files of a lesson." in text
    members.config = dataclasses.replace(members.config, max_file_bytes=3 * MIB // 2)
    text = await page(client, "/lessons/new")
    assert "Up to 1.5 MiB per file and 100 MiB for all the files of a lesson." in text
