"""The lesson list, one page at a time: keyset pages over an index in the list's order.

The list shows the newest version of every lesson that is not waiting in quarantine, most
recent first (``created``, then ``id``, both descending). A page is found from where the
previous one ended, a *cursor* naming that lesson's ``created`` time and id
(``1700000123.3fa4…``): the index ``records_listed`` (archive/listing_schema.py) is read
from that point, so page 50,000 costs what page 1 costs, and lessons added or superseded
meanwhile never shift a page or show twice. ``offset`` still works for the first
:data:`MAX_OFFSET` lessons (the cost grows with it; beyond that, follow the cursors).

How many lessons the list holds comes from maintained counts (``listed_counts``) when no
filter or a single one is given; two or more filters are counted up to
:data:`archive.queries.COUNT_CAP` (``total_exact`` says which).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import sqlite_utils

from archive.errors import ArchiveError
from archive.queries import (
    LATEST,
    SUMMARY_COLUMNS,
    RecordFilters,
    RecordSummary,
    count_listed,
)

MAX_OFFSET = 10_000
_CURSOR = re.compile(r"^(\d{1,15})\.([0-9a-f]{64})$")
_ORDER = "ORDER BY records.created DESC, records.id DESC"
_REVERSED = "ORDER BY records.created ASC, records.id ASC"


class InvalidCursor(ArchiveError):
    """A page cursor that this node did not hand out: use the ``next`` or ``previous`` value
    of a page as it was given, or start again from the first page."""

    code = "invalid_cursor"


@dataclass(frozen=True)
class LessonPage:
    """One page of the list; ``older`` and ``newer`` are the cursors of the pages beside it
    (None at either end)."""

    lessons: list[RecordSummary]
    total: int
    total_exact: bool
    older: str | None
    newer: str | None


def cursor_of(summary: RecordSummary) -> str:
    return f"{summary.created}.{summary.id}"


def parse_cursor(text: str) -> tuple[int, str]:
    match = _CURSOR.match(text)
    if match is None:
        raise InvalidCursor(
            "the page cursor is not one this node hands out (created time, a dot, a record "
            "id): use a page's next or previous value as given"
        )
    return int(match.group(1)), match.group(2)


def lesson_page(
    db: sqlite_utils.Database,
    filters: RecordFilters | None = None,
    limit: int = 20,
    after: str | None = None,
    before: str | None = None,
    offset: int = 0,
) -> LessonPage:
    """The ``limit`` lessons just older than cursor ``after``, just newer than ``before``,
    or from the top (skipping ``offset``); with the cursors of the pages beside it."""
    filters = filters or RecordFilters()
    if after and before:
        raise InvalidCursor("ask for the page after one cursor or before one, not both")
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidCursor(f"offset goes up to {MAX_OFFSET}: follow the next cursor instead")
    if before:
        rows = _fetch(db, filters, ">", parse_cursor(before), _REVERSED, limit + 1, 0)
        lessons = list(reversed(rows[:limit]))
        newer = cursor_of(lessons[0]) if len(rows) > limit else None
        older = cursor_of(lessons[-1]) if lessons else None
    else:
        start = parse_cursor(after) if after else None
        rows = _fetch(db, filters, "<", start, _ORDER, limit + 1, offset)
        lessons = rows[:limit]
        older = cursor_of(lessons[-1]) if len(rows) > limit else None
        newer = cursor_of(lessons[0]) if lessons and (after or offset) else None
    total, exact = count_listed(db, filters)
    return LessonPage(lessons, total, exact, older, newer)


def _fetch(
    db: sqlite_utils.Database,
    filters: RecordFilters,
    direction: str,
    start: tuple[int, str] | None,
    order: str,
    limit: int,
    offset: int,
) -> list[RecordSummary]:
    conditions, params = _listed_where(filters)
    if start is not None:
        conditions.append(f"(records.created, records.id) {direction} (?, ?)")
        params.extend(start)
    rows = db.execute(
        f"SELECT {SUMMARY_COLUMNS} FROM records WHERE {' AND '.join(conditions)} "
        f"{order} LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return [RecordSummary.from_row(row) for row in rows]


def _listed_where(filters: RecordFilters) -> tuple[list[str], list[object]]:
    conditions, params = filters.sql()
    return [LATEST, *conditions], list(params)


def all_listed(
    db: sqlite_utils.Database, filters: RecordFilters | None = None, batch: int = 500
) -> Iterator[RecordSummary]:
    """Every lesson of the list in its order, read a page at a time (what the CLI prints)."""
    after: str | None = None
    while True:
        page = lesson_page(db, filters, batch, after=after)
        yield from page.lessons
        if page.older is None:
            return
        after = page.older


def count_quarantined(db: sqlite_utils.Database) -> int:
    """How many records wait in quarantine (read from their partial index alone)."""
    row = db.execute("SELECT count(*) FROM records WHERE quarantined = 1").fetchone()
    return int(row[0])
