"""Federation routes under ``/federation/v1/``: thin aiohttp adapters.

Each request is checked at the edge, cheapest first: media type (415); when the signature
claims a node id, that it is an active peer (403), before anything is read or remembered;
the concurrency limit of that peer and address (429); the size (413, checked as the body
arrives) within the deadline (503); the signature (401); and that the verified signer is an
active peer (403). Only then does the sans-IO :class:`FederationResponder` see the body.
Strangers may only call ``pair``, a few at a time. Errors use the node's one JSON error shape.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from crypto.errors import InvalidNodeId
from crypto.http_signatures import ReplayGuard, verify_request
from crypto.node_id import normalize_node_id
from federation import wire
from federation.bodies import BodyOverLimit, read_capped
from federation.errors import (
    BodyTooLarge,
    DeadlineExceeded,
    NotAPeer,
    TooBusy,
    UnsupportedMediaType,
)
from federation.peers import Peer, get_peer
from federation.responder import FederationResponder

MSGPACK = "application/msgpack"
REQUEST_DEADLINE = 30.0
MAX_CONCURRENT_PER_PEER = 4
MAX_SLOTS = 1_000
MAX_PAIRING = 4
MAX_PAIRING_REMEMBERED = 10_000


@dataclass
class FederationGate:
    """State the routes share: the responder, the replay memory, per-peer slots, news."""

    responder: FederationResponder
    replay_guard: ReplayGuard = field(default_factory=ReplayGuard)
    slots: dict[str, asyncio.Semaphore] = field(default_factory=dict)
    # Strangers may only try to pair: few at once, and with a replay memory of their own so
    # they can never crowd out the one peers use.
    pairing: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(MAX_PAIRING))
    pairing_replay_guard: ReplayGuard = field(
        default_factory=lambda: ReplayGuard(max_entries=MAX_PAIRING_REMEMBERED)
    )
    on_news: Callable[[str], None] = lambda node_id: None

    def slot(self, key: str) -> asyncio.Semaphore:
        """The concurrency slot of a (claimed peer, address); idle ones are dropped."""
        if key not in self.slots and len(self.slots) >= MAX_SLOTS:
            idle = [name for name, slot in self.slots.items() if not slot.locked()]
            for name in idle:
                del self.slots[name]
        return self.slots.setdefault(key, asyncio.Semaphore(MAX_CONCURRENT_PER_PEER))


GATE: web.AppKey[FederationGate] = web.AppKey("federation_gate", FederationGate)
routes = web.RouteTableDef()


async def _signed_body(
    request: web.Request, gate: FederationGate, replay_guard: ReplayGuard | None = None
) -> tuple[str, bytes]:
    if request.content_type != MSGPACK:
        raise UnsupportedMediaType(f"federation bodies are {MSGPACK}")
    if (request.content_length or 0) > wire.MAX_BODY_BYTES:
        raise BodyTooLarge(f"the body is over the limit of {wire.MAX_BODY_BYTES} bytes")
    try:
        # The deadline guards the read: a peer trickling bytes cannot hold a slot forever.
        # Handling is bounded by the size limits and runs to the end once started.
        async with asyncio.timeout(REQUEST_DEADLINE):
            body = await read_capped(request.content, wire.MAX_BODY_BYTES)
    except TimeoutError as error:
        raise DeadlineExceeded("the request body took too long to arrive") from error
    except BodyOverLimit as error:
        raise BodyTooLarge(f"the body is over the limit of {wire.MAX_BODY_BYTES} bytes") from error
    signer = verify_request(
        request.method,
        request.raw_path,
        request.headers,
        body,
        now=gate.responder.local.now(),
        replay_guard=replay_guard or gate.replay_guard,
        recipient=gate.responder.local.node_id,
    )
    return signer, body


def _claimed_signer(request: web.Request) -> str:
    """The keyid a request claims, only to pick its concurrency slot (verified later).

    Slots are keyed by claimed id *and* remote address, so a stranger who claims a peer's id
    uses up only slots of its own address, not the real peer's.
    """
    signature_input = request.headers.get("Signature-Input", "")[:4096]
    start = signature_input.find('keyid="')
    if start < 0:
        return ""
    try:
        return normalize_node_id(
            signature_input[start + 7 : signature_input.find('"', start + 7)][:80]
        )
    except InvalidNodeId:
        return ""  # the signature check will say what is wrong


def _active_peer(gate: FederationGate, node_id: str) -> Peer:
    peer = get_peer(gate.responder.local.db, node_id)
    if peer is None or peer.status == "removed":
        raise NotAPeer("this node does not know you as a peer; pair first")
    if peer.status != "active":
        raise NotAPeer(f"this node has {peer.status} you as a peer")
    return peer


async def _serve_peer(request: web.Request, handle: Callable[[Peer, bytes], bytes]) -> web.Response:
    gate = request.app[GATE]
    if request.content_type != MSGPACK:
        raise UnsupportedMediaType(f"federation bodies are {MSGPACK}")
    claimed = _claimed_signer(request)
    if claimed:
        _active_peer(gate, claimed)  # strangers stop here, before a body read or the replay memory
    slot = gate.slot(f"{claimed}@{request.remote}")
    if slot.locked():
        raise TooBusy("too many requests from your node at once; retry shortly")
    async with slot:
        signer, body = await _signed_body(request, gate)
        answer = handle(_active_peer(gate, signer), body)
    return web.Response(body=answer, content_type=MSGPACK)


@routes.post("/federation/v1/pair", name="federation_pair")
async def pair(request: web.Request) -> web.Response:
    """The one route a stranger may call: it must prove it holds our invite secret."""
    gate = request.app[GATE]
    if gate.pairing.locked():
        raise TooBusy("too many pairing attempts at once; try again shortly")
    async with gate.pairing:
        signer, body = await _signed_body(request, gate, gate.pairing_replay_guard)
        return web.Response(body=gate.responder.pair(signer, body), content_type=MSGPACK)


@routes.post("/federation/v1/reconcile", name="federation_reconcile")
async def reconcile(request: web.Request) -> web.Response:
    return await _serve_peer(request, request.app[GATE].responder.reconcile)


@routes.post("/federation/v1/fetch", name="federation_fetch")
async def fetch(request: web.Request) -> web.Response:
    return await _serve_peer(request, request.app[GATE].responder.fetch)


@routes.post("/federation/v1/push", name="federation_push")
async def push(request: web.Request) -> web.Response:
    return await _serve_peer(request, request.app[GATE].responder.push)


@routes.post("/federation/v1/notify", name="federation_notify")
async def notify(request: web.Request) -> web.Response:
    """A peer has news for us: we pull from it soon (the background service decides when)."""
    gate = request.app[GATE]

    def note(peer: Peer, body: bytes) -> bytes:
        wire.decode(wire.NOTIFY, body)
        gate.on_news(peer.node_id)
        return wire.encode(wire.NOTIFY, {})

    return await _serve_peer(request, note)


@routes.post("/federation/v1/revocations", name="federation_revocations")
async def revocations(request: web.Request) -> web.Response:
    return await _serve_peer(request, request.app[GATE].responder.revocations)


@routes.post("/federation/v1/receipts", name="federation_receipts")
async def receipts(request: web.Request) -> web.Response:
    return await _serve_peer(request, request.app[GATE].responder.receipts)


@routes.post("/federation/v1/outbox", name="federation_outbox")
async def outbox(request: web.Request) -> web.Response:
    return await _serve_peer(request, request.app[GATE].responder.outbox)
