"""Full-text search over the newest version of every lesson.

The index holds folded text (:mod:`archive.folding`: case, Latin diacritics, Arabic harakat,
tatweel and alef forms) and queries are folded alike, so "comunicacion" finds "comunicación"
and "المدربين" finds "المُدَرِّبين"; snippets show the text as written. People type words,
not FTS5 syntax: each word becomes a quoted term (all must match), a trailing ``*`` keeps
prefix search, and nothing typed can break the query. Results are ranked by BM25 with the
title weighing most; in a large archive the words in at least half of the lessons are matched
but not scored (BM25 gives them no weight, and FTS5 would read every posting of them to
learn so): :mod:`archive.search_ranking`.

A word nearly every lesson contains would make BM25 score most of the archive on every
search, so ranking looks at a bounded set: the :data:`RANKED_WINDOW` most recently stored
lessons that match (found by walking the index newest first, which costs no scoring). When
fewer match, every match is ranked, as before. When the filters or older versions leave too
few of the window to fill the page, the window widens (four times each step) until the page
is full or every match was ranked.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import sqlite_utils

from archive.errors import ArchiveError
from archive.folding import fold
from archive.queries import LATEST, SUMMARY_COLUMNS, RecordFilters, RecordSummary
from archive.search_ranking import Scoring, scoring_for
from archive.search_snippet import original_snippets

HIT_START = "\ue000"
HIT_END = "\ue001"
MAX_QUERY = 500
MAX_TERMS = 20
MIN_POOL = 40  # the best matches ranked first; grown when filters or versions thin them out
RANKED_WINDOW = 2_000  # a query matching more ranks only its newest matches (see above)
# Column weights for bm25(): title, summary, body, tags.
WEIGHTS = (10.0, 4.0, 1.0, 6.0)
_WORD = re.compile(r"[\w][\w'’-]*\*?", re.UNICODE)


class InvalidQuery(ArchiveError):
    """The search words are empty or too long; type a few plain words."""

    code = "invalid_query"


@dataclass(frozen=True)
class SearchHit:
    record: RecordSummary
    snippet: str
    rank: float


SearchFilters = RecordFilters


def match_expression(query: str) -> str:
    """An FTS5 MATCH expression for words a person typed."""
    if len(query) > MAX_QUERY:
        raise InvalidQuery(f"search text is longer than {MAX_QUERY} characters")
    words = _WORD.findall(fold(query))[:MAX_TERMS]  # folded as the index is (archive.folding)
    if not words:
        raise InvalidQuery("type at least one word to search for")
    terms = []
    for word in words:
        prefix = word.endswith("*")
        text = word.rstrip("*").replace('"', "")
        terms.append(f'"{text}"' + ("*" if prefix else ""))
    return " ".join(terms)


def search(
    db: sqlite_utils.Database,
    query: str,
    filters: RecordFilters | None = None,
    limit: int = 20,
    offset: int = 0,
) -> list[SearchHit]:
    """Ranked hits with a snippet around the matched words.

    Ranking happens inside the full-text index first, over a pool of the best matches
    within the window of the newest matches; only that pool is joined with the records
    (newest versions, filters), and snippets are made for the page shown alone. The pool,
    then the window, grow until the page is full or the matches run out.
    """
    expression = match_expression(query)
    scoring = _scoring(db, expression)
    wanted = offset + limit
    window = RANKED_WINDOW
    while True:
        oldest, matches = _window(db, expression, window, scoring.walks_matches)
        hits, kept = _best_in_window(db, scoring, oldest, matches, wanted, filters)
        if len(hits) >= wanted or oldest is None:
            break
        window *= 4
    page = hits[offset:wanted]
    snippets = _snippets(db, expression, [rowid for rowid, _ in page])
    return [SearchHit(kept[rowid], snippets.get(rowid, ""), rank) for rowid, rank in page]


def _scoring(db: sqlite_utils.Database, expression: str) -> Scoring:
    return scoring_for(db, expression, WEIGHTS)


def _window(
    db: sqlite_utils.Database, expression: str, window: int, keep_matches: bool
) -> tuple[int | None, list[int]]:
    """(the lowest rowid among the newest ``window`` matches, or None when fewer match: then
    every match is ranked; with ``keep_matches``, those matches' rowids, newest first, which
    spare a second walk where common words are not scored). Walking by rowid scores nothing."""
    if not keep_matches:
        row = db.execute(
            "SELECT rowid FROM records_fts WHERE records_fts MATCH ? ORDER BY rowid DESC "
            "LIMIT 1 OFFSET ?",
            [expression, window],
        ).fetchone()
        return (None if row is None else int(row[0]) + 1), []
    rows = db.execute(
        "SELECT rowid FROM records_fts WHERE records_fts MATCH ? ORDER BY rowid DESC LIMIT ?",
        [expression, window + 1],
    ).fetchall()
    matches = [int(row[0]) for row in rows]
    if len(matches) <= window:
        return None, matches
    return matches[window] + 1, matches[:window]


def _best_in_window(
    db: sqlite_utils.Database,
    scoring: Scoring,
    oldest: int | None,
    matches: list[int],
    wanted: int,
    filters: RecordFilters | None,
) -> tuple[list[tuple[int, float]], dict[int, RecordSummary]]:
    """(ranked visible hits, their summaries) in the window starting at rowid ``oldest``
    (``matches``: its rowids, newest first)."""
    pool = max(2 * wanted, MIN_POOL)
    while True:
        ranked = scoring.ranked(db, pool, oldest or 0, matches)
        kept = _visible(db, [rowid for rowid, _ in ranked], filters or RecordFilters())
        hits = [(rowid, rank) for rowid, rank in ranked if rowid in kept]
        if len(hits) >= wanted or len(ranked) < pool:
            return hits, kept
        pool *= 4


def _visible(
    db: sqlite_utils.Database, rowids: list[int], filters: RecordFilters
) -> dict[int, RecordSummary]:
    """The rows among ``rowids`` that list and search show (newest, not held back, filtered)."""
    conditions, params = filters.sql()
    columns = ", ".join(f"records.{name.strip()}" for name in SUMMARY_COLUMNS.split(","))
    rows = db.execute(
        f"SELECT records.rowid, {columns} FROM records "
        "WHERE records.rowid IN (SELECT value FROM json_each(?)) "
        f"AND {' AND '.join([LATEST, *conditions])}",
        [json.dumps(rowids), *params],
    )
    return {int(row[0]): RecordSummary.from_row(row[1:]) for row in rows}


def _snippets(db: sqlite_utils.Database, expression: str, rowids: list[int]) -> dict[int, str]:
    """Cut from the text as written, not the folded index (archive.search_snippet)."""
    found = original_snippets(db, expression, rowids, HIT_START, HIT_END)
    return {rowid: plain_snippet(text) for rowid, text in found.items()}


# Markdown markup that means nothing in a one-line snippet: heading marks, emphasis, code
# ticks, quote marks, list bullets and task boxes at a line's start; links keep their text.
_IMAGE_OR_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)")
_LINE_MARKS = re.compile(
    r"(?m)^(…?)[ \t]*(?:#{1,6}[ \t]+|>[ \t]?|(?:[-*+]|\d+\.)[ \t]+(?:\[[ xX]\][ \t]+)?)"
)
_INLINE_MARKS = re.compile(r"\*\*|__|~~|`|(?<![\w*])\*(?=\S)|(?<=\S)\*(?![\w*])")


def plain_snippet(text: str) -> str:
    """A snippet as words on one line, without the Markdown marks around them."""
    text = _IMAGE_OR_LINK.sub(r"\1", text)
    text = _LINE_MARKS.sub(r"\1", text)
    text = _INLINE_MARKS.sub("", text)
    return " ".join(text.split())


def count_matches(
    db: sqlite_utils.Database, query: str, filters: RecordFilters | None = None, cap: int = 10_000
) -> int:
    """How many lessons ``search`` could show for ``query``, counted up to ``cap`` (a word
    in every lesson of a large archive should not cost a full count: callers say "cap+")."""
    rows = db.execute(
        "SELECT rowid FROM records_fts WHERE records_fts MATCH ? LIMIT ?",
        [match_expression(query), cap + 1],
    )
    visible = _visible(db, [int(row[0]) for row in rows], filters or RecordFilters())
    return min(len(visible), cap + 1)


def mark_hits(snippet: str, start: str, end: str) -> str:
    """Replace the internal hit markers with ``start`` and ``end`` (after escaping, for HTML)."""
    return snippet.replace(HIT_START, start).replace(HIT_END, end)
