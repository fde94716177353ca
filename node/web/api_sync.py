"""``POST /api/v1/peers/{peer}/sync``: sync now, for scripts and other front-ends.

The same action as ``rhizome sync PEER`` and the Peers page's Sync now
(:mod:`node.peer_sync`), with the same JSON shape as ``rhizome sync --json``.
"""

from __future__ import annotations

import logging

from aiohttp import web

from node.peer_sync import peers_to_sync, report_json, sync_now_from_server
from node.web.api import NODE, challenge_basic
from node.web.api_types import NoFields
from node.web.auth import acting_member
from node.web.json_bodies import body_of
from node.web.keys import SYNC

log = logging.getLogger("rhizome.web")
routes = web.RouteTableDef()


@routes.post("/api/v1/peers/{peer}/sync", name="api_peer_sync")
@challenge_basic
async def sync_peer(request: web.Request) -> web.Response:
    """Exchange records with this peer now, both ways; what moved, or why it did not."""
    node = request.app[NODE]
    member = await acting_member(request, node, "sync")
    await body_of(request, NoFields, required=False)
    peers = peers_to_sync(node, member, request.match_info["peer"])
    (report,) = await sync_now_from_server(request.app.get(SYNC), node, peers)
    log.info("sync now", extra={"peer": report.peer, "member": member.name})
    return web.json_response(report_json(report))
