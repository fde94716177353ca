"""A posted form, read once: a multipart form (the lesson form with its files) as it arrives,
within the node's attachment caps, and never onto the disk.

aiohttp's own ``request.post()`` reads a whole body up to the app's ``client_max_size``
(2 MiB, :data:`node.web.app.MAX_REQUEST_BYTES`) and writes every uploaded file to a temporary
file: plaintext on the disk, which a sealed node must never do. A multipart body is read here
instead, part by part, into memory:

- the ``Content-Length`` is checked before a byte is read: over the lesson cap (plus
  :data:`MAX_TEXT_BYTES` for the text fields) is refused at once;
- every part is counted as it arrives: one file over ``max_file_bytes``, all files over
  ``max_lesson_bytes`` or the text fields over :data:`MAX_TEXT_BYTES` stop the reading there
  (a chunked body without a length is refused the same way);
- the files stay in memory until the lesson is cleaned and stored (encrypted on a sealed
  node, by :class:`archive.blobs.BlobStore`).

At most :data:`UPLOADS_AT_ONCE` lesson forms are taken at once (:func:`upload_slot`), so the
memory uploads hold stays under that many times ``max_lesson_bytes``; another waits up to
:data:`UPLOAD_WAIT_SECONDS` for its turn, then is refused (503). A refusal is
:class:`UploadTooLarge` (413) and stores nothing; the server drains or closes the
rest of the body (``LINGER_SECONDS``) and goes on serving. The form is kept on the request, so
the CSRF check and the handler read it once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web
from multidict import MultiDict, MultiDictProxy

from crypto.errors import RhizomeError
from node.config import NodeConfig

MAX_TEXT_BYTES = 1024 * 1024  # every text field of a form together (a lesson is far below)
MAX_PARTS = 500  # fields of one form (the lesson form has about a hundred)
CHUNK_BYTES = 64 * 1024
FORM_KEY: web.RequestKey[MultiDictProxy[Any]] = web.RequestKey("posted_form", MultiDictProxy)
MULTIPART = "multipart/form-data"
UPLOADS_AT_ONCE = 2
UPLOAD_WAIT_SECONDS = 60.0
# The forms that carry files: only they read up to the attachment caps. Every other form
# (sign-in included, which anyone may post) takes no file and at most MAX_TEXT_BYTES.
UPLOAD_ROUTES = {"page_add_lesson", "page_save_version"}


class UploadTooLarge(RhizomeError):
    """The form's files are over this hub's attachment limits (per file and per lesson, in
    config.toml's [attachments] section); nothing was stored. Attach fewer or smaller files,
    or ask an admin to raise the limits."""

    http_status = 413
    code = "payload_too_large"


class UploadsBusy(RhizomeError):
    """Other lessons with files are being received right now; nothing was stored. Send the
    form again in a moment."""

    http_status = 503
    code = "uploads_busy"


@dataclass(frozen=True)
class UploadSlots:
    """How many lesson forms are taken at once, and how long another waits for a turn."""

    slots: asyncio.Semaphore
    wait_seconds: float

    @classmethod
    def new(cls, at_once: int = UPLOADS_AT_ONCE, wait: float = UPLOAD_WAIT_SECONDS) -> UploadSlots:
        return cls(asyncio.Semaphore(at_once), wait)


UPLOAD_SLOTS: web.AppKey[UploadSlots] = web.AppKey("upload_slots", UploadSlots)


@asynccontextmanager
async def upload_slot(request: web.Request) -> AsyncIterator[None]:
    """A turn to receive and store a lesson form with its files (the app's slots)."""
    turns = request.app[UPLOAD_SLOTS]
    try:
        await asyncio.wait_for(turns.slots.acquire(), turns.wait_seconds)
    except TimeoutError as error:
        raise UploadsBusy(
            "other lessons with files are being received; send the form again in a moment"
        ) from error
    try:
        yield
    finally:
        turns.slots.release()


class BadForm(RhizomeError):
    """The form could not be read (its parts are malformed, too many, or not text where text
    is expected); nothing was stored. Reload the page and send it again."""

    http_status = 400
    code = "bad_request"


@dataclass(frozen=True)
class UploadedFile:
    """A file of a posted form, in memory: its name (for messages only) and its bytes."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class UploadCaps:
    max_file_bytes: int
    max_lesson_bytes: int

    @classmethod
    def of(cls, request: web.Request, config: NodeConfig) -> UploadCaps:
        """The node's attachment caps on the lesson form; no files on any other form."""
        if request.match_info.route.name in UPLOAD_ROUTES:
            return cls(config.max_file_bytes, config.max_lesson_bytes)
        return cls(0, 0)

    @property
    def max_body_bytes(self) -> int:
        """A whole form: the files of one lesson, its text, and the multipart framing."""
        return self.max_lesson_bytes + MAX_TEXT_BYTES


async def posted_form(request: web.Request, config: NodeConfig) -> MultiDictProxy[Any]:
    """The posted form (read once per request): text fields as ``str``, files as
    :class:`UploadedFile`."""
    if FORM_KEY in request:
        return request[FORM_KEY]
    if request.content_type == MULTIPART:
        form: MultiDictProxy[Any] = await _multipart_form(request, UploadCaps.of(request, config))
    else:
        form = await request.post()  # a urlencoded form: within client_max_size
    request[FORM_KEY] = form
    return form


async def _multipart_form(request: web.Request, caps: UploadCaps) -> MultiDictProxy[Any]:
    length = request.content_length
    if length is not None and length > caps.max_body_bytes:
        detail = (
            f" ({caps.max_lesson_bytes:,} bytes of files per lesson, "
            f"{caps.max_file_bytes:,} per file)"
            if caps.max_file_bytes
            else ""
        )
        raise UploadTooLarge(
            f"the form is {length:,} bytes, over the limit of {caps.max_body_bytes:,}{detail}; "
            "nothing was stored"
        )
    try:
        reader = await request.multipart()
    except (ValueError, AssertionError) as error:  # no boundary, a bad header
        raise BadForm(f"the form cannot be read: {error}") from error
    form: MultiDict[Any] = MultiDict()
    files = text = 0
    while True:
        try:
            part = await reader.next()
        except ValueError as error:
            raise BadForm(f"the form cannot be read: {error}") from error
        if part is None:
            break
        if not isinstance(part, BodyPartReader) or part.name is None:
            raise BadForm("the form has a part without a field name")
        if len(form) >= MAX_PARTS:
            raise BadForm(f"the form has more than {MAX_PARTS} fields")
        if part.filename is None:
            data = await _read_part(part, MAX_TEXT_BYTES - text)
            if data is None:
                raise UploadTooLarge(
                    f"the form's text is over the limit of {MAX_TEXT_BYTES:,} bytes; "
                    "nothing was stored"
                )
            text += len(data)
            form.add(part.name, _decoded(part, data))
            continue
        if not caps.max_file_bytes:
            raise BadForm("this form takes no files")
        room = min(caps.max_file_bytes, caps.max_lesson_bytes - files)
        data = await _read_part(part, room)
        if data is None:
            raise _file_too_large(part.filename, room, caps)
        files += len(data)
        form.add(part.name, UploadedFile(part.filename, data))
    return MultiDictProxy(form)


def _file_too_large(filename: str, room: int, caps: UploadCaps) -> UploadTooLarge:
    if room < caps.max_file_bytes:
        return UploadTooLarge(
            f"{filename}: the files add up to more than the limit of "
            f"{caps.max_lesson_bytes:,} bytes per lesson; nothing was stored"
        )
    return UploadTooLarge(
        f"{filename}: the file is over the limit of {caps.max_file_bytes:,} bytes per file; "
        "nothing was stored"
    )


async def _read_part(part: BodyPartReader, room: int) -> bytes | None:
    """The part's bytes, or None as soon as they pass ``room`` (the rest is not read)."""
    data = bytearray()
    while chunk := await part.read_chunk(CHUNK_BYTES):
        data += chunk
        if len(data) > room:
            return None
    return bytes(data)


def _decoded(part: BodyPartReader, data: bytes) -> str:
    try:
        return data.decode(part.get_charset(default="utf-8"))
    except (LookupError, UnicodeDecodeError) as error:
        raise BadForm(f"the field {part.name} is not text") from error
