"""The read-only JSON API under ``/api/v1/`` and ``/healthz``."""

from __future__ import annotations

from aiohttp import web

from archive.queries import (
    RecordFilters,
    count_records,
    latest_records,
)
from archive.search import search
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


@routes.get("/api/v1/lessons", name="api_lessons")
async def list_lessons(request: web.Request) -> web.Response:
    """Newest versions, or ranked search results with ``?q=``; ``limit`` and ``offset`` page."""
    node = request.app[NODE]
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
    node = request.app[NODE]
    record_id = node.resolve_id(request.match_info["id"])
    return web.json_response(lesson_detail(node.db, record_id, node.node_id))
