"""The home page (counts, recent lessons, a search box) and the search page."""

from __future__ import annotations

from aiohttp import web
from markupsafe import Markup, escape

from archive.queries import RecordFilters, RecordSummary
from archive.record import KINDS
from archive.search import InvalidQuery, SearchHit, mark_hits
from node.actions import in_worker_thread
from node.actions.reading import (
    ListLessons,
    SearchLessons,
    home_overview,
    list_lessons,
    search_lessons,
)
from node.web.access import public_only
from node.web.pages.common import html_page, readable, render, see_other

routes = web.RouteTableDef()
PAGE_SIZE = 20
MAX_OFFSET = 10_000


@routes.get("/", name="page_home")
@html_page
async def home(request: web.Request) -> web.Response:
    node = await readable(request)
    if public_only(request):  # counts of peers and quarantine are for members
        return see_other("/search")
    overview = await in_worker_thread(node, home_overview, None)
    context = {
        "lessons": overview.lessons,
        "peers": overview.active_peers,
        "pending_revocations": overview.pending_revocations,
        "pending_peers": overview.pending_peers,
        "quarantined": overview.quarantined,
        "recent": overview.recent,
        "due": overview.due,
        "now": overview.now,
    }
    return await render(request, "home.html", context)


@routes.get("/search", name="page_search")
@html_page
async def search_page(request: web.Request) -> web.Response:
    node = await readable(request)
    query = request.query.get("q", "").strip()
    filters = RecordFilters(
        kind=request.query.get("kind") or None,
        language=request.query.get("language", "").strip() or None,
        region=request.query.get("region", "").strip() or None,
        tag=request.query.get("tag", "").strip() or None,
        scope="public" if public_only(request) else None,
    )
    offset = _offset(request.query.get("offset", "0"))
    hits: list[tuple[RecordSummary, Markup | None]] = []
    total, error, older, newer = None, None, None, None
    try:
        if query:
            asked = SearchLessons(query, filters, limit=PAGE_SIZE + 1, offset=offset)
            found = await in_worker_thread(node, search_lessons, asked)
            hits = [(hit.record, _snippet(hit)) for hit in found]
        else:
            page = await in_worker_thread(node, list_lessons, _list_request(request, filters))
            hits = [(record, None) for record in page.lessons]
            total, older, newer = page.total, page.older, page.newer
    except InvalidQuery as invalid:
        error = str(invalid)
    context = {
        "query": query,
        "filters": filters,
        "kinds": KINDS,
        "offset": offset,
        "page_size": PAGE_SIZE,
        "error": error,
        "hits": hits[:PAGE_SIZE],
        "more": len(hits) > PAGE_SIZE,
        "total": total,
        "older": older,
        "newer": newer,
    }
    return await render(request, "search.html", context, status=400 if error else 200)


def _list_request(request: web.Request, filters: RecordFilters) -> ListLessons:
    """The page of the list asked for: beside a cursor (``after``: older lessons, ``before``:
    newer ones; archive.listing checks it) or from the top, skipping ``offset``."""
    return ListLessons(
        filters, PAGE_SIZE,
        after=request.query.get("after") or None, before=request.query.get("before") or None,
        offset=_offset(request.query.get("offset", "0")),
    )  # fmt: skip


def _snippet(hit: SearchHit) -> Markup:
    """The snippet escaped first, then its matches marked: no lesson text becomes markup."""
    return Markup(mark_hits(str(escape(hit.snippet)), "<mark>", "</mark>"))


def _offset(text: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 6) or int(text) > MAX_OFFSET:
        raise web.HTTPBadRequest(reason=f"offset must be a whole number up to {MAX_OFFSET}")
    return int(text)
