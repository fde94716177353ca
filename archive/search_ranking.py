"""How search ranks its matches: BM25, without reading every posting of the words nearly
every lesson holds.

FTS5's ``bm25()`` weighs each word by its inverse document frequency (IDF), and finds that
frequency by reading every posting of the word, once per query: at a million lessons a word
in every lesson costs 20 to 30 ms of CPU each time (bench/bench_search.py), whatever the
window :mod:`archive.search` ranks. Yet BM25 gives a word in at least half of the lessons
no weight: its IDF, log((N - n + 0.5) / (n + 0.5)), is zero or less, and FTS5 floors it at
one millionth. So in a large archive (:data:`COMMON_FROM` lessons or more) those words are
*matched but not scored*:

- **some words common, some not**: ``bm25()`` weighs the other words, among the lessons that
  match every word. The order is bm25's over all the words, except between lessons whose
  scores differ by millionths (ties, which go to the newest here).
- **every word common** (``safety``, or ``consent training``, in a hub where most lessons
  say so): no word has any weight, so the ranked window (the newest matches) is ordered by
  where the words stand: lessons with them in the title first, then in the tags, then in
  the summary, the newest first among equals. The rank of such a hit is minus the weights
  of those places plus the body's (lower is better, as with bm25).

Whether a word is in half of the lessons is estimated from the newest
:data:`SAMPLE_ROWS` lessons: counting exactly would read every posting, which is what this
avoids. Smaller archives, where reading every posting costs little, are ranked by bm25 over
every word, as before.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass

import sqlite_utils

COMMON_FROM = 20_000  # lessons; below this, bm25 reads every posting in about a millisecond
SAMPLE_ROWS = 2_000  # the newest lessons a word's share is estimated from
COMMON_SHARE = 0.5  # BM25's IDF is zero or less for a word in at least this share
# Where the words stand, for a query of common words only: the weights of search.WEIGHTS.
PLACES = (("title", 10.0), ("tags", 6.0), ("summary", 4.0))
BODY = 1.0


@dataclass(frozen=True)
class Scoring:
    """How one query's matches are ranked: ``expression`` is every word (all must match),
    ``scored`` the words bm25 weighs (all of them, some, or None: rank by place)."""

    expression: str
    scored: str | None
    weights: str

    @property
    def walks_matches(self) -> bool:
        """Whether :meth:`ranked` needs the window's matches (not when bm25 scores them all)."""
        return self.scored != self.expression

    def ranked(
        self, db: sqlite_utils.Database, pool: int, oldest: int, matches: list[int]
    ) -> list[tuple[int, float]]:
        """The ``pool`` best (rowid, rank) among the matches at rowid ``oldest`` or newer
        (``matches``: their rowids, newest first)."""
        if self.scored is None:
            return _by_place(db, self.expression, pool, oldest, matches)
        if self.scored == self.expression:
            sql = (
                f"SELECT rowid, bm25(records_fts, {self.weights}) AS rank FROM records_fts "
                "WHERE records_fts MATCH ? AND rowid >= ? ORDER BY rank LIMIT ?"
            )
            rows = db.execute(sql, [self.expression, oldest, pool])
        else:
            # The window's matches (every word) keep the common words without scoring them;
            # the unary + keeps that a filter, so FTS5 walks only the scored words' postings.
            sql = (
                f"SELECT rowid, bm25(records_fts, {self.weights}) AS rank FROM records_fts "
                "WHERE records_fts MATCH ? AND rowid >= ? AND +rowid IN (SELECT value FROM "
                "json_each(?)) ORDER BY rank, rowid DESC LIMIT ?"
            )
            rows = db.execute(sql, [self.scored, oldest, json.dumps(matches), pool])
        return [(int(rowid), float(rank)) for rowid, rank in rows]


def scoring_for(db: sqlite_utils.Database, expression: str, weights: tuple[float, ...]) -> Scoring:
    """The scoring of ``expression`` (an FTS5 expression of quoted terms, space-separated)."""
    weighted = ", ".join(str(weight) for weight in weights)
    terms = expression.split(" ")
    common = common_terms(db, terms)
    if not common:
        return Scoring(expression, expression, weighted)
    rest = [term for term in terms if term not in common]
    return Scoring(expression, " ".join(rest) if rest else None, weighted)


def common_terms(db: sqlite_utils.Database, terms: list[str]) -> set[str]:
    """The terms in at least half of the newest :data:`SAMPLE_ROWS` lessons of an archive
    of :data:`COMMON_FROM` lessons or more (none in a smaller archive)."""
    newest = db.execute("SELECT max(rowid) FROM records").fetchone()[0]
    if newest is None or int(newest) < COMMON_FROM:
        return set()
    since = int(newest) - SAMPLE_ROWS
    sample = int(db.execute("SELECT count(*) FROM records WHERE rowid > ?", [since]).fetchone()[0])
    common = set()
    for term in set(terms):
        holding = db.execute(
            "SELECT count(*) FROM records_fts WHERE records_fts MATCH ? AND rowid > ?",
            [term, since],
        ).fetchone()[0]
        if sample and int(holding) >= COMMON_SHARE * sample:
            common.add(term)
    return common


def _by_place(
    db: sqlite_utils.Database, expression: str, pool: int, oldest: int, matches: list[int]
) -> list[tuple[int, float]]:
    """Matches with the words in the title first, then tags, then summary; newest first."""
    weight: dict[int, float] = {}
    for column, value in PLACES:
        rows = db.execute(
            "SELECT rowid FROM records_fts WHERE records_fts MATCH ? AND rowid >= ?",
            [f"{{{column}}} : ({expression})", oldest],
        )
        for (rowid,) in rows:
            weight[int(rowid)] = weight.get(int(rowid), 0.0) + value
    placed = sorted(weight, key=lambda rowid: (-weight[rowid], -rowid))[:pool]
    ranked = [(rowid, -(weight[rowid] + BODY)) for rowid in placed]
    if len(ranked) < pool:  # then the newest of the matches in the body alone
        body_only = (rowid for rowid in matches if rowid not in weight)
        ranked += [(rowid, -BODY) for rowid in itertools.islice(body_only, pool - len(ranked))]
    return ranked
