"""The aiohttp application factory: API, federation routes and background sync."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator

import aiohttp
import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp.typedefs import Middleware

from federation import routes as federation_routes
from federation.background import SyncService
from federation.client import PeerClient
from federation.loop_clock import LoopClock
from federation.replay_memory import StoredReplayGuard
from federation.responder import FederationResponder
from federation.routes import GATE, FederationGate
from node.i18n import install_in_jinja
from node.node import Node
from node.unfinished_purges import purge_redo
from node.web import (
    api,
    api_exchange,
    api_purposes,
    api_session,
    api_sync,
    api_writes,
    openapi,
    pages,
)
from node.web.access import access_layer
from node.web.auth import session_layer
from node.web.client import TRUSTED, trusted_networks
from node.web.edge import refuse_long_urls, server_settings
from node.web.errors import HTML_ERROR_PAGE, json_errors
from node.web.host_check import host_check
from node.web.keys import SYNC
from node.web.language import language_layer
from node.web.metrics import install_metrics, measure
from node.web.pages.common import error_page
from node.web.uploads import UPLOAD_SLOTS, UploadSlots

MAX_REQUEST_BYTES = 2 * 1024 * 1024


def create_app(
    node: Node, *, background_sync: bool = True, loop_clock: LoopClock | None = None
) -> web.Application:
    """The node's web application; the caller owns ``node`` and closes it.

    ``loop_clock`` is what the background loops sleep on (tests pass one they move by hand).

    The node key must be openable (federation signs with it) and the policy valid.
    """
    node.policy()
    # measure is outermost, so it counts the status json_errors answers with.
    # The Host check comes before the session and every handler: a request addressed to a
    # foreign name (DNS rebinding) reads nothing.
    # The access layer is innermost: it refuses, in the one error shape, every route that is
    # neither open nor asked by a member (node.web.access).
    middlewares: list[Middleware] = [
        measure, refuse_long_urls, host_check(node.config), session_layer(node),
        language_layer(node), json_errors,
        access_layer(node, _federation_route_names()),
    ]  # fmt: skip
    app = web.Application(
        middlewares=middlewares,
        client_max_size=MAX_REQUEST_BYTES,
        handler_args=server_settings(),  # head deadline, line caps, quiet refusals
    )
    app[TRUSTED] = trusted_networks(node.config.trusted_proxies)
    app[UPLOAD_SLOTS] = UploadSlots.new()
    install_metrics(app, node)
    app[api.NODE] = node
    app.add_routes(api.routes)
    app.add_routes(api_session.routes)
    app.add_routes(api_writes.routes)
    app.add_routes(api_exchange.routes)
    app.add_routes(api_sync.routes)
    app.add_routes(api_purposes.routes)
    app.add_routes(openapi.routes)
    templates = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(pages.TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        filters=pages.FILTERS,
    )
    install_in_jinja(templates)  # {% trans %} and _() answer in each request's language
    app.router.add_static("/static/", pages.STATIC, name="static")
    app.add_routes(pages.routes)
    app[HTML_ERROR_PAGE] = error_page
    local = node.local_node()
    # The replay memory lives in the database: a captured request stays refused after a restart.
    app[GATE] = FederationGate(FederationResponder(local), replay_guard=StoredReplayGuard(local.db))
    app.add_routes(federation_routes.routes)
    # First of all, before the port opens: finish purges a crash interrupted (worker thread).
    app.cleanup_ctx.insert(0, purge_redo(node.paths.database, node.keys.database_key()))
    if background_sync:
        app.cleanup_ctx.append(functools.partial(_sync_service, loop_clock=loop_clock))
    return app


def _federation_route_names() -> set[str]:
    """Federation routes check the peer's signature themselves: no member signs in there."""
    return {
        str(route.kwargs["name"])
        for route in federation_routes.routes
        if isinstance(route, web.RouteDef) and "name" in route.kwargs
    }


async def _sync_service(
    app: web.Application, loop_clock: LoopClock | None = None
) -> AsyncIterator[None]:
    """Own the background sync for the app's lifetime: started with it, stopped with it."""
    node = app[api.NODE]
    gate = app[GATE]
    async with aiohttp.ClientSession() as session:
        client = PeerClient(gate.responder.local, session)
        service = SyncService(client, node.config.sync_interval, loop_clock)
        gate.on_news = service.on_news
        gate.responder.on_outbox = service.on_outbox
        app[SYNC] = service
        service.start()
        try:
            yield
        finally:
            await service.stop()
