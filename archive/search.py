"""Full-text search over the newest version of every lesson.

The index folds case and diacritics (``unicode61 remove_diacritics 2``), so "comunicacion"
finds "comunicación". People type words, not FTS5 syntax: each word becomes a quoted term
(all must match), a trailing ``*`` keeps prefix search, and nothing typed can break the
query. Results are ranked by BM25 with the title weighing most.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlite_utils

from archive.errors import ArchiveError
from archive.queries import LATEST, SUMMARY_COLUMNS, RecordFilters, RecordSummary

HIT_START = "\ue000"
HIT_END = "\ue001"
MAX_QUERY = 500
MAX_TERMS = 20
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
    words = _WORD.findall(query)[:MAX_TERMS]
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
    """Ranked hits with a snippet around the matched words."""
    conditions, params = (filters or RecordFilters()).sql()
    weights = ", ".join(str(weight) for weight in WEIGHTS)
    columns = ", ".join(f"records.{name.strip()}" for name in SUMMARY_COLUMNS.split(","))
    sql = (
        f"SELECT {columns}, snippet(records_fts, -1, '{HIT_START}', '{HIT_END}', '…', 16), "
        f"bm25(records_fts, {weights}) AS rank "
        "FROM records_fts JOIN records ON records.rowid = records_fts.rowid "
        f"WHERE records_fts MATCH ? AND {' AND '.join([LATEST, *conditions])} "
        "ORDER BY rank LIMIT ? OFFSET ?"
    )
    rows = db.execute(sql, [match_expression(query), *params, limit, offset]).fetchall()
    return [SearchHit(RecordSummary.from_row(row[:-2]), row[-2], row[-1]) for row in rows]


def mark_hits(snippet: str, start: str, end: str) -> str:
    """Replace the internal hit markers with ``start`` and ``end`` (after escaping, for HTML)."""
    return snippet.replace(HIT_START, start).replace(HIT_END, end)
