"""Snippets in the words the author wrote, around the words the folded index matched.

The index holds folded text (:mod:`archive.folding`): "المدربين" where the lesson says
"المُدَرِّبين". FTS5 finds the hits in the folded columns (``highlight``); each folded
character knows the original character it came from, so the hits are marked in the original
text, and the snippet is cut from that: a reader sees the harakat, accents and case the
author wrote.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import sqlite_utils

from archive.folding import fold_with_origins
from archive.key_store import record_key_check
from archive.signed_record import open_record
from crypto.errors import RhizomeError

SNIPPET_WORDS = 16
COLUMNS = ("title", "summary", "body", "tags")
_MARK_START = "\ue002"  # private-use marks for FTS5's highlight(): never in a lesson
_MARK_END = "\ue003"
_WORD = re.compile(r"[^\W_]+(?:[\u0300-\u036f\u064b-\u065f\u0670\u0640]+[^\W_]*)*")


@dataclass(frozen=True)
class Hits:
    """One column's original text and the spans of it that matched."""

    text: str
    spans: list[tuple[int, int]]


def original_snippets(
    db: sqlite_utils.Database, expression: str, rowids: list[int], start: str, end: str
) -> dict[int, str]:
    """rowid → a snippet of about :data:`SNIPPET_WORDS` words of the original text, hits
    between ``start`` and ``end``, ``…`` where it was cut."""
    if not rowids:
        return {}
    highlights = ", ".join(
        f"highlight(records_fts, {index}, '{_MARK_START}', '{_MARK_END}')"
        for index in range(len(COLUMNS))
    )
    folded_rows = db.execute(
        f"SELECT rowid, {highlights} FROM records_fts WHERE records_fts MATCH ? "
        "AND rowid IN (SELECT value FROM json_each(?))",
        [expression, json.dumps(rowids)],
    ).fetchall()
    originals = _original_columns(db, rowids)
    snippets = {}
    for rowid, *marked in folded_rows:
        columns = originals.get(int(rowid))
        if columns is None:
            continue
        pairs = zip(columns, marked, strict=True)
        hits = [_hits(original, str(folded or "")) for original, folded in pairs]
        best = max(hits, key=lambda found: len(found.spans))  # the first column on a tie
        snippets[int(rowid)] = _cut(best, start, end)
    return snippets


def _original_columns(db: sqlite_utils.Database, rowids: list[int]) -> dict[int, tuple[str, ...]]:
    """The text as written, from each record's signed bytes (only for the page shown)."""
    rows = db.execute(
        "SELECT rowid, envelope FROM records WHERE rowid IN (SELECT value FROM json_each(?))",
        [json.dumps(rowids)],
    )
    keys = record_key_check(db)
    columns: dict[int, tuple[str, ...]] = {}
    for rowid, envelope in rows:
        try:
            lesson = open_record(envelope, "record", keys).lesson
        except RhizomeError:  # verify reports a damaged record; a search shows no snippet
            continue
        columns[int(rowid)] = (lesson.title, lesson.summary, lesson.body, " ".join(lesson.tags))
    return columns


def _hits(original: str, marked_folded: str) -> Hits:
    """The matched spans of ``original``, from the marks FTS5 put in its folded copy."""
    folded, origins = fold_with_origins(original)
    spans_in_folded: list[tuple[int, int]] = []
    plain: list[str] = []
    opened = 0
    for character in marked_folded:
        if character == _MARK_START:
            opened = len(plain)
        elif character == _MARK_END:
            spans_in_folded.append((opened, len(plain)))
        else:
            plain.append(character)
    if "".join(plain) != folded:  # an index entry from other rules: no marks, no guesses
        return Hits(original, [])
    spans = []
    for first, after in spans_in_folded:
        if first < after:
            spans.append((origins[first], _word_end(original, origins[after - 1] + 1)))
    return Hits(original, spans)


def _word_end(text: str, index: int) -> int:
    """Past the marks that follow a hit's last letter (a shadda, a kasra belong to it)."""
    while index < len(text) and not fold_with_origins(text[index])[0]:
        index += 1
    return index


def _cut(hits: Hits, start: str, end: str) -> str:
    words = [match.span() for match in _WORD.finditer(hits.text)]
    if not words:
        return ""
    first = _best_window(words, hits.spans)
    last = min(first + SNIPPET_WORDS, len(words))
    # A window that reaches either end of the text keeps what lies past its words (a link's
    # closing parenthesis, a full stop), as FTS5's own snippets do.
    window_start = words[first][0] if first > 0 else 0
    window_end = words[last - 1][1] if last < len(words) else len(hits.text)
    pieces = ["…" if first > 0 else ""]
    cursor = window_start
    for span_start, span_end in sorted(hits.spans):
        if span_start < cursor or span_end > window_end:
            continue
        pieces += [hits.text[cursor:span_start], start, hits.text[span_start:span_end], end]
        cursor = span_end
    pieces += [hits.text[cursor:window_end], "…" if last < len(words) else ""]
    return "".join(pieces)


def _best_window(words: list[tuple[int, int]], spans: list[tuple[int, int]]) -> int:
    """The first word of the window holding the most hits (the earliest such window)."""
    if len(words) <= SNIPPET_WORDS or not spans:
        return 0
    hit_words = [
        index
        for index, (word_start, word_end) in enumerate(words)
        if any(word_start < span_end and span_start < word_end for span_start, span_end in spans)
    ]
    if not hit_words:
        return 0
    best, best_count = hit_words[0], 0
    for candidate in hit_words:
        count = sum(1 for index in hit_words if candidate <= index < candidate + SNIPPET_WORDS)
        if count > best_count:
            best, best_count = candidate, count
    # Some words before the first hit, as FTS5 does, when the window has room for them.
    lead = min(best, max(0, SNIPPET_WORDS // 4))
    return max(0, min(best - lead, len(words) - SNIPPET_WORDS))
