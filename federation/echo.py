"""The signed echo: "can my peers reach me at the address I gave them?"

A node cannot see itself from outside: its advertised URL may answer on the machine itself
and nowhere else (a firewall, a wrong host name, a router without the port forwarded). So it
asks a peer. The peer tries the URL **it has stored** for the asker (from pairing; never a URL
from the request, so it cannot be turned into an open proxy), with ``GET /healthz``, a short
deadline and no redirects, and answers with a statement signed by its node key in the
context ``rhizome/echo/v1``: both node ids, the URL tried, whether it answered, why not, the
time, and the asker's nonce (so an old answer cannot be replayed for a new question). Each
asker gets at most one echo a minute (``ECHO_EVERY``), and a node runs few at once
(``MAX_ECHOES``): a peer cannot make it knock on a door again and again. A peer can change
the address we store for it (federation/address.py), so a stored address inside our own
network (loopback, private, link-local) is not tried by a node that is itself on a public
address: the echo must not become a way to probe the answering hub's own machine or LAN.

Building and opening statements is sans-IO; :class:`EchoService` (the serving side) and
:func:`ask_echo` (``rhizome doctor``) do the HTTP. See docs/reference/federation-protocol.md.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
from dataclasses import dataclass, field

import aiohttp
from yarl import URL

from archive.key_store import current_key
from crypto.canonical import DecodeLimits, pack, unpack
from crypto.envelope import open_envelope, seal
from crypto.errors import CryptoError, InvalidNodeId
from crypto.node_id import public_key_from_node_id
from federation import endpoints, wire
from federation.client import PeerClient
from federation.errors import PeerProtocolError, PeerUnreachable, TooBusy
from federation.local import LocalNode
from federation.peers import Peer
from federation.rate import RateLimit

ECHO_CONTEXT = b"rhizome/echo/v1"
ECHO_VERSION = 1
ECHO_DEADLINE = 5.0  # seconds the peer waits for our /healthz
ECHO_EVERY = 60  # seconds: one echo per asker per minute
MAX_ECHOES = 4  # echoes a node runs at once, for all its peers together
NONCE_BYTES = 16
# The asker waits for the peer's probe and a little more for the answer itself.
ASK_DEADLINE = ECHO_DEADLINE + 10.0
_LIMITS = DecodeLimits(
    max_bytes=wire.MAX_ECHO_BYTES, max_str_len=wire.MAX_TEXT, max_bin_len=wire.MAX_ECHO_BYTES,
    max_array_len=8, max_map_len=0,
)  # fmt: skip


INTERNAL_WORDS = (
    "not tried: this address is inside the answering hub's own network (loopback or private), "
    "so no peer can reach you there; advertise a public address"
)


def _internal(url: str) -> bool:
    """Whether ``url`` names a host inside a machine's own network by its IP address (or
    ``localhost``). A host name is not resolved here: only literal addresses are judged."""
    host = (URL(url).host or "").strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local or (
        address.is_unspecified or address.is_reserved
    )


class InvalidEcho(PeerProtocolError):
    """An echo answer that is not a statement signed by the peer we asked, about us, for our
    question: forged, unsigned, replayed or garbled. Nothing it says is believed."""

    code = "invalid_echo"


@dataclass(frozen=True)
class EchoStatement:
    """What a peer signed: ``echoer`` tried ``url`` (its stored address of ``asker``) at
    ``at`` (Unix seconds); ``reached`` says whether ``/healthz`` answered, ``detail`` why."""

    echoer: str
    asker: str
    url: str
    reached: bool
    detail: str
    at: int
    nonce: bytes


def sign_statement(local: LocalNode, statement: EchoStatement) -> bytes:
    payload = pack(
        [
            ECHO_VERSION, statement.echoer, statement.asker, statement.url, statement.reached,
            statement.detail[: wire.MAX_TEXT], statement.at, statement.nonce,
        ]
    )  # fmt: skip
    return seal(local.identity, ECHO_CONTEXT, payload).raw


def open_statement(
    raw: bytes, *, echoer: str, asker: str, nonce: bytes, key: bytes | None = None
) -> EchoStatement:
    """Verify an echo answer: signed by ``echoer``'s current key ``key`` (its first key when
    None) in the echo context, naming ``echoer`` and ``asker``, for ``nonce``. An echo is
    about now, so a key ``echoer`` retired by a rotation does not count. Anything else is
    :class:`InvalidEcho`."""
    key = key or public_key_from_node_id(echoer)
    try:
        envelope = open_envelope(raw, ECHO_CONTEXT, _LIMITS)
        values = unpack(envelope.payload, _LIMITS)
        if not isinstance(values, list) or len(values) != 8 or values[0] != ECHO_VERSION:
            raise InvalidEcho("the echo statement is not version 1 of its format")
        _, signed_echoer, signed_asker, url, reached, detail, at, signed_nonce = values
    except (CryptoError, InvalidNodeId, ValueError, TypeError) as error:
        raise InvalidEcho(f"the echo answer does not verify: {error}") from error
    if envelope.signer != key or signed_echoer != echoer:
        raise InvalidEcho(
            "the echo answer is not signed by the current key of the peer that was asked"
        )
    if signed_asker != asker or signed_nonce != nonce:
        raise InvalidEcho("the echo answer is not about this question (another node or nonce)")
    if not (isinstance(url, str) and isinstance(reached, bool) and isinstance(detail, str)):
        raise InvalidEcho("the echo statement is malformed")
    if not isinstance(at, int) or isinstance(at, bool):
        raise InvalidEcho("the echo statement is malformed")
    return EchoStatement(echoer, asker, url, reached, detail, at, nonce)


@dataclass
class EchoService:
    """The serving side: rate-limited, bounded echoes of a peer's stored URL."""

    per_asker: RateLimit = field(default_factory=lambda: RateLimit(1, 1 / ECHO_EVERY))
    running: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(MAX_ECHOES))

    async def answer(self, local: LocalNode, peer: Peer, body: bytes) -> bytes:
        """Check the request, try ``peer``'s stored URL, answer with the signed statement."""
        request = wire.decode(endpoints.ECHO.request, body)
        if self.running.locked():
            raise TooBusy("too many echoes under way; try again shortly", 1)
        wait = self.per_asker.take(peer.node_id, local.clock())
        if wait > 0:
            raise TooBusy(f"one echo a minute: ask again in {round(wait)} s", wait)
        if _internal(peer.url) and not _internal(local.url):
            reached, detail = False, INTERNAL_WORDS
        else:
            async with self.running, aiohttp.ClientSession() as session:
                reached, detail = await probe(PeerClient(local, session), peer)
        statement = EchoStatement(
            local.node_id, peer.node_id, peer.url, reached, detail, local.now(), request["nonce"]
        )
        return wire.encode(endpoints.ECHO.answer, {"statement": sign_statement(local, statement)})


async def probe(
    client: PeerClient, peer: Peer, deadline: float = ECHO_DEADLINE
) -> tuple[bool, str]:
    """``GET /healthz`` at the URL stored for ``peer``, pinned to its node key as every
    federation connection is: whether the peer itself answered there, and in words."""
    try:
        status = await client.health(peer.node_id, peer.url, deadline)
    except PeerUnreachable as error:  # also: plain http refused, another key presented
        return False, str(error)
    if status != 200:
        return False, f"something answered there, but not a working hub (HTTP {status})"
    return True, "its /healthz answered"


async def ask_echo(client: PeerClient, peer: Peer) -> EchoStatement:
    """Ask ``peer`` to try our URL as it knows it; its verified, signed statement."""
    nonce = os.urandom(NONCE_BYTES)
    answer = await client.call(
        endpoints.ECHO, {"nonce": nonce}, recipient=peer.node_id, base_url=peer.url,
        deadline=ASK_DEADLINE,
    )  # fmt: skip
    local = client.local
    return open_statement(
        answer["statement"], echoer=peer.node_id, asker=local.node_id, nonce=nonce,
        key=current_key(local.db, peer.node_id),  # what its key history says signs for it now
    )  # fmt: skip
