"""The Status page: how the node is doing (as ``rhizome status``), for its operators."""

from __future__ import annotations

import asyncio

from aiohttp import web
from rich import filesize

from node.node import Node
from node.status import node_status_in_thread
from node.web.api import operator_node
from node.web.pages.common import html_page, render

routes = web.RouteTableDef()


@routes.get("/status", name="page_status")
@html_page
async def status_page(request: web.Request) -> web.Response:
    node = await operator(request)
    key = node.keys.database_key()
    found = await asyncio.to_thread(
        node_status_in_thread, node.paths, node.node_id, node.config.name, key
    )
    context = {"status": found, "disk_free": filesize.decimal(found.disk_free)}
    return await render(request, "status.html", context)


async def operator(request: web.Request) -> Node:
    """The node, for a signed-in member only: peers' names and the key's seal are not for
    whoever can reach the port, on this machine or another."""
    return await operator_node(request)
