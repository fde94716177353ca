"""The aiohttp application factory."""

from __future__ import annotations

from aiohttp import web

from node.node import Node
from node.web import api
from node.web.errors import json_errors

MAX_REQUEST_BYTES = 2 * 1024 * 1024


def create_app(node: Node) -> web.Application:
    """The node's web application; the caller owns ``node`` and closes it."""
    app = web.Application(middlewares=[json_errors], client_max_size=MAX_REQUEST_BYTES)
    app[api.NODE] = node
    app.add_routes(api.routes)
    return app
