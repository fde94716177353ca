"""Reading a whole HTTP body with a cap, for both our server and our client.

``StreamReader.read(n)`` returns what has arrived so far, not ``n`` bytes, so a body must be
read chunk by chunk until the end; the cap is checked as the chunks come, so an endless or
oversized body costs at most the limit.
"""

from __future__ import annotations

from aiohttp import StreamReader

CHUNK = 256 * 1024


class BodyOverLimit(Exception):
    """The body went past the cap (the caller turns this into its own error)."""


async def read_capped(stream: StreamReader, limit: int) -> bytes:
    """The whole body, or :class:`BodyOverLimit` as soon as it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await stream.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise BodyOverLimit(size)
        chunks.append(chunk)
    return b"".join(chunks)
