"""The read-only JSON API under ``/api/v1/`` and ``/healthz``."""

from __future__ import annotations

import ipaddress

from aiohttp import web

from archive.queries import (
    RecordFilters,
    count_records,
    latest_records,
)
from archive.search import search
from crypto.errors import RhizomeError
from node import __version__
from node.node import Node
from node.serialize import hit_json, lesson_detail, summary_json

NODE: web.AppKey[Node] = web.AppKey("node", Node)
MAX_PAGE = 500
routes = web.RouteTableDef()


def _int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 12) or not low <= int(raw) <= high:
        raise web.HTTPBadRequest(
            reason=f"query parameter '{name}' must be a whole number from {low} to {high}"
        )
    return int(raw)


@routes.get("/healthz", name="healthz")
async def healthz(request: web.Request) -> web.Response:
    """Liveness for supervisors: no auth, no record content."""
    node = request.app[NODE]
    node.db.execute("SELECT 1").fetchone()
    return web.json_response({"status": "ok", "version": __version__})


class ReadNotOpen(RhizomeError):
    """The read API answers only the node's own machine (``[server] public_read``)."""

    http_status = 403
    code = "forbidden"


def readable_node(request: web.Request) -> Node:
    """The node, if this client may read: this machine always, others only when opened."""
    node = request.app[NODE]
    if not node.config.public_read and not is_loopback_address(request.remote):
        raise ReadNotOpen(
            "the read API answers only this machine; an operator can open it with "
            "[server] public_read = true in config.toml"
        )
    return node


def is_loopback_address(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


@routes.get("/api/v1/lessons", name="api_lessons")
async def list_lessons(request: web.Request) -> web.Response:
    """Newest versions, or ranked search results with ``?q=``; ``limit`` and ``offset`` page."""
    node = readable_node(request)
    limit = _int_param(request, "limit", 50, 1, MAX_PAGE)
    offset = _int_param(request, "offset", 0, 0, 10**9)
    query = request.query.get("q", "").strip()
    filters = RecordFilters(
        kind=request.query.get("kind"),
        language=request.query.get("language"),
        region=request.query.get("region"),
        tag=request.query.get("tag"),
    )
    if query:
        hits = search(node.db, query, filters, limit=limit, offset=offset)
        return web.json_response({"lessons": [hit_json(hit) for hit in hits], "query": query})
    records = latest_records(node.db, limit=limit, offset=offset, filters=filters)
    total = count_records(node.db, latest_only=True, filters=filters)
    return web.json_response(
        {"lessons": [summary_json(record) for record in records], "total": total}
    )


@routes.get("/api/v1/lessons/{id}", name="api_lesson")
async def show_lesson(request: web.Request) -> web.Response:
    node = readable_node(request)
    record_id = node.resolve_id(request.match_info["id"])
    return web.json_response(lesson_detail(node.db, record_id, node.node_id))
