"""The routes of issue 15's later work, registered in federation/routes.py's table: a
recovery with no backup, and members' compromise told to peers.

``recover`` is called by a node that is not yet anyone's current key: the recovery key
signs the first call, a key only the body's statements name signs the second. So, like
``key-history``, the small capped body is read before the signer is judged, and the request's
signature (with the replay memory) is checked before anything in the body is, in a worker
thread. ``own-records`` is an ordinary peer route: the caller is an active peer signing with
its current key, and so is ``member-notices``.
"""

from __future__ import annotations

from aiohttp import web

from crypto.http_signatures import verify_request
from federation import endpoints
from federation.errors import TooBusy, UnsupportedMediaType
from federation.local import LocalNode
from federation.member_notices import answer_member_notices
from federation.own_records import answer_own_records
from federation.peers import Peer
from federation.recovery import answer_recovery
from federation.replay_memory import StoredReplayGuard
from federation.responder import FederationResponder
from federation.routes import (
    GATE,
    KEY_HISTORY_BODY_BYTES,
    MSGPACK,
    _capped_body,
    _in_worker,
    _serve_peer,
    routes,
)
from federation.workers import in_worker


@routes.post(endpoints.RECOVER.path, name=endpoints.RECOVER.route_name)
async def recover(request: web.Request) -> web.Response:
    """A node recovering with no backup: its history asked, then its recovery taken
    (federation/recovery.py)."""
    gate = request.app[GATE]
    if request.content_type != MSGPACK:
        raise UnsupportedMediaType(f"federation bodies are {MSGPACK}")
    slot = gate.slot(f"recover@{request.remote}")
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
            return answer_recovery(twin, signer, body)

        answer = await in_worker(gate.responder.local, verify_and_answer)
    return web.Response(body=answer, content_type=MSGPACK)


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
