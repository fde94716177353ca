"""Routes of the key history, registered in federation/routes.py's table: the key-history
exchange, a recovery with no backup, and members' compromise told to peers.

``key-history`` and ``recover`` may be signed by a key only their body names (a peer that
rotated; a node that is not yet anyone's current key: the recovery key signs the first
call, a key only the body's statements name signs the second). So the small capped body is
read before the signer is judged, and the request's signature (with the replay memory) is
checked before anything in the body is, in a worker thread (:func:`serve_self_signed`).
``own-records`` is an ordinary peer route: the caller is an active peer signing with its
current key, and so is ``member-notices``.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from crypto.http_signatures import verify_request
from federation import endpoints, wire
from federation.errors import TooBusy, UnsupportedMediaType
from federation.key_exchange import answer_key_history
from federation.local import LocalNode
from federation.member_notices import answer_member_notices
from federation.own_records import answer_own_records
from federation.peers import Peer
from federation.recovery import answer_recovery
from federation.replay_memory import StoredReplayGuard
from federation.responder import FederationResponder
from federation.routes import GATE, MSGPACK, _capped_body, _in_worker, _serve_peer, routes
from federation.workers import in_worker

KEY_HISTORY_BODY_BYTES = wire.MAX_KEY_STATEMENTS * (wire.MAX_KEY_STATEMENT_BYTES + 8) + 64


@routes.post(endpoints.KEY_HISTORY.path, name=endpoints.KEY_HISTORY.route_name)
async def key_history(request: web.Request) -> web.Response:
    """Key histories both ways (federation/key_exchange.py). A peer that rotated signs with a
    key we learn from this very body, so the body (small, capped) is read before the signer
    is judged; the request's signature is checked before anything in the body is."""
    return await serve_self_signed(request, "key-history", answer_key_history)


async def serve_self_signed(
    request: web.Request, slot_name: str, answer: Callable[[LocalNode, str, bytes], bytes]
) -> web.Response:
    """A route whose signer may be a key only its body names (key history, recovery): the
    small capped body is read first, then, off the loop (the replay memory and the key
    history are database work), the request's signature is checked before ``answer`` reads
    anything in the body."""
    gate = request.app[GATE]
    if request.content_type != MSGPACK:
        raise UnsupportedMediaType(f"federation bodies are {MSGPACK}")
    slot = gate.slot(f"{slot_name}@{request.remote}")
    if slot.locked():
        raise TooBusy("too many requests from your node at once; retry shortly")
    async with slot:
        body = await _capped_body(request, KEY_HISTORY_BODY_BYTES)
        method, path, headers, guard = (
            request.method, request.raw_path, request.headers, gate.replay_guard
        )  # fmt: skip

        def verify_and_answer(twin: LocalNode) -> bytes:
            on_twin = guard.on(twin.db) if isinstance(guard, StoredReplayGuard) else guard
            signer = verify_request(
                method, path, headers, body, now=twin.now(),
                replay_guard=on_twin, recipient=twin.node_id,
            )  # fmt: skip
            return answer(twin, signer, body)

        answered = await in_worker(gate.responder.local, verify_and_answer)
    return web.Response(body=answered, content_type=MSGPACK)


@routes.post(endpoints.RECOVER.path, name=endpoints.RECOVER.route_name)
async def recover(request: web.Request) -> web.Response:
    """A node recovering with no backup: its history asked, then its recovery taken
    (federation/recovery.py)."""
    return await serve_self_signed(request, "recover", answer_recovery)


@routes.post(endpoints.OWN_RECORDS.path, name=endpoints.OWN_RECORDS.route_name)
async def own_records(request: web.Request) -> web.Response:
    """A peer that recovered with no backup asks for the records it made that we hold."""

    def answer(twin: FederationResponder, peer: Peer, body: bytes) -> bytes:
        return answer_own_records(twin.local, peer, body)

    return await _serve_peer(request, _in_worker(request, answer))


@routes.post(endpoints.MEMBER_NOTICES.path, name=endpoints.MEMBER_NOTICES.route_name)
async def member_notices(request: web.Request) -> web.Response:
    """A peer tells us one of its members was removed or compromised (member_notices.py)."""

    def answer(twin: FederationResponder, peer: Peer, body: bytes) -> bytes:
        return answer_member_notices(twin.local, peer, body)

    return await _serve_peer(request, _in_worker(request, answer))
