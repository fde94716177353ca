"""A hand-driven HTTP/1.1 client on a plain socket: headers that lie, bodies that trickle,
and a record of how much of the body was sent when the answer came."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import Any

from tests.tls_helpers import any_node_tls

LOOPBACK = "127.0.0.1"


@dataclass
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes
    body_bytes_sent: int  # how much of the request body had gone out when the answer came

    def error(self) -> dict[str, Any]:
        """The node's one error shape, checked; its inner object."""
        assert self.headers.get("content-type", "").startswith("application/json"), self
        parsed = json.loads(self.body)
        assert set(parsed) == {"error"}, parsed
        error = dict(parsed["error"])
        assert set(error) == {"status", "code", "message"} and error["status"] == self.status
        return error


def request_head(port: int, method: str, target: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {LOOPBACK}:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    status_line, *lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in lines if line)
    }
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return int(status_line.split()[1]), headers, body


async def post_until_answered(
    port: int,
    target: str,
    headers: dict[str, str],
    body_size: int,
    *,
    piece: int = 64 * 1024,
    local_address: str | None = None,
    answer_within: float = 20.0,
) -> RawAnswer:
    """POST a body of ``body_size`` zero bytes (declared in Content-Length), sending it piece
    by piece while listening: stops sending as soon as the server answers."""
    reader, writer = await asyncio.open_connection(
        LOOPBACK, port, ssl=any_node_tls(), local_addr=(local_address, 0) if local_address else None
    )
    sent = 0
    head = {**headers, "Content-Length": str(body_size), "Connection": "close"}
    writer.write(request_head(port, "POST", target, head))
    chunk = bytes(piece)

    async def send_body() -> None:
        nonlocal sent
        while sent < body_size:
            part = chunk[: min(piece, body_size - sent)]
            writer.write(part)
            await writer.drain()
            sent += len(part)

    sending = asyncio.create_task(send_body())
    try:
        async with asyncio.timeout(answer_within):
            status, answer_headers, body = await read_answer(reader)
        return RawAnswer(status, answer_headers, body, sent)
    finally:
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError, OSError):
            await sending
        writer.transport.abort()
