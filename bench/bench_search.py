"""Search latency against archive size: p50, p95 and max of ~200 typed searches.

Archives of 1k, 10k and 100k lessons are generated straight into SQLite (sign, then
``insert_record``, one transaction per 5,000), with words drawn from a 20,000-word vocabulary
on a Zipf curve so that the full-text index has realistic postings: a few words in almost
every lesson, most in few. The searches are a fixed, seeded list of 1 to 3 words, about a
third of them the movement's everyday words (consent, safety, training...) that many lessons
share, the rest ordinary vocabulary. Each runs through ``archive.search.search`` as the API
does (ranked, 20 hits with snippets). Target from the issue: p95 within 50 ms at 100k.
"""

from __future__ import annotations

import argparse
import math
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlite_utils

from archive.db import connect, transaction
from archive.queries import LATEST
from archive.record import KINDS, Consent, Lesson
from archive.search import WEIGHTS, match_expression, search
from archive.signed_record import sign_lesson
from archive.store import insert_record
from bench.common import _WORDS, write_result
from crypto.signing import SigningIdentity

TARGET_P95_MS = 50.0
TARGET_SIZE = 100_000
SEARCHES = 200
WORDS_PER_LESSON = 250  # about 2 KB of body, like bench.common.lesson_text
VOCABULARY_SIZE = 20_000
BATCH = 5_000
EVERYDAY_SHARE = 0.3  # of query words drawn from the movement's everyday words
_BASE_TIMESTAMP = 1_700_000_000
_SYLLABLES = (
    "ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa", "do", "fe", "gu", "ha",
    "ji", "ca", "ção", "é", "ñe", "ü", "bor", "tan", "lin", "mar", "sul", "qui",
)  # fmt: skip
_LANGUAGES = ("en", "es", "fr", "pt", "sw", "tl")
_REGIONS = ("East Africa", "Southeast Asia", "South America", "West Africa", "Europe")
Progress = Callable[[int], None]


class Vocabulary:
    """Words ranked by frequency: the everyday words first, then made-up ones (some with
    accents, so folding is exercised), drawn on a Zipf curve (s = 1)."""

    def __init__(self, size: int = VOCABULARY_SIZE, seed: int = 7) -> None:
        rng = random.Random(seed)
        words = list(_WORDS)
        seen = set(words)
        while len(words) < size:
            word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
            if word not in seen:
                seen.add(word)
                words.append(word)
        self.words = words
        total = 0.0
        self.cumulative: list[float] = []
        for rank in range(1, size + 1):
            total += 1.0 / rank
            self.cumulative.append(total)

    def draw(self, rng: random.Random, count: int) -> list[str]:
        return rng.choices(self.words, cum_weights=self.cumulative, k=count)


def make_lesson(
    vocabulary: Vocabulary, index: int, origin: bytes, rng: random.Random, words: int
) -> Lesson:
    drawn = vocabulary.draw(rng, words)
    return Lesson(
        kind=KINDS[index % len(KINDS)],
        title=f"Lesson {index}: {drawn[0]} and {drawn[1]}",
        summary=" ".join(drawn[2:12]).capitalize() + ".",
        body=" ".join(drawn[12:]),
        language=_LANGUAGES[index % len(_LANGUAGES)],
        region=_REGIONS[index % len(_REGIONS)],
        tags=tuple(sorted(set(rng.sample(_WORDS, 3)))),
        created=_BASE_TIMESTAMP + index // 3,  # some lessons share a second
        origin=origin,
        author="admin",
        consent=Consent(basis="consent", scope="federation"),
    )


def build_archive(
    db: sqlite_utils.Database,
    identity: SigningIdentity,
    count: int,
    words: int = WORDS_PER_LESSON,
    progress: Progress | None = None,
    seed: int = 0,
) -> float:
    """Sign and insert ``count`` generated lessons, one transaction per ``BATCH``; seconds.

    Like ``bench_import.bare_limit``: no event log, savepoints or version checks, so a big
    archive takes minutes, not hours."""
    vocabulary = Vocabulary()
    rng = random.Random(seed)
    started = time.perf_counter()
    for first in range(0, count, BATCH):
        with transaction(db):
            for index in range(first, min(count, first + BATCH)):
                lesson = make_lesson(vocabulary, index, identity.public_key, rng, words)
                insert_record(db, sign_lesson(identity, lesson), None, 0)
        if progress:
            progress(min(count, first + BATCH))
    return time.perf_counter() - started


def print_progress(label: str, total: int, started: float) -> Progress:
    """A progress callback printing a line every tenth of the way (and at the end)."""
    step = max(BATCH, total // 10)

    def report(done: int) -> None:
        if done % step == 0 or done == total:
            elapsed = time.perf_counter() - started
            print(f"  {label}: {done:,}/{total:,} lessons, {elapsed:.0f} s", flush=True)

    return report


def queries(count: int = SEARCHES, seed: int = 11) -> list[str]:
    """The fixed list of searches: 1 to 3 words each."""
    vocabulary = Vocabulary()
    rng = random.Random(seed)
    everyday = vocabulary.words[: len(_WORDS)]
    ordinary = vocabulary.words[len(_WORDS) : 5_000]
    result = []
    for _ in range(count):
        words = [
            rng.choice(everyday) if rng.random() < EVERYDAY_SHARE else rng.choice(ordinary)
            for _ in range(rng.randint(1, 3))
        ]
        result.append(" ".join(words))
    return result


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def matches(db: sqlite_utils.Database, query: str) -> int:
    sql = "SELECT count(*) FROM records_fts WHERE records_fts MATCH ?"
    return int(db.execute(sql, [match_expression(query)]).fetchone()[0])


def best_ms(call: Callable[[], object], repeats: int = 3) -> float:
    best = math.inf
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def breakdown(db: sqlite_utils.Database, query: str) -> dict[str, float]:
    """Where one search's time goes: FTS5 ranking alone, plus the join and the LATEST check,
    plus the snippets (the whole ``search``). Best of three each."""
    expression = match_expression(query)
    weights = ", ".join(str(weight) for weight in WEIGHTS)
    ranking = (
        f"SELECT rowid FROM records_fts WHERE records_fts MATCH ? "
        f"ORDER BY bm25(records_fts, {weights}) LIMIT 20"
    )
    joined = (
        f"SELECT records.id, bm25(records_fts, {weights}) AS rank "
        "FROM records_fts JOIN records ON records.rowid = records_fts.rowid "
        f"WHERE records_fts MATCH ? AND {LATEST} ORDER BY rank LIMIT 20"
    )
    return {
        "ranking_only_ms": round(best_ms(lambda: db.execute(ranking, [expression]).fetchall()), 1),
        "with_join_ms": round(best_ms(lambda: db.execute(joined, [expression]).fetchall()), 1),
        "search_ms": round(best_ms(lambda: search(db, query)), 1),
    }


def measure(size: int, tmp: Path) -> dict[str, Any]:
    db = connect(tmp / f"search-{size}.db")
    identity = SigningIdentity.generate()
    build_seconds = build_archive(
        db, identity, size, progress=print_progress(f"{size:,}", size, time.perf_counter())
    )
    searches = queries()
    for text in searches[:10]:  # warm the page cache and the statement cache
        search(db, text)
    latencies: list[float] = []
    hits = 0
    for text in searches:
        started = time.perf_counter()
        found = search(db, text)
        latencies.append((time.perf_counter() - started) * 1000)
        hits += len(found)
    slowest = sorted(range(len(searches)), key=latencies.__getitem__)[-5:][::-1]
    row = {
        "lessons": size,
        "searches": len(searches),
        "p50_ms": round(percentile(latencies, 0.50), 2),
        "p95_ms": round(percentile(latencies, 0.95), 2),
        "max_ms": round(max(latencies), 2),
        "mean_hits": round(hits / len(searches), 1),
        "build_seconds": round(build_seconds, 1),
        "database_mb": round((tmp / f"search-{size}.db").stat().st_size / 1e6, 1),
        "slowest": [
            {
                "query": searches[index],
                "ms": round(latencies[index], 1),
                "matches": matches(db, searches[index]),
            }
            for index in slowest
        ],
        "slowest_breakdown": breakdown(db, searches[slowest[0]]),
    }
    db.conn.close()
    return row


def notes(rows: list[dict[str, Any]]) -> str:
    """Why the target is missed, from the measurements themselves (empty if it is met)."""
    largest = rows[-1]
    if largest["lessons"] < TARGET_SIZE or largest["p95_ms"] <= TARGET_P95_MS:
        return ""
    slow, split = largest["slowest"][0], largest["slowest_breakdown"]
    ranking, joined, whole = split["ranking_only_ms"], split["with_join_ms"], split["search_ms"]
    return (
        f"p95 is {largest['p95_ms']:.0f} ms, {largest['p95_ms'] / TARGET_P95_MS:.1f}x the "
        f"{TARGET_P95_MS:.0f} ms target at {largest['lessons']:,} lessons (p50 "
        f"{largest['p50_ms']:.0f} ms). The slow searches are those with a word most lessons "
        f"share (the everyday words, {EVERYDAY_SHARE:.0%} of the query words here): the slowest, "
        f"{slow['query']!r}, matches {slow['matches']:,} lessons "
        f"({slow['matches'] / largest['lessons']:.0%}). Its time grows with the number of "
        f"matches: of {whole:.0f} ms (best of three), FTS5 scoring every match with bm25() "
        f"to keep the best takes {ranking:.0f} ms on its own. Search already ranks inside "
        "the index first and joins, checks versions and makes snippets for the page only "
        f"(a full join would add {max(0.0, joined - ranking):.0f} ms more); what is left is "
        "the scoring of every match, so words in nearly every lesson need fewer rows scored "
        "to meet the target at this size (e.g. rank only the newest matches of very common "
        "words, or search titles and tags first)."
    )


def run(quick: bool = False) -> dict[str, Any]:
    sizes = (1_000, 10_000) if quick else (1_000, 10_000, 100_000)
    rows = []
    with tempfile.TemporaryDirectory(prefix="rhizome-bench-search-") as tmp:
        for size in sizes:
            row = measure(size, Path(tmp))
            rows.append(row)
            print(
                f"search, {size:,} lessons: p50 {row['p50_ms']:.1f} ms, p95 {row['p95_ms']:.1f} "
                f"ms, max {row['max_ms']:.1f} ms over {row['searches']} searches "
                f"(target p95 <= {TARGET_P95_MS:.0f} ms at {TARGET_SIZE:,})"
            )
    largest = rows[-1]
    result = {
        "target": {"p95_ms": TARGET_P95_MS, "lessons": TARGET_SIZE},
        "words_per_lesson": WORDS_PER_LESSON,
        "vocabulary": VOCABULARY_SIZE,
        "everyday_share": EVERYDAY_SHARE,
        "results": rows,
        "p95_over_target_at_largest": round(largest["p95_ms"] / TARGET_P95_MS, 2),
        "target_size_measured": largest["lessons"] >= TARGET_SIZE,
        "notes": notes(rows),
    }
    if result["notes"]:
        print(result["notes"])
    print(f"wrote {write_result('search', result)}")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="only 1k and 10k lessons")
    run(parser.parse_args().quick)
