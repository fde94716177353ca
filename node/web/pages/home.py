"""The home page (counts, recent lessons, a search box) and the search page."""

from __future__ import annotations

from aiohttp import web
from markupsafe import Markup, escape

from archive.exchange_queries import due_follow_ups
from archive.queries import RecordFilters, RecordSummary, count_records, latest_records
from archive.record import KINDS
from archive.search import InvalidQuery, SearchHit, mark_hits, search
from federation.overview import revocations_waiting
from federation.peers import list_peers
from governance.quarantine import quarantined_records
from node.web.access import public_only
from node.web.pages.common import html_page, readable, render, see_other

routes = web.RouteTableDef()
RECENT = 10
DUE_AHEAD = 7 * 24 * 3600  # the home page lists follow-ups due within this time, and overdue
PAGE_SIZE = 20
MAX_OFFSET = 10_000


@routes.get("/", name="page_home")
@html_page
async def home(request: web.Request) -> web.Response:
    node = await readable(request)
    if public_only(request):  # counts of peers and quarantine are for members
        return see_other("/search")
    db = node.db
    pending = revocations_waiting(db)
    context = {
        "lessons": count_records(db, latest_only=True),
        "peers": sum(1 for peer in list_peers(db) if peer.status == "active"),
        "pending_revocations": int(pending[0]),
        "pending_peers": int(pending[1]),
        "quarantined": len(quarantined_records(db)),
        "recent": latest_records(db, limit=RECENT),
        # Open follow-ups of our action briefs due within a week: one partial index read.
        "due": due_follow_ups(db, node.node_id, node.now() + DUE_AHEAD),
        "now": node.now(),
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
    total, error = None, None
    try:
        if query:
            found = search(node.db, query, filters, limit=PAGE_SIZE + 1, offset=offset)
            hits = [(hit.record, _snippet(hit)) for hit in found]
        else:
            records = latest_records(node.db, limit=PAGE_SIZE + 1, offset=offset, filters=filters)
            hits = [(record, None) for record in records]
            total = count_records(node.db, latest_only=True, filters=filters)
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
    }
    return await render(request, "search.html", context, status=400 if error else 200)


def _snippet(hit: SearchHit) -> Markup:
    """The snippet escaped first, then its matches marked: no lesson text becomes markup."""
    return Markup(mark_hits(str(escape(hit.snippet)), "<mark>", "</mark>"))


def _offset(text: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 6) or int(text) > MAX_OFFSET:
        raise web.HTTPBadRequest(reason=f"offset must be a whole number up to {MAX_OFFSET}")
    return int(text)
