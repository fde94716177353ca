"""What a reader asks of the archive: the lesson list, a search, the home page's overview.

The CLI, the JSON API and the web pages ask through these functions alone, so a page of the
list, its cursors and its count mean the same everywhere. The web runs them in a worker
thread on a connection of its own (:func:`node.actions.in_worker_thread`): each is bounded
by an index (archive/listing.py, archive/search.py), yet none should hold the event loop.

Who may read, and whether a reader sees only public lessons, the front end decides (its
access layer) and says through ``filters.scope``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from archive.exchange_queries import DueBrief, due_follow_ups
from archive.listing import LessonPage, all_listed, count_quarantined, lesson_page
from archive.queries import RecordFilters, RecordSummary, count_listed
from archive.search import SearchHit, search
from federation.overview import peers_by_status, revocations_waiting
from node.node import Node

RECENT = 10  # lessons on the home page
DUE_AHEAD = 7 * 24 * 3600  # the home page lists follow-ups due within this time, and overdue


@dataclass(frozen=True)
class ListLessons:
    """One page of the list: from the top (skipping ``offset``), or beside a cursor."""

    filters: RecordFilters = field(default_factory=RecordFilters)
    limit: int = 20
    after: str | None = None
    before: str | None = None
    offset: int = 0


def list_lessons(node: Node, request: ListLessons) -> LessonPage:
    return lesson_page(
        node.db, request.filters, request.limit,
        after=request.after, before=request.before, offset=request.offset,
    )  # fmt: skip


def every_lesson(node: Node, filters: RecordFilters | None = None) -> Iterator[RecordSummary]:
    """The whole list in its order, read a page at a time (``rhizome lesson list`` without
    ``--limit``): each page is one indexed read, however long the list."""
    return all_listed(node.db, filters)


@dataclass(frozen=True)
class SearchLessons:
    query: str
    filters: RecordFilters = field(default_factory=RecordFilters)
    limit: int = 20
    offset: int = 0


def search_lessons(node: Node, request: SearchLessons) -> list[SearchHit]:
    return search(node.db, request.query, request.filters, request.limit, request.offset)


@dataclass(frozen=True)
class Overview:
    """The home page: counts read from maintained counts and small tables, and the newest
    lessons from the list's index."""

    lessons: int
    active_peers: int
    pending_revocations: int
    pending_peers: int
    quarantined: int
    recent: list[RecordSummary]
    due: list[DueBrief]  # open follow-ups of our action briefs due within DUE_AHEAD
    now: int


def home_overview(node: Node, _: None = None) -> Overview:
    db = node.db
    revocations, peers_waiting = revocations_waiting(db)
    return Overview(
        lessons=count_listed(db)[0],
        active_peers=peers_by_status(db).get("active", 0),
        pending_revocations=revocations,
        pending_peers=peers_waiting,
        quarantined=count_quarantined(db),
        recent=lesson_page(db, limit=RECENT).lessons,
        due=due_follow_ups(db, node.node_id, node.now() + DUE_AHEAD),
        now=node.now(),
    )
