"""The Wipe page: an admin destroys this node from the browser (as ``rhizome wipe``).

The form asks for the node's name, typed, and whether to tell the peers first; it is a
session write like every form (CSRF token, the ``node.wipe`` permission, admins only).
Telling the peers is network I/O on the event loop; the wipe itself (overwriting, flushing
and deleting files) runs in a worker thread. The answer is a plain page that needs nothing
of the home (it is gone); then the server stops itself: ``rhizome serve`` puts the way to do
that in :data:`SERVER_STOP` (SIGTERM to itself, its usual clean stop).
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Callable

from aiohttp import web

from federation.gone import tell_peers_gone
from federation.peers import list_peers
from governance.roles import require
from node.actions.wipe import WipeNode, WipeNotConfirmed, authorize_wipe
from node.peer_sync import with_peer_client
from node.web.api import operator_node
from node.web.auth import acting_member, current_member
from node.web.pages.common import field, form_of, html_page, node_of, render, sync_service
from node.wipe import wipe_home

routes = web.RouteTableDef()
log = logging.getLogger("rhizome.web")
SERVER_STOP: web.AppKey[Callable[[], None]] = web.AppKey("server_stop")
STOP_AFTER = 0.5  # seconds: the answer reaches the browser before the server goes
GONE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>This node is gone</title></head>
<body><main><h1>This node is gone</h1>
<p>{home} was wiped in {seconds:.2f} s: its {keys} key files were destroyed first, then the
whole home. {told}The server stops now.</p></main></body></html>
"""


@routes.get("/wipe", name="page_wipe")
@html_page
async def wipe_page(request: web.Request) -> web.Response:
    node = await operator_node(request)
    member = await current_member(request, node)
    assert member is not None  # operator_node let only a signed-in member in
    require(member.name, member.roles, "node.wipe")
    return await render(request, "wipe.html", {"name": node.config.name, "problem": None})


@routes.post("/wipe", name="page_wipe_now")
@html_page
async def wipe_now(request: web.Request) -> web.Response:
    node = node_of(request)
    member = await acting_member(request, node, "node.wipe")
    form = await form_of(request)
    asked = WipeNode(member, field(form, "confirmation", 500), field(form, "tell_peers") == "on")
    try:
        authorize_wipe(node.config.name, asked)
    except WipeNotConfirmed as error:
        context = {"name": node.config.name, "problem": str(error)}
        return await render(request, "wipe.html", context, status=400)
    told = ""
    if asked.tell_peers:
        peers = list_peers(node.db)
        results = await with_peer_client(
            sync_service(request), node, lambda client: tell_peers_gone(client, peers)
        )
        told = f"{sum(r.error is None for r in results)} of {len(results)} peers were told. "
    log.warning("node wiped from the web", extra={"member": member.name})
    report = await asyncio.to_thread(wipe_home, node.paths.root)
    stop = request.app.get(SERVER_STOP)
    if stop is not None:
        asyncio.get_running_loop().call_later(STOP_AFTER, stop)
    page = GONE_PAGE.format(
        home=html.escape(str(report.home)), seconds=report.seconds,
        keys=len(report.destroyed), told=told,
    )  # fmt: skip
    return web.Response(text=page, content_type="text/html")
