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

from archive.folding import fold, fold_with_origins
from archive.signed_record import RECORD_LIMITS
from crypto.canonical import unpack_message
from crypto.errors import RhizomeError

SNIPPET_WORDS = 16
MAX_HITS = 8  # the first hits of a column choose its window; later ones are not mapped
SNIPPET_CONTEXT = 400  # folded characters mapped past the last of those hits
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
        found = [_marked_spans(str(folded or "")) for folded in marked]
        # The column with the most hits (the first one on a tie) is the one cut; only its
        # text is mapped back to the original.
        best = max(range(len(found)), key=lambda index: len(found[index][1]))
        plain, spans = found[best]
        snippets[int(rowid)] = _cut(_hits(columns[best], plain, spans), start, end)
    return snippets


def _original_columns(db: sqlite_utils.Database, rowids: list[int]) -> dict[int, tuple[str, ...]]:
    """The text as written, decoded from each record's stored signed bytes (only for the page
    shown). The signature is not checked again here: the record was verified when it was
    stored, and a snippet is display, like the readable copies a list shows; ``rhizome
    verify`` and export check the signed bytes (docs/explanation/tamper-evidence.md)."""
    rows = db.execute(
        "SELECT rowid, envelope FROM records WHERE rowid IN (SELECT value FROM json_each(?))",
        [json.dumps(rowids)],
    )
    columns: dict[int, tuple[str, ...]] = {}
    for rowid, envelope in rows:
        text = stored_lesson_text(bytes(envelope))
        if text is not None:  # verify reports a damaged record; a search shows no snippet
            columns[int(rowid)] = text
    return columns


def stored_lesson_text(envelope: bytes) -> tuple[str, str, str, str] | None:
    """(title, summary, body, tags joined by spaces) of a stored record's signed bytes, read
    without checking them again; None for bytes that are no record (a damaged row)."""
    try:
        payload = unpack_message(envelope, RECORD_LIMITS)[2]
        wire = unpack_message(payload, RECORD_LIMITS)
        title, summary, body = wire["title"], wire["summary"], wire["body"]
        tags = wire["tags"]
    except (RhizomeError, LookupError, TypeError):
        return None
    if not isinstance(tags, list) or not all(
        isinstance(text, str) for text in (title, summary, body, *tags)
    ):
        return None
    return title, summary, body, " ".join(tags)


def _marked_spans(marked_folded: str) -> tuple[str, list[tuple[int, int]]]:
    """The folded text without FTS5's marks, and the spans the marks enclosed."""
    first, *marked = marked_folded.split(_MARK_START)
    plain, spans, position = [first], [], len(first)
    for piece in marked:
        inside, _end, after = piece.partition(_MARK_END)
        spans.append((position, position + len(inside)))
        plain += [inside, after]
        position += len(inside) + len(after)
    return "".join(plain), spans


def _hits(original: str, folded_text: str, spans_in_folded: list[tuple[int, int]]) -> Hits:
    """The matched spans of ``original``, from spans of the folded copy FTS5 holds."""
    spans_in_folded = spans_in_folded[:MAX_HITS]
    needed = max((after for _first, after in spans_in_folded), default=0) + SNIPPET_CONTEXT
    folded, origins = fold_with_origins(original, needed)
    if not folded_text.startswith(folded):  # an index entry from other rules: no guesses
        return Hits(original, [])
    spans = []
    for first, after in spans_in_folded:
        if first < after:
            spans.append((origins[first], _word_end(original, origins[after - 1] + 1)))
    return Hits(original, spans)


def _word_end(text: str, index: int) -> int:
    """Past the marks that follow a hit's last letter (a shadda, a kasra belong to it)."""
    while index < len(text) and not fold(text[index]):
        index += 1
    return index


def _cut(hits: Hits, start: str, end: str) -> str:
    # Words are looked at up to a little past the last hit: a long body costs no more.
    last_hit = max((after for _first, after in hits.spans), default=0)
    words = _words_up_to(hits.text, last_hit, min(len(hits.text), last_hit + 2_000))
    return _cut_words(hits, words, start, end)


def _cut_words(hits: Hits, words: list[tuple[int, int]], start: str, end: str) -> str:
    """The snippet of the window of :data:`SNIPPET_WORDS` of ``words`` holding most hits."""
    text = hits.text
    if not words:
        return ""
    first = _best_window(words, hits.spans)
    last = min(first + SNIPPET_WORDS, len(words))
    more = last < len(words) or _WORD.search(text, words[last - 1][1]) is not None
    # A window that reaches either end of the text keeps what lies past its words (a link's
    # closing parenthesis, a full stop), as FTS5's own snippets do.
    window_start = words[first][0] if first > 0 else 0
    window_end = words[last - 1][1] if more else len(text)
    pieces = ["…" if first > 0 else ""]
    cursor = window_start
    for span_start, span_end in sorted(hits.spans):
        if span_start < cursor or span_end > window_end:
            continue
        pieces += [text[cursor:span_start], start, text[span_start:span_end], end]
        cursor = span_end
    pieces += [text[cursor:window_end], "…" if more else ""]
    return "".join(pieces)


def _words_up_to(text: str, last_hit: int, limit: int) -> list[tuple[int, int]]:
    """The words of ``text`` up to ``limit``, but no more than a window can reach: the
    window holds a hit, so :data:`SNIPPET_WORDS` words past the first word after the last
    hit (and one more, to know whether the text goes on) decide it as all the words would."""
    words: list[tuple[int, int]] = []
    enough: int | None = None  # known once the first word past the last hit is seen
    for match in _WORD.finditer(text, 0, limit):
        words.append(match.span())
        if enough is None and match.start() >= last_hit:
            enough = len(words) + SNIPPET_WORDS
        if enough is not None and len(words) >= enough:
            break
    return words


def _best_window(words: list[tuple[int, int]], spans: list[tuple[int, int]]) -> int:
    """The first word of the window holding the most hits (the earliest such window)."""
    if len(words) <= SNIPPET_WORDS or not spans:
        return 0
    hit_words = _hit_words(words, sorted(spans))
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


def _hit_words(words: list[tuple[int, int]], spans: list[tuple[int, int]]) -> list[int]:
    """Which words overlap a hit: one pass over both, in text order."""
    found, next_span = [], 0
    for index, (word_start, word_end) in enumerate(words):
        while next_span < len(spans) and spans[next_span][1] <= word_start:
            next_span += 1
        if next_span < len(spans) and spans[next_span][0] < word_end:
            found.append(index)
    return found
