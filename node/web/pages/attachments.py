"""A lesson's attachments in the web UI: the files themselves, and thumbnails of photos.

Served by the node only, never hot-linked: a thumbnail is made here from the stored photo
(in a worker thread, never on the event loop). Every answer names its media type from the
signed record, forbids sniffing and runs in a sandbox, so a file can never act as a page of
the node; documents download rather than open. Signed-in members only: a public reader of a
public lesson does not get its photos (they show people).
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

from aiohttp import web

from archive.attachment import Attachment
from archive.blobs import BlobStore
from archive.errors import UnknownRecord
from archive.queries import load_record
from node.attachment_words import attachment_entries
from node.node import Node
from node.web.access import public_only
from node.web.pages.common import html_page, readable

routes = web.RouteTableDef()
THUMBNAIL_PIXELS = 320
SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; media-src 'self'; sandbox",
    "Cache-Control": "private, max-age=3600",
    "Referrer-Policy": "no-referrer",
}


def attachment_items(node: Node, record_id: str) -> list[dict[str, Any]]:
    """What the lesson page shows for each attachment (node.attachment_words)."""
    return attachment_entries(node.db, record_id, node.now())


async def _attachment(request: web.Request) -> tuple[Node, Attachment, BlobStore]:
    node = await readable(request)
    if public_only(request):
        raise web.HTTPNotFound(text="sign in to see a lesson's attachments")
    record_id = node.resolve_id(request.match_info["id"])
    digest = request.match_info["hash"]
    lesson = load_record(node.db, record_id).lesson
    attachment = next((a for a in lesson.attachments if a.hash_hex == digest), None)
    store = BlobStore.of(node.db)
    if attachment is None or not store.has(digest):
        raise UnknownRecord("this lesson has no such attachment here (withdrawn or not fetched)")
    return node, attachment, store


@routes.get("/lessons/{id}/attachments/{hash}", name="page_attachment")
@html_page
async def attachment_file(request: web.Request) -> web.StreamResponse:
    _, attachment, store = await _attachment(request)
    headers = dict(SAFE_HEADERS)
    disposition = "attachment" if attachment.kind == "document" else "inline"
    extension = attachment.media_type.rsplit("/", 1)[1]
    headers["Content-Disposition"] = (
        f'{disposition}; filename="{attachment.hash_hex[:12]}.{extension}"'
    )
    headers["Content-Type"] = attachment.media_type
    # Through BlobStore, the one seam where encryption at rest of a sealed node plugs in.
    response = web.StreamResponse(headers=headers)
    response.content_length = attachment.size
    await response.prepare(request)
    chunks = store.stream(attachment.hash_hex)
    try:
        while chunk := await asyncio.to_thread(next, chunks, b""):
            await response.write(chunk)
    finally:
        chunks.close()  # the file is closed even when the reader went away
    await response.write_eof()
    return response


@routes.get("/lessons/{id}/attachments/{hash}/thumbnail", name="page_thumbnail")
@html_page
async def thumbnail(request: web.Request) -> web.StreamResponse:
    _, attachment, store = await _attachment(request)
    if attachment.kind != "image":
        raise web.HTTPNotFound(text="only photos have thumbnails")
    data = await asyncio.to_thread(make_thumbnail, store.read(attachment.hash_hex))
    return web.Response(body=data, content_type="image/jpeg", headers=SAFE_HEADERS)


def make_thumbnail(data: bytes) -> bytes:
    """A small JPEG of a stored (already cleaned) photo."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.thumbnail((THUMBNAIL_PIXELS, THUMBNAIL_PIXELS))
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=80)
    return out.getvalue()
