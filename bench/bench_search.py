"""Search latency against archive size: p50, p95 and max of 200 typed searches.

The archives are those of the read benchmarks (bench/read_archive.py: generated once and
cached outside the repository; a million lessons are ten SQL copies of the 100k archive):
lessons of 250 words drawn from a 20,000-word vocabulary on a Zipf curve, so that the
full-text index has realistic postings (a few words in almost every lesson, most in few),
every 40th a new version hiding the one before, some in quarantine. The searches are a
fixed, seeded list of 1 to 3 words, about a third of them the movement's everyday words
(consent, safety, training...) that many lessons share, the rest ordinary vocabulary. Each
runs through ``archive.search.search`` as the API does (ranked, 20 hits with snippets).

Every size is searched in turn, three rounds over, in one process: the sizes are measured
side by side, and a busy minute of the shared machine falls on each alike. Each figure is
CPU time of the searching thread (what a search costs; the wall time, also kept, measures
the queue for a core on this shared machine too) from the median round. Targets from issue
13: p95 within 50 ms at 100k lessons and 150 ms at 1M, mixed common and rare words.

``build_archive`` (sign and insert generated lessons straight into SQLite) is kept for the
benchmarks that build their own node homes.
"""

from __future__ import annotations

import argparse
import math
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlite_utils

from archive.db import transaction
from archive.queries import LATEST
from archive.record import KINDS, Consent, Lesson
from archive.search import RANKED_WINDOW, WEIGHTS, match_expression, search
from archive.signed_record import sign_lesson
from archive.store import insert_record
from bench.common import _WORDS, write_result
from crypto.signing import SigningIdentity
from node.database import open_database

TARGET_P95_MS = 50.0
TARGET_SIZE = 100_000
TARGETS_P95_MS = {100_000: 50.0, 1_000_000: 150.0}  # issue 13: mixed common and rare words
SIZES = (1_000, 10_000, 100_000, 1_000_000)
ROUNDS = 3
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


def timed_searches(db: sqlite_utils.Database, searches: list[str]) -> tuple[list[float], ...]:
    """(wall ms, CPU ms, hits) of each search, in order."""
    walls, cpus, hits = [], [], []
    for text in searches:
        wall, cpu = time.perf_counter(), time.thread_time()
        found = search(db, text)
        cpus.append((time.thread_time() - cpu) * 1000)
        walls.append((time.perf_counter() - wall) * 1000)
        hits.append(float(len(found)))
    return walls, cpus, hits


def open_archive(size: int) -> tuple[sqlite_utils.Database, Path]:
    """The cached archive of ``size`` lessons (bench/read_archive.py), opened as a node opens
    it; searching writes nothing, so the cache is searched where it is."""
    from bench.read_archive import cached_archive  # it imports this module's generator

    path = cached_archive(size)
    return open_database(path), path


def measure(sizes: tuple[int, ...], rounds: int) -> list[dict[str, Any]]:
    """Every size searched in turn, ``rounds`` times over (so that a busy minute of the
    shared machine falls on every size alike); each round's percentiles are kept."""
    searches = queries()
    opened = {size: open_archive(size) for size in sizes}
    for db, _path in opened.values():
        for text in searches[:10]:  # warm the page cache and the statement cache
            search(db, text)
    runs: dict[int, list[tuple[list[float], ...]]] = {size: [] for size in sizes}
    for round_number in range(rounds):
        for size in sizes:
            runs[size].append(timed_searches(opened[size][0], searches))
            walls, cpus, _ = runs[size][-1]
            print(
                f"  round {round_number + 1}, {size:,} lessons: p95 {percentile(cpus, 0.95):.1f} "
                f"ms of CPU, {percentile(walls, 0.95):.1f} ms of wall time",
                flush=True,
            )
    rows = []
    for size in sizes:
        db, path = opened[size]
        rows.append(summary_row(db, path, size, searches, runs[size]))
        db.conn.close()
    return rows


def summary_row(
    db: sqlite_utils.Database,
    path: Path,
    size: int,
    searches: list[str],
    runs: list[tuple[list[float], ...]],
) -> dict[str, Any]:
    """The median round's figures (by CPU p95), every round's p95, the slowest searches."""
    by_cpu_p95 = sorted(runs, key=lambda run: percentile(run[1], 0.95))
    walls, cpus, hits = by_cpu_p95[len(by_cpu_p95) // 2]
    slowest = sorted(range(len(searches)), key=cpus.__getitem__)[-5:][::-1]
    return {
        "lessons": size,
        "searches": len(searches),
        "rounds": len(runs),
        "p50_ms": round(percentile(walls, 0.50), 2),
        "p95_ms": round(percentile(walls, 0.95), 2),
        "max_ms": round(max(walls), 2),
        "p50_cpu_ms": round(percentile(cpus, 0.50), 2),
        "p95_cpu_ms": round(percentile(cpus, 0.95), 2),
        "p95_cpu_ms_rounds": [round(percentile(run[1], 0.95), 2) for run in runs],
        "p95_ms_rounds": [round(percentile(run[0], 0.95), 2) for run in runs],
        "mean_hits": round(sum(hits) / len(hits), 1),
        "database_mb": round(path.stat().st_size / 1e6, 1),
        "slowest": [
            {
                "query": searches[index],
                "ms": round(cpus[index], 1),
                "matches": matches(db, searches[index]),
            }
            for index in slowest
        ],
        "slowest_breakdown": breakdown(db, searches[slowest[0]]),
    }


def notes(rows: list[dict[str, Any]]) -> str:
    """Which targets are missed and by how much, from the measurements (empty if all met)."""
    missed = []
    for row in rows:
        target = TARGETS_P95_MS.get(row["lessons"])
        if target is None or row["p95_cpu_ms"] <= target:
            continue
        slow, split = row["slowest"][0], row["slowest_breakdown"]
        missed.append(
            f"at {row['lessons']:,} lessons p95 is {row['p95_cpu_ms']:.0f} ms of CPU, "
            f"{row['p95_cpu_ms'] / target:.1f}x the {target:.0f} ms target; the slowest search, "
            f"{slow['query']!r}, matches {slow['matches']:,} lessons, and FTS5 ranking it "
            f"alone (bm25 over every match) takes {split['ranking_only_ms']:.0f} ms"
        )
    return "; ".join(missed).capitalize() + "." if missed else ""


def run(quick: bool = False, sizes: tuple[int, ...] | None = None) -> dict[str, Any]:
    sizes = sizes or ((1_000, 10_000) if quick else SIZES)
    rows = measure(sizes, 1 if quick else ROUNDS)
    for row in rows:
        print(
            f"search, {row['lessons']:,} lessons: p95 {row['p95_cpu_ms']:.1f} ms of CPU "
            f"(rounds: {', '.join(f'{value:.1f}' for value in row['p95_cpu_ms_rounds'])}), "
            f"p50 {row['p50_cpu_ms']:.1f} ms; wall p95 {row['p95_ms']:.1f} ms"
        )
    measured = {row["lessons"] for row in rows}
    result = {
        "target": {"p95_ms": TARGET_P95_MS, "lessons": TARGET_SIZE},
        "targets": [
            {"lessons": size, "p95_ms": target, "measured": size in measured}
            for size, target in TARGETS_P95_MS.items()
        ],
        "judged_on": "cpu",
        "words_per_lesson": WORDS_PER_LESSON,
        "vocabulary": VOCABULARY_SIZE,
        "everyday_share": EVERYDAY_SHARE,
        "ranked_window": RANKED_WINDOW,
        "results": rows,
        "p95_over_target_at_largest": round(
            rows[-1]["p95_cpu_ms"] / TARGETS_P95_MS.get(rows[-1]["lessons"], TARGET_P95_MS), 2
        ),
        "target_size_measured": TARGET_SIZE in measured,
        "notes": notes(rows),
    }
    if result["notes"]:
        print(result["notes"])
    print(f"wrote {write_result('search', result)}")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="only 1k and 10k lessons")
    parser.add_argument("--sizes", type=int, nargs="+", help="these archive sizes only")
    arguments = parser.parse_args()
    run(arguments.quick, tuple(arguments.sizes) if arguments.sizes else None)
