"""``POST /federation/v1/purposes``, registered in federation/routes.py's table: a peer
declares what it uses lessons for, signed (federation/purposes_announce.py). An ordinary
peer route: the caller is an active peer signing with its current key, and the declaration
is opened and stored in a worker thread."""

from __future__ import annotations

from aiohttp import web

from federation import endpoints
from federation.peers import Peer
from federation.purposes_announce import take_purposes
from federation.responder import FederationResponder
from federation.routes import _in_worker, _serve_peer, routes


@routes.post(endpoints.PURPOSES.path, name=endpoints.PURPOSES.route_name)
async def purposes(request: web.Request) -> web.Response:
    """A peer declares what it uses lessons for, signed (federation/purposes_announce.py)."""

    def declare(responder: FederationResponder, peer: Peer, body: bytes) -> bytes:
        return take_purposes(responder.local, peer, body)

    return await _serve_peer(request, _in_worker(request, declare))
