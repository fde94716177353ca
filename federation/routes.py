"""Federation routes under ``/federation/v1/``: thin aiohttp adapters.

Each request is checked at the edge, cheapest first: media type (415); that the signature
claims a node id (401) that is an active peer (403), and that the signature over the head
verifies (401; it covers the body's digest), before any byte of the body is read or anything
is remembered; the concurrency limit of that peer and address (429); the size (413, checked
as the body arrives) within the deadline (503); the body against the digest, and the replay
memory (401); and that the verified signer is an active peer (403). Only then does the sans-IO
:class:`FederationResponder` see the body. Errors use the node's one JSON error shape.

Strangers may only call ``pair``, and only naming an invite of ours: the invite id travels
in the ``Rhizome-Invite`` header and is looked up before the body is read, so only holders of
a real invite compete for the few pairing slots (one per address and per invite, four in
all), and their small body must arrive within a short deadline. See
docs/reference/federation-protocol.md.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from crypto.errors import InvalidNodeId
from crypto.http_signatures import (
    RECIPIENT_HEADER,
    SignatureRejected,
    SignedHead,
    verify_request,
    verify_request_body,
    verify_request_head,
)
from crypto.node_id import normalize_node_id
from crypto.replay_guard import ReplayGuard, ReplayMemory, SharedReplayGuard
from federation import endpoints, wire
from federation.address import take_address
from federation.blob_transfer import answer_blob_request
from federation.bodies import BodyOverLimit, read_capped
from federation.echo import EchoService
from federation.errors import (
    BodyTooLarge,
    DeadlineExceeded,
    InvalidInvite,
    NotAPeer,
    TooBusy,
    UnsupportedMediaType,
)
from federation.invites import check_invite_known
from federation.key_exchange import speaker_of
from federation.pairing import INVITE_HEADER
from federation.peers import Peer, get_peer
from federation.replay_memory import StoredReplayGuard
from federation.responder import FederationResponder
from federation.workers import in_worker

MSGPACK = "application/msgpack"
REQUEST_DEADLINE = 30.0
MAX_CONCURRENT_PER_PEER = 4
MAX_SLOTS = 1_000
MAX_PAIRING = 4
MAX_PAIRING_REMEMBERED = 10_000
# Reconcile messages opening a session (each may scan the archive for an offer set) handled
# at once; fewer than the federation threads, so short requests always find one.
OPENING_SESSIONS = 2
# A pairing request is one small message (about 1 KiB) and the joiner's key history (a few
# hundred bytes a statement); a stranger gets no more than this.
PAIR_BODY_BYTES = 128 * 1024  # a full history: 256 statements of about 300 to 400 bytes
PAIR_BODY_DEADLINE = 5.0


@dataclass
class FederationGate:
    """State the routes share: the responder, the replay memory, per-peer slots, news."""

    responder: FederationResponder
    replay_guard: ReplayMemory = field(default_factory=ReplayGuard)
    slots: dict[str, asyncio.Semaphore] = field(default_factory=dict)
    # Strangers may only try to pair: few at once, and with a replay memory of their own so
    # they can never crowd out the one peers use.
    pairing: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(MAX_PAIRING))
    pairing_replay_guard: ReplayGuard = field(
        default_factory=lambda: SharedReplayGuard(max_entries=MAX_PAIRING_REMEMBERED)
    )
    # Addresses and invites with a pairing in progress: one each, so no one holds them all.
    pairing_claims: set[str] = field(default_factory=set)
    on_news: Callable[[str], None] = lambda node_id: None
    opening_sessions: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(OPENING_SESSIONS)
    )
    echo: EchoService = field(default_factory=EchoService)

    def slot(self, key: str) -> asyncio.Semaphore:
        """The concurrency slot of a (claimed peer, address); idle ones are dropped."""
        if key not in self.slots and len(self.slots) >= MAX_SLOTS:
            idle = [name for name, slot in self.slots.items() if not slot.locked()]
            for name in idle:
                del self.slots[name]
        return self.slots.setdefault(key, asyncio.Semaphore(MAX_CONCURRENT_PER_PEER))


GATE: web.AppKey[FederationGate] = web.AppKey("federation_gate", FederationGate)
routes = web.RouteTableDef()


async def _capped_body(
    request: web.Request, limit: int = wire.MAX_BODY_BYTES, deadline: float = REQUEST_DEADLINE
) -> bytes:
    if (request.content_length or 0) > limit:
        raise BodyTooLarge(f"the body is over the limit of {limit} bytes")
    try:
        # The deadline guards the read: a peer trickling bytes cannot hold a slot forever.
        # Handling is bounded by the size limits and runs to the end once started.
        async with asyncio.timeout(deadline):
            body = await read_capped(request.content, limit)
    except TimeoutError as error:
        raise DeadlineExceeded("the request body took too long to arrive") from error
    except BodyOverLimit as error:
        raise BodyTooLarge(f"the body is over the limit of {limit} bytes") from error
    return body


def _active_peer(gate: FederationGate, node_id: str) -> Peer:
    peer = get_peer(gate.responder.local.db, node_id)
    if peer is None or peer.status == "removed":
        raise NotAPeer("this node does not know you as a peer; pair first")
    if peer.status != "active":
        raise NotAPeer(f"this node has {peer.status} you as a peer")
    return peer


async def _serve_peer(
    request: web.Request, handle: Callable[[Peer, bytes], bytes | Awaitable[bytes]]
) -> web.Response:
    gate = request.app[GATE]
    if request.content_type != MSGPACK:
        raise UnsupportedMediaType(f"federation bodies are {MSGPACK}")
    if "Signature-Input" not in request.headers:
        raise SignatureRejected(
            "missing", "sign the request with your node key (a Signature-Input with a keyid)"
        )
    # Only the key's holder gets its body read: the signature covers the digest header, so
    # it is checked now, and the body against the digest once read. A node that is not an
    # active peer stops as soon as its keyid is read, before its signature is checked.
    local = gate.responder.local
    head = verify_request_head(
        request.method, request.raw_path, request.headers, now=local.now(),
        recipient=local.node_id,
        accept=lambda key_id: _active_peer(gate, speaker_of(local.db, key_id)),
    )  # fmt: skip
    # Slots are keyed by node id *and* remote address, so a node stays within its own.
    slot = gate.slot(f"{head.signer}@{request.remote}")
    if slot.locked():
        raise TooBusy("too many requests from your node at once; retry shortly")
    async with slot:
        body = await _capped_body(request)
        signer = await _verified_body(gate, head, body)
        # The keyid is the signing key; after a rotation it is not the node id (issue 15).
        answer = handle(_active_peer(gate, speaker_of(local.db, signer)), body)
        if inspect.isawaitable(answer):  # the echo does I/O of its own, bounded by its deadline
            answer = await answer
    return web.Response(body=answer, content_type=MSGPACK)


async def _verified_body(gate: FederationGate, head: SignedHead, body: bytes) -> str:
    """Check the body against the signed digest and remember the signature against replay.

    A replay memory kept in the database is written in a worker thread: on the event loop
    the write would wait for SQLite's write lock while other peers' requests hold it."""
    local, guard = gate.responder.local, gate.replay_guard
    if not isinstance(guard, StoredReplayGuard):
        return verify_request_body(head, body, now=local.now(), replay_guard=guard)
    return await in_worker(
        local, lambda twin: verify_request_body(
            head, body, now=local.now(), replay_guard=guard.on(twin.db)
        ),
    )  # fmt: skip


def _in_worker(
    request: web.Request, method: Callable[[FederationResponder, Peer, bytes], bytes]
) -> Callable[[Peer, bytes], Awaitable[bytes]]:
    """Handle the message in a worker thread on a connection of its own: reconciling,
    verifying, storing and purging never hold the event loop (federation/workers.py)."""
    responder = request.app[GATE].responder

    def handle(peer: Peer, body: bytes) -> Awaitable[bytes]:
        return responder.in_worker(lambda twin: method(twin, peer, body))

    return handle


@routes.post(endpoints.PAIR.path, name=endpoints.PAIR.route_name)
async def pair(request: web.Request) -> web.Response:
    """The one route a stranger may call: it must name an invite of ours (checked before
    the body is read) and then prove it holds that invite's secret."""
    gate = request.app[GATE]
    if request.content_type != MSGPACK:
        raise UnsupportedMediaType(f"federation bodies are {MSGPACK}")
    invite = _named_invite(request, gate)
    claims = {f"address:{request.remote}", f"invite:{invite.hex()}"}
    if gate.pairing.locked() or claims & gate.pairing_claims:
        raise TooBusy("too many pairing attempts at once; try again shortly")
    gate.pairing_claims |= claims
    try:
        async with gate.pairing:
            body = await _capped_body(request, PAIR_BODY_BYTES, PAIR_BODY_DEADLINE)
            method, path, headers = request.method, request.raw_path, request.headers
            guard = gate.pairing_replay_guard  # shared by the threads: it takes a lock

            def verify_and_pair(responder: FederationResponder) -> bytes:
                """Off the loop: a signature to verify, an invite to redeem, a peer to add."""
                signer = verify_request(
                    method, path, headers, body, now=responder.local.now(),
                    replay_guard=guard, recipient=responder.local.node_id,
                )  # fmt: skip
                return responder.pair(signer, body, invite)

            answer = await gate.responder.in_worker(verify_and_pair)
    finally:
        gate.pairing_claims -= claims
    return web.Response(body=answer, content_type=MSGPACK)


def _named_invite(request: web.Request, gate: FederationGate) -> bytes:
    """The invite id of the ``Rhizome-Invite`` header, if it names an invite of ours.

    A request meant for another node is told so first: a joiner whose code names another
    node than the one at its URL must learn that, not that the invite is unknown here."""
    local = gate.responder.local
    try:
        recipient = normalize_node_id(request.headers.get(RECIPIENT_HEADER, "")[:80])
    except InvalidNodeId:
        recipient = ""  # the signature check will say what is wrong
    if recipient and recipient != local.node_id:
        raise SignatureRejected("wrong_recipient", "the request was signed for another node")
    text = request.headers.get(INVITE_HEADER, "")
    try:
        invite = bytes.fromhex(text) if len(text) == 64 else b""
    except ValueError:
        invite = b""
    if len(invite) != 32:
        raise InvalidInvite(
            f"pairing needs the invite id in the {INVITE_HEADER} header (64 hex digits)"
        )
    check_invite_known(local.db, invite)
    return invite


@routes.post(endpoints.RECONCILE.path, name=endpoints.RECONCILE.route_name)
async def reconcile(request: web.Request) -> web.Response:
    """A message opening a session may build the peer's offer set (a scan of the archive):
    at most :data:`OPENING_SESSIONS` wait for it at once, queued here on the loop rather
    than in a worker thread, so the other threads stay free for every other request."""
    gate = request.app[GATE]
    run = _in_worker(request, FederationResponder.reconcile)

    async def handle(peer: Peer, body: bytes) -> bytes:
        if not gate.responder.opens_session(peer, body):
            return await run(peer, body)
        async with gate.opening_sessions:
            return await run(peer, body)

    return await _serve_peer(request, handle)


@routes.post(endpoints.FETCH.path, name=endpoints.FETCH.route_name)
async def fetch(request: web.Request) -> web.Response:
    return await _serve_peer(request, _in_worker(request, FederationResponder.fetch))


@routes.post(endpoints.PUSH.path, name=endpoints.PUSH.route_name)
async def push(request: web.Request) -> web.Response:
    return await _serve_peer(request, _in_worker(request, FederationResponder.push))


@routes.post(endpoints.NOTIFY.path, name=endpoints.NOTIFY.route_name)
async def notify(request: web.Request) -> web.Response:
    """A peer has news for us: we pull from it soon (the background service decides when)."""
    gate = request.app[GATE]

    def note(peer: Peer, body: bytes) -> bytes:
        wire.decode(endpoints.NOTIFY.request, body)
        gate.on_news(peer.node_id)
        return wire.encode(endpoints.NOTIFY.answer, {})

    return await _serve_peer(request, note)


@routes.post(endpoints.REVOCATIONS.path, name=endpoints.REVOCATIONS.route_name)
async def revocations(request: web.Request) -> web.Response:
    return await _serve_peer(request, _in_worker(request, FederationResponder.revocations))


@routes.post(endpoints.RECEIPTS.path, name=endpoints.RECEIPTS.route_name)
async def receipts(request: web.Request) -> web.Response:
    return await _serve_peer(request, _in_worker(request, FederationResponder.receipts))


@routes.post(endpoints.OUTBOX.path, name=endpoints.OUTBOX.route_name)
async def outbox(request: web.Request) -> web.Response:
    return await _serve_peer(request, _in_worker(request, FederationResponder.outbox))


@routes.post(endpoints.ACK.path, name=endpoints.ACK.route_name)
async def ack(request: web.Request) -> web.Response:
    return await _serve_peer(request, _in_worker(request, FederationResponder.ack))


@routes.post(endpoints.TOMBSTONES.path, name=endpoints.TOMBSTONES.route_name)
async def tombstones(request: web.Request) -> web.Response:
    return await _serve_peer(request, _in_worker(request, FederationResponder.tombstones))


@routes.post(endpoints.GONE.path, name=endpoints.GONE.route_name)
async def gone(request: web.Request) -> web.Response:
    """A peer says it was wiped, in a notice signed by its node key (federation/gone.py)."""
    return await _serve_peer(request, _in_worker(request, FederationResponder.gone))


@routes.post(endpoints.OWN_REVOCATIONS.path, name=endpoints.OWN_REVOCATIONS.route_name)
async def own_revocations(request: web.Request) -> web.Response:
    """A peer restored from a backup relearns the withdrawals it issued (federation/relearn.py)."""
    return await _serve_peer(request, _in_worker(request, FederationResponder.own_revocations))


@routes.post(endpoints.KEY_HISTORIES.path, name=endpoints.KEY_HISTORIES.route_name)
async def key_histories(request: web.Request) -> web.Response:
    """A peer learns the key history of a record's origin from us (federation/key_relay.py)."""
    return await _serve_peer(request, _in_worker(request, FederationResponder.key_histories))


@routes.post(endpoints.ADDRESS.path, name=endpoints.ADDRESS.route_name)
async def address(request: web.Request) -> web.Response:
    """A peer tells us its own address, signed with its node key (federation/address.py)."""

    def tell(responder: FederationResponder, peer: Peer, body: bytes) -> bytes:
        return take_address(responder.local, peer, body)

    return await _serve_peer(request, _in_worker(request, tell))


@routes.post(endpoints.ECHO.path, name=endpoints.ECHO.route_name)
async def echo(request: web.Request) -> web.Response:
    """A peer asks whether we reach it at the URL we stored for it (federation/echo.py)."""
    gate = request.app[GATE]
    return await _serve_peer(
        request, lambda peer, body: gate.echo.answer(gate.responder.local, peer, body)
    )


@routes.post(endpoints.BLOB.path, name=endpoints.BLOB.route_name)
async def blob(request: web.Request) -> web.Response:
    """One chunk of an attachment's bytes, if the decision lets the peer have it (deciding
    and reading run in a worker thread, off the event loop)."""

    def answer(twin: FederationResponder, peer: Peer, body: bytes) -> bytes:
        return answer_blob_request(twin.local, peer, body)

    return await _serve_peer(request, _in_worker(request, answer))


# Registered in this same table, from a module of their own (this one is near its size).
from federation import purposes_route, recovery_routes  # noqa: E402, F401
