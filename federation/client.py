"""The HTTP client side of federation: signed msgpack POSTs to a peer.

Every request is signed with the node key (RFC 9421, see ``crypto.http_signatures``); every
answer is size-capped before it is read and checked against its schema before it is used.
"""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any

import aiohttp
from aiohttp.abc import AbstractStreamWriter
from aiohttp.payload import BytesPayload
from yarl import URL

from crypto.http_signatures import sign_request
from crypto.tls_certificate import FEDERATION_SERVER_NAME
from federation import wire
from federation.bodies import BodyOverLimit, read_capped
from federation.endpoints import Endpoint
from federation.errors import PeerProtocolError, PeerRefused, PeerUnreachable
from federation.local import LocalNode
from federation.tls_pin import (
    NOT_PINNED_WORDS,
    NodeKeyPin,
    PeerNotPinned,
    federation_url,
    pin_for,
)

MSGPACK = "application/msgpack"
REQUEST_DEADLINE = 30.0
MAX_RETRY_AFTER = 24 * 3600  # a peer's Retry-After is honoured up to a day


class PeerClient:
    """Talks to peers on behalf of ``local``; the caller owns and closes ``session``."""

    def __init__(
        self, local: LocalNode, session: aiohttp.ClientSession, deadline: float = REQUEST_DEADLINE
    ) -> None:
        self.local = local
        self.session = session
        self.deadline = deadline
        # (peer, path) -> the time before which the peer asked us not to send again (its
        # Retry-After): sending anyway would be refused again, and may earn us a strike.
        self.not_before: dict[tuple[str, str], float] = {}

    async def call(
        self,
        endpoint: Endpoint,
        values: dict[str, Any],
        *,
        recipient: str,
        base_url: str,
        deadline: float | None = None,
        extra_headers: dict[str, str] | None = None,
        sent: asyncio.Event | None = None,
        tls_keys: frozenset[bytes] | None = None,
    ) -> dict[str, Any]:
        """POST ``values`` as ``endpoint``'s request to the node ``recipient`` at
        ``base_url``; its answer, decoded and checked.

        ``sent`` is set once the whole body is handed to the connection (or the call ended
        without it): a caller can then do blocking work while the peer prepares the answer.

        ``deadline`` overrides the client's for one call that is known to take longer;
        ``extra_headers`` go out unsigned (the receiver checks them against the body).
        ``tls_keys``: the keys the other end may present, when we hold no history of it yet
        (pairing with a node that rotated: its invite code names its current key)."""
        if tls_keys is None:
            pin = pin_for(recipient, self.local.db)
        else:
            pin = NodeKeyPin(recipient, tls_keys)
        try:
            return await self._call(endpoint, values, recipient, base_url, deadline,
                                    extra_headers or {}, sent, pin)  # fmt: skip
        finally:
            if sent is not None:
                sent.set()  # never leave a caller waiting for a request that will not go

    async def _call(
        self,
        endpoint: Endpoint,
        values: dict[str, Any],
        recipient: str,
        base_url: str,
        deadline: float | None,
        extra_headers: dict[str, str],
        sent: asyncio.Event | None,
        pin: NodeKeyPin,
    ) -> dict[str, Any]:
        path = endpoint.path
        wait = self.not_before.get((recipient, path), 0.0) - self.local.clock()
        if wait > 0:
            raise PeerRefused(
                429,
                "retry_later",
                f"the peer asked us to wait {math.ceil(wait)} s more; sync retries",
            )
        # Before anything is built or signed: never plain http to another machine.
        base_url = federation_url(base_url, allow_plain_http=self.local.allow_plain_http)
        url = base_url.rstrip("/") + path
        body = wire.encode(endpoint.request, values)
        headers = sign_request(
            self.local.identity, "POST", url, body, created=self.local.now(), recipient=recipient
        )
        headers["Content-Type"] = MSGPACK
        headers.update(extra_headers)
        payload = body if sent is None else _SignalledBody(body, sent)
        try:
            async with asyncio.timeout(deadline or self.deadline):
                # encoded=True: send the URL exactly as signed, without yarl re-encoding it.
                target = URL(url, encoded=True)
                # ssl=: the connector checks the peer's key right after the handshake,
                # before the request is written (federation.tls_pin); unused for http.
                async with self.session.post(
                    target,
                    data=payload,
                    headers=headers,
                    ssl=pin,
                    server_hostname=FEDERATION_SERVER_NAME,
                ) as response:
                    data = await _read_capped(response)
                    status = response.status
                    retry_after = response.headers.get("Retry-After", "")
        except aiohttp.ServerFingerprintMismatch as error:
            raise PeerNotPinned(f"{base_url}: {NOT_PINNED_WORDS}") from error
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise PeerUnreachable(f"{base_url}: {no_answer_words(error)}") from error
        if status >= 400:
            if retry_after.isdigit() and status in (429, 503, 507):
                seconds = min(int(retry_after), MAX_RETRY_AFTER)
                self.not_before[(recipient, path)] = self.local.clock() + seconds
            raise _refusal(status, data)
        return wire.decode(endpoint.answer, data)

    async def health(self, recipient: str, base_url: str, deadline: float) -> int:
        """``GET /healthz`` of the node ``recipient`` at ``base_url``, over the same checked
        transport as :meth:`call`; its HTTP status. No redirect is followed (the signed
        echo, federation/echo.py, must knock on this one address only)."""
        base_url = federation_url(base_url, allow_plain_http=self.local.allow_plain_http)
        url = base_url.rstrip("/") + "/healthz"
        try:
            async with (
                asyncio.timeout(deadline),
                self.session.get(
                    URL(url, encoded=True), allow_redirects=False,
                    ssl=pin_for(recipient, self.local.db),
                    server_hostname=FEDERATION_SERVER_NAME,
                ) as response,
            ):  # fmt: skip
                return response.status
        except aiohttp.ServerFingerprintMismatch as error:
            raise PeerNotPinned(f"{base_url}: {NOT_PINNED_WORDS}") from error
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise PeerUnreachable(f"{base_url}: {no_answer_words(error)}") from error


class _SignalledBody(BytesPayload):
    """A request body that sets ``sent`` once aiohttp has written all of it."""

    def __init__(self, body: bytes, sent: asyncio.Event) -> None:
        super().__init__(body, content_type=MSGPACK)
        self._sent = sent

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        await super().write_with_length(writer, content_length)
        self._sent.set()

    async def write(self, writer: AbstractStreamWriter) -> None:  # aiohttp before 3.12
        await super().write(writer)
        self._sent.set()


def no_answer_words(error: BaseException) -> str:
    """Why a call got no answer, in words an operator can act on."""
    if isinstance(error, TimeoutError):
        return "no answer in time: the hub may be down, overloaded or far away; sync retries"
    if isinstance(error, aiohttp.ClientConnectorDNSError):
        return "this host name cannot be found: check the address for typos"
    if isinstance(error, aiohttp.ClientSSLError):
        return (
            "the secure connection failed (the other end may not speak TLS, or something on "
            "the way refuses it): check that the address is the hub's https:// address"
        )
    if isinstance(error, aiohttp.ClientConnectorError):
        return "nothing answers at this address: is the other hub's node running?"
    return f"the connection broke ({type(error).__name__}); sync retries later"


async def _read_capped(response: aiohttp.ClientResponse) -> bytes:
    try:
        return await read_capped(response.content, wire.MAX_BODY_BYTES)
    except BodyOverLimit as error:
        raise PeerProtocolError("the peer's answer is larger than the limit") from error


def _refusal(status: int, data: bytes) -> PeerRefused:
    try:
        error = json.loads(data)["error"]
        return PeerRefused(status, str(error["code"]), str(error["message"]))
    except (ValueError, KeyError, TypeError):
        return PeerRefused(status, "http_error", data[:200].decode("utf-8", "replace"))
