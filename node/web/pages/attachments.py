"""A lesson's attachments in the web UI: the files themselves, and thumbnails of photos.

Served by the node only, never hot-linked: a thumbnail is made here from the stored photo
(in a worker thread, never on the event loop). A file answers one byte range (``Range:
bytes=…``, 206) so a browser's ``<video>`` can seek (and Safari plays it at all). Every
answer names its media type from the signed record, forbids sniffing and runs in a
sandbox, so a file can never act as a page of the node; documents download rather than
open. Signed-in members only: a public reader of a
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
from node.export.attachments import EXTENSIONS
from node.node import Node
from node.web.access import public_only
from node.web.pages.common import html_page, readable

routes = web.RouteTableDef()
THUMBNAIL_PIXELS = 320
RANGE_CHUNK = 1024 * 1024  # read from the store (decrypted on a sealed node) a piece at a time
SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; media-src 'self'; sandbox",
    "Cache-Control": "private, max-age=3600",
    "Referrer-Policy": "no-referrer",
}


def attachment_items(node: Node, record_id: str) -> list[dict[str, Any]]:
    """What the lesson page shows for each attachment (node.attachment_words)."""
    return attachment_entries(node.db, record_id, node.now(), english=False)


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
    extension = EXTENSIONS.get(attachment.media_type, "bin")
    headers["Content-Disposition"] = (
        f'{disposition}; filename="{attachment.hash_hex[:12]}.{extension}"'
    )
    headers["Content-Type"] = attachment.media_type
    headers["Accept-Ranges"] = "bytes"
    asked = _byte_range(request, attachment.size)
    if asked is None:
        headers["Content-Range"] = f"bytes */{attachment.size}"
        return web.Response(status=416, headers=headers)
    first, last = asked
    # Through BlobStore, the one seam where encryption at rest of a sealed node plugs in.
    partial = "Range" in request.headers
    response = web.StreamResponse(status=206 if partial else 200, headers=headers)
    if partial:
        response.headers["Content-Range"] = f"bytes {first}-{last}/{attachment.size}"
    response.content_length = last - first + 1
    await response.prepare(request)
    for offset in range(first, last + 1, RANGE_CHUNK):
        length = min(RANGE_CHUNK, last + 1 - offset)
        await response.write(
            await asyncio.to_thread(store.read, attachment.hash_hex, offset, length)
        )
    await response.write_eof()
    return response


def _byte_range(request: web.Request, size: int) -> tuple[int, int] | None:
    """The first and last byte asked for (one range; the whole file without a Range), or
    None when the range cannot be served (416)."""
    if "Range" not in request.headers:
        return 0, size - 1
    try:
        asked = request.http_range  # one range only: several are refused below
    except ValueError:
        asked = None
    if asked is None or asked.step not in (None, 1):
        return None
    start, stop = asked.start, asked.stop
    if start is None:
        start = 0
    elif start < 0:  # bytes=-N: the last N bytes
        start = max(0, size + start)
    stop = size if stop is None else min(stop, size)
    if start >= stop:
        return None
    return start, stop - 1


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
