"""Search folding: what readers of each script consider the same word, written the same way.

The full-text index holds folded text and every query is folded the same way before it is
matched (:mod:`archive.search`), so the two always agree. The rules, per script:

- **every script**: case (``str.casefold``: "Straße" finds "strasse", "ΣΟΦΙΑ" finds "σοφια").
- **Latin** (and any script written with the combining marks U+0300–U+036F): diacritics go,
  "comunicación" is "comunicacion", "Pé" is "pe".
- **Arabic**: the harakat (U+064B–U+065F) and the superscript alef (U+0670) go, as does the
  tatweel (U+0640) that stretches a word; the alef forms أ إ آ ٱ are ا; alef maqsura ى is
  ي and ta marbuta ة is ه (people write either, above all in informal text: "مدرسة" and
  "مدرسه" are one word to a reader); Arabic-Indic digits are ASCII digits ("٢٠٢٦" is
  "2026"). Hamza on waw and ya (ؤ ئ) stays: it changes the word.

Folding works character by character, so each folded character knows the original character
it came from (:func:`fold_with_origins`): a snippet shows the original text, harakat and all,
around the words the folded index matched (:mod:`archive.search_snippet`).

The reference table of these rules is docs/reference/search-folding.md (a test reads it).
"""

from __future__ import annotations

import unicodedata

import sqlite_utils

TATWEEL = "\u0640"
SUPERSCRIPT_ALEF = "\u0670"
HARAKAT = frozenset(chr(code) for code in range(0x064B, 0x0660)) | {SUPERSCRIPT_ALEF}
ARABIC_LETTERS = {
    "\u0623": "\u0627",  # أ alef with hamza above → ا
    "\u0625": "\u0627",  # إ alef with hamza below → ا
    "\u0622": "\u0627",  # آ alef with madda → ا
    "\u0671": "\u0627",  # ٱ alef wasla → ا
    "\u0649": "\u064a",  # ى alef maqsura → ي
    "\u0629": "\u0647",  # ة ta marbuta → ه
}
ARABIC_DIGITS = {chr(0x0660 + digit): str(digit) for digit in range(10)} | {
    chr(0x06F0 + digit): str(digit) for digit in range(10)
}
_LATIN_MARKS = range(0x0300, 0x0370)


def _fold_character(character: str) -> str:
    if character in HARAKAT or character == TATWEEL:
        return ""
    if character in ARABIC_LETTERS:
        return ARABIC_LETTERS[character]
    if character in ARABIC_DIGITS:
        return ARABIC_DIGITS[character]
    if character < "\x80":
        return character.lower()
    decomposed = unicodedata.normalize("NFD", character.casefold())
    kept = "".join(part for part in decomposed if ord(part) not in _LATIN_MARKS)
    return unicodedata.normalize("NFC", kept)


class _FoldTable(dict[int, str]):
    """``str.translate``'s table, filled on first sight of each character (fast in C after)."""

    def __missing__(self, codepoint: int) -> str:
        folded = _fold_character(chr(codepoint))
        self[codepoint] = folded
        return folded


_TABLE = _FoldTable()


def fold(text: str) -> str:
    """``text`` as the search index holds it (and as a query is matched)."""
    return text.translate(_TABLE)


def fold_with_origins(text: str, needed: int | None = None) -> tuple[str, list[int]]:
    """The folded text, and for each of its characters the index of the original character
    it came from (a removed mark has none: its neighbours keep theirs).

    With ``needed``, only the start of the text that folds to at least that many characters
    is mapped (a snippet needs the text up to its hits, not a whole long body)."""
    table = _TABLE
    if needed is not None:
        text = text[: _prefix_length(text, needed)]
    folded = text.translate(table)
    if all(len(table[ord(character)]) == 1 for character in set(text)):
        return folded, list(range(len(text)))  # one for one: most text, and fast
    pieces = [table[ord(character)] for character in text]
    return folded, [index for index, piece in enumerate(pieces) for _ in piece]


def _prefix_length(text: str, needed: int) -> int:
    """How much of ``text`` folds to ``needed`` characters or more (a few marks to spare)."""
    length = needed
    while length < len(text) and len(text[:length].translate(_TABLE)) < needed:
        length = min(len(text), length * 2)
    return min(len(text), length + 16)


M052_BATCH = 2_000


def m052_fold_search_index(db: sqlite_utils.Database) -> None:
    """Fold the text already in the full-text index (Arabic harakat, tatweel and alef forms,
    case, Latin diacritics): homes made before search folding find what they hold."""
    # In batches by rowid: a million-lesson index never sits in memory at once.
    last = -1
    while True:
        rows = db.execute(
            "SELECT rowid, title, summary, body, tags FROM records_fts "
            "WHERE rowid > ? ORDER BY rowid LIMIT ?",
            [last, M052_BATCH],
        ).fetchall()
        if not rows:
            return
        for rowid, *columns in rows:
            folded = [fold(str(column or "")) for column in columns]
            if folded != list(columns):
                db.execute(
                    "UPDATE records_fts SET title = ?, summary = ?, body = ?, tags = ? "
                    "WHERE rowid = ?",
                    [*folded, rowid],
                )
        last = rows[-1][0]
