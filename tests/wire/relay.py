"""A TCP relay on loopback between two real nodes: what someone on the network path sees.

One :class:`Relay` listens on 127.0.0.1 (an ephemeral port) and passes every connection on
to one node's port. The nodes reach each other through it because the peer URL a node
stores at pairing is the relay's address (``scheme`` says whether that URL is https:// or
http://). Every byte that crosses the wire between the client and the relay, both ways, is
kept in ``captured``: what an eavesdropper records. How it passes bytes on:

- to an ``https://`` client with no TLS context of its own: blind, byte for byte, both
  ways (the eavesdropper on a TLS connection);
- ``client_tls``: it ends the client's TLS itself with this server context: a man in the
  middle with a certificate of its own; or, to drop chosen answers, the real node's own
  certificate (the test playing a lossy network it can see into);
- ``upstream_tls``: it speaks TLS to the real node (checking nothing, as an attacker
  would). Without ``client_tls``, it then speaks plain HTTP to a client that was told
  ``https://``: a downgrade.

Whenever it reads the client's bytes in the clear (plain HTTP, or TLS it ended) they are
kept in ``plaintext``, and it relays HTTP/1.1 exchanges one at a time
(``plaintext_requests``): it can drop the answer to a chosen path (``drop_answer``), after
the node handled the request and before the first byte of the answer reaches the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from crypto.tls_certificate import certificate_pem, encrypted_private_key_pem, make_certificate

LOOPBACK = "127.0.0.1"
HEAD_LIMIT = 64 * 1024
TLS_HANDSHAKE = 0x16  # the first byte of a TLS ClientHello record
NOT_HTTP_ANSWER = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


@dataclass
class Relay:
    target_port: int
    scheme: str = "http"  # what the client is told it talks to (the stored peer URL)
    client_tls: ssl.SSLContext | None = None
    upstream_tls: ssl.SSLContext | None = None
    server: asyncio.Server | None = None
    # Every byte that crossed the wire between the client and the relay, both ways.
    captured: bytearray = field(default_factory=bytearray)
    # Every byte the relay read from the client in the clear (after a TLS handshake it
    # terminated, or on a plain connection), and the HTTP requests among them.
    plaintext: bytearray = field(default_factory=bytearray)
    plaintext_requests: list[tuple[str, bytes]] = field(default_factory=list)
    connections: int = 0
    handshakes: int = 0  # TLS handshakes the relay completed with the client
    errors: list[str] = field(default_factory=list)  # how client connections ended badly
    drop_answers: dict[str, int] = field(default_factory=dict)  # path -> answers left to drop
    dropped: list[str] = field(default_factory=list)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"{self.scheme}://{LOOPBACK}:{self.port}"

    @property
    def reads_http(self) -> bool:
        """Whether the client speaks plaintext HTTP to the relay (or TLS the relay ends)."""
        return self.client_tls is not None or self.upstream_tls is not None or self.scheme == "http"

    def drop_answer(self, path: str, times: int = 1) -> None:
        """Lose the next ``times`` answers to requests for ``path`` (after they were handled)."""
        self.drop_answers[path] = self.drop_answers.get(path, 0) + times

    async def start(self) -> Relay:
        self.server = await asyncio.start_server(self._accept, LOOPBACK, 0)
        return self

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)  # type: ignore[arg-type]
        self.connections += 1
        try:
            if self.client_tls is not None:
                # TLS ends here: the client's handshake is with the relay's certificate.
                await writer.start_tls(self.client_tls, ssl_handshake_timeout=10)
                self.handshakes += 1
            if self.reads_http:
                await self._http(reader, writer)
            else:
                await self._blind(reader, writer)
        except (ConnectionError, OSError, ssl.SSLError, asyncio.IncompleteReadError) as error:
            self.errors.append(repr(error))
        finally:
            writer.close()

    async def _upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(LOOPBACK, self.target_port, ssl=self.upstream_tls)

    async def _blind(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await self._upstream()
        pumps = [
            asyncio.create_task(self._pump(reader, up_writer)),
            asyncio.create_task(self._pump(up_reader, writer)),
        ]
        await asyncio.gather(*pumps, return_exceptions=True)

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                self.captured += data
                sink.write(data)
                await sink.drain()
        except (ConnectionError, OSError, ssl.SSLError):
            pass
        finally:
            sink.close()

    async def _http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Relay HTTP/1.1 exchanges one by one, reading each request and answer whole."""
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            while True:
                request = await _read_message(reader)
                if request is None:
                    return
                self.plaintext += request
                if self.client_tls is None:
                    self.captured += request
                line = request.split(b"\r\n", 1)[0].decode("latin-1")
                if not line.endswith(("HTTP/1.1", "HTTP/1.0")):
                    # Not HTTP (a TLS hello sent to a plain relay): answer as a plain server.
                    writer.write(NOT_HTTP_ANSWER)
                    await writer.drain()
                    return
                method, path = line.split(" ")[:2]
                self.plaintext_requests.append((f"{method} {path}", request))
                if upstream is None:
                    upstream = await self._upstream()
                upstream[1].write(request)
                await upstream[1].drain()
                answer = await _read_message(upstream[0])
                if answer is None:
                    return
                if self.drop_answers.get(path, 0) > 0:
                    self.drop_answers[path] -= 1
                    self.dropped.append(path)
                    return  # handled there, lost here
                if self.client_tls is None:
                    self.captured += answer
                writer.write(answer)
                await writer.drain()
        finally:
            if upstream is not None:
                upstream[1].close()

    async def settled(self) -> None:
        """Wait until every connection the relay took has ended (its counts are final)."""
        async with asyncio.timeout(10):
            while pending := [task for task in self.tasks if not task.done()]:
                await asyncio.wait(pending)

    async def close(self) -> None:
        for task in list(self.tasks):
            if task is not asyncio.current_task():
                task.cancel()
        for task in list(self.tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


async def _read_message(reader: asyncio.StreamReader) -> bytes | None:
    """One HTTP/1.1 message (head and a Content-Length body), or None at the end of the
    stream. A TLS hello comes back as the bytes read so far."""
    first = await reader.read(1)
    if not first:
        return None
    if first[0] == TLS_HANDSHAKE:
        return first + await reader.read(HEAD_LIMIT)
    try:
        head = first + await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as partial:
        return first + partial.partial
    except asyncio.LimitOverrunError:
        return await reader.read(HEAD_LIMIT)
    length = 0
    for header in head.split(b"\r\n")[1:]:
        name, _, value = header.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
        if name.strip().lower() == b"transfer-encoding":
            raise AssertionError("the relay reads Content-Length bodies only")
    return head + (await reader.readexactly(length) if length else b"")


OpenRelay = Callable[..., Awaitable[Relay]]


@pytest.fixture
async def relays() -> AsyncIterator[OpenRelay]:
    """``await relays(port, **options)`` opens a :class:`Relay` to ``port``; closed at the end."""
    opened: list[Relay] = []

    async def open_relay(target_port: int, **options: Any) -> Relay:
        relay = await Relay(target_port, **options).start()
        opened.append(relay)
        return relay

    try:
        yield open_relay
    finally:
        for relay in opened:
            await relay.close()


def attacker_client_context() -> ssl.SSLContext:
    """TLS towards the real node that checks nothing: the attacker does not care who it is."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def own_certificate_context(folder: Path) -> ssl.SSLContext:
    """A TLS server context with a certificate of the attacker's own, made exactly as a node
    makes its own (self-signed, Ed25519), from a fresh key: all it lacks is the peer's key."""
    seed = os.urandom(32)
    certificate = folder / "attacker-certificate.pem"
    key = folder / "attacker-key.pem"
    certificate.write_bytes(certificate_pem(make_certificate(seed)))
    key.write_bytes(encrypted_private_key_pem(seed, b"attacker"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key, password=b"attacker")
    return context
