"""Reads against archive size, before and after issue 13: list pages, home page, search,
the consent-expiry check; and the migration that brings an existing home to the new schema.

Each size's archive (bench/read_archive.py: generated once, cached outside the repository)
is copied, then measured twice on the same file:

- *before*: the queries as they were before the list kept its facts (``NOT EXISTS`` over
  versions for every row, ``OFFSET`` paging with a count of the whole list, the quarantine
  counted by reading every record, the expiry check reading every consent block, search
  scoring every match), on a plain SQLite connection to the untouched copy;
- then the copy is opened as a node opens it (the migrations m014..m016 run: timed), and
- *after*: :mod:`archive.listing`, :func:`node.actions.reading.home_overview`,
  :func:`archive.search.search` and :func:`archive.record_facts.expired_records`.

Each figure is the median of a few runs of the same call, as wall time and as the thread's
CPU time (the machine is shared: CPU time says what the read costs, wall time what a reader
waited). Targets from the issue: any list page and the home page within 30 ms at 1M, search
p95 within 50 ms at 100k and 150 ms at 1M, the expiry check within 10 ms at 1M.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import archive.search
import archive.search_ranking
from archive.listing import lesson_page
from archive.record_facts import expired_records
from bench.bench_search import percentile, queries
from bench.common import write_result
from bench.read_archive import EXPIRY_BASE, working_copy
from node.actions.reading import home_overview
from node.database import open_database

TARGETS = {"page_ms": 30.0, "search_p95_ms": {100_000: 50.0, 1_000_000: 150.0}, "expiry_ms": 10.0}
PAGE = 20
REPEATS = 5
SEARCHES = 100
DUE_NOW = EXPIRY_BASE + 97 * 1_000  # ten generated lessons' consent has expired by then
OLD_LATEST = (
    "quarantined = 0 AND NOT EXISTS (SELECT 1 FROM records AS newer "
    "WHERE newer.supersedes = records.id AND newer.origin = records.origin)"
)
OLD_COLUMNS = "id, kind, title, summary, language, region, tags, created"
OLD_EXPIRED = """
SELECT id FROM records
WHERE origin = ? AND id NOT IN (SELECT record_id FROM tombstones) AND (
    json_extract(consent, '$.expires') <= ?
    OR EXISTS (
        SELECT 1 FROM json_each(records.consent, '$.subjects') AS subject
        WHERE json_extract(subject.value, '$.expires') <= ?
    )
)
"""


def timed(call: Callable[[], object], repeats: int = REPEATS) -> dict[str, float]:
    """Median wall and CPU milliseconds of ``call`` (after one warm-up run)."""
    call()
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.thread_time()
        call()
        cpus.append((time.thread_time() - cpu) * 1000)
        walls.append((time.perf_counter() - wall) * 1000)
    middle = statistics.median
    return {"wall_ms": round(middle(walls), 2), "cpu_ms": round(middle(cpus), 2)}


def old_page(db: sqlite3.Connection, offset: int) -> object:
    rows = db.execute(
        f"SELECT {OLD_COLUMNS} FROM records WHERE {OLD_LATEST} "
        "ORDER BY created DESC, id LIMIT ? OFFSET ?",
        [PAGE + 1, offset],
    ).fetchall()
    total = db.execute(f"SELECT count(*) FROM records WHERE {OLD_LATEST}").fetchone()
    return rows, total


def old_home(db: sqlite3.Connection) -> object:
    return (
        db.execute(f"SELECT count(*) FROM records WHERE {OLD_LATEST}").fetchone(),
        db.execute("SELECT status, count(*) FROM peers GROUP BY status").fetchall(),
        db.execute(
            "SELECT count(DISTINCT item_id), count(DISTINCT peer_id) FROM outbox "
            "WHERE kind = 'revocation'"
        ).fetchone(),
        db.execute(f"SELECT {OLD_COLUMNS} FROM records WHERE quarantined = 1").fetchall(),
        db.execute(
            f"SELECT {OLD_COLUMNS} FROM records WHERE {OLD_LATEST} "
            "ORDER BY created DESC, id LIMIT 10"
        ).fetchall(),
    )


def searched(db: Any, words: list[str], window: int) -> dict[str, float]:
    """p50 and p95 (wall and CPU) of ``words`` searched with this ranking window."""
    kept = archive.search.RANKED_WINDOW, archive.search_ranking.COMMON_FROM
    archive.search.RANKED_WINDOW = window
    if window > kept[0]:  # "before": every word of every match scored, as bm25 did then
        archive.search_ranking.COMMON_FROM = 10**12
    try:
        for text in words[:5]:
            archive.search.search(db, text)
        walls, cpus = [], []
        for text in words:
            wall, cpu = time.perf_counter(), time.thread_time()
            archive.search.search(db, text)
            cpus.append((time.thread_time() - cpu) * 1000)
            walls.append((time.perf_counter() - wall) * 1000)
    finally:
        archive.search.RANKED_WINDOW, archive.search_ranking.COMMON_FROM = kept
    return {
        "p50_wall_ms": round(percentile(walls, 0.5), 1),
        "p95_wall_ms": round(percentile(walls, 0.95), 1),
        "p95_cpu_ms": round(percentile(cpus, 0.95), 1),
    }


def measure_before(path: Path, size: int, origin: str) -> dict[str, Any]:
    db = sqlite3.connect(path)
    last = max(0, size - size // 40 - size // 500 - PAGE)  # about the last page of the list
    repeats = 1 if size >= 1_000_000 else 3
    before = {
        "list_first": timed(lambda: old_page(db, 0), repeats),
        "list_middle": timed(lambda: old_page(db, last // 2), repeats),
        "list_last": timed(lambda: old_page(db, last), repeats),
        "home": timed(lambda: old_home(db), repeats),
        "expiry": timed(lambda: db.execute(OLD_EXPIRED, [origin, DUE_NOW, DUE_NOW]).fetchall(),
                        repeats),
    }  # fmt: skip
    db.close()
    return before


def cursor_at(db: Any, position: int) -> str:
    row = db.execute(
        "SELECT created, id FROM records WHERE latest = 1 AND quarantined = 0 "
        "ORDER BY created DESC, id DESC LIMIT 1 OFFSET ?",
        [max(0, position - 1)],
    ).fetchone()
    return f"{row[0]}.{row[1]}"


def measure_after(db: Any, origin: str) -> dict[str, Any]:
    listed = lesson_page(db, limit=1).total
    middle, last = cursor_at(db, listed // 2), cursor_at(db, listed - PAGE)
    node = types.SimpleNamespace(db=db, node_id=origin, now=lambda: DUE_NOW)
    due = expired_records(db, origin, DUE_NOW)
    return {
        "list_first": timed(lambda: lesson_page(db, limit=PAGE)),
        "list_middle": timed(lambda: lesson_page(db, limit=PAGE, after=middle)),
        "list_last": timed(lambda: lesson_page(db, limit=PAGE, after=last)),
        "list_previous": timed(lambda: lesson_page(db, limit=PAGE, before=middle)),
        "home": timed(lambda: home_overview(node)),  # type: ignore[arg-type]
        "expiry": timed(lambda: expired_records(db, origin, DUE_NOW)),
        "expired_found": len(due),
        "listed": listed,
    }


def measure(size: int, folder: Path, quick: bool) -> dict[str, Any]:
    path = working_copy(size, folder)
    plain = sqlite3.connect(path)
    origin = str(plain.execute("SELECT origin FROM records LIMIT 1").fetchone()[0])
    plain.close()
    words = queries(SEARCHES if not quick else 40)
    before = measure_before(path, size, origin)
    started = time.perf_counter()
    db = open_database(path)  # the migrations of an existing home run here
    migration_s = time.perf_counter() - started
    after = measure_after(db, origin)
    before_words = words if size < 1_000_000 else words[: SEARCHES // 5]  # ~2 s each
    before["search"] = searched(db, before_words, 10**12)  # every match scored, as before
    after["search"] = searched(db, words, archive.search.RANKED_WINDOW)
    db.conn.close()
    path.unlink()
    return {"lessons": size, "migration_s": round(migration_s, 1), "before": before,
            "after": after}  # fmt: skip


def run(quick: bool = False, sizes: tuple[int, ...] | None = None) -> dict[str, Any]:
    sizes = sizes or ((10_000,) if quick else (10_000, 100_000, 1_000_000))
    rows = []
    with tempfile.TemporaryDirectory(prefix="rhizome-bench-reads-") as tmp:
        for size in sizes:
            row = measure(size, Path(tmp), quick)
            rows.append(row)
            after, before = row["after"], row["before"]
            print(
                f"reads, {size:,} lessons: list page {after['list_middle']['wall_ms']} ms "
                f"(before {before['list_middle']['wall_ms']} ms), home "
                f"{after['home']['wall_ms']} ms (before {before['home']['wall_ms']} ms), "
                f"search p95 {after['search']['p95_wall_ms']} ms (before "
                f"{before['search']['p95_wall_ms']} ms), expiry {after['expiry']['wall_ms']} ms "
                f"(before {before['expiry']['wall_ms']} ms); migration {row['migration_s']} s",
                flush=True,
            )
    result = {
        "targets": {**TARGETS, "search_p95_ms": {str(k): v for k, v in
                                                  TARGETS["search_p95_ms"].items()}},
        "page_size": PAGE,
        "searches": len(queries(SEARCHES if not quick else 40)),
        "ranked_window": archive.search.RANKED_WINDOW,
        "results": rows,
    }  # fmt: skip
    print(f"wrote {write_result('reads', result)}")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="only 10k lessons")
    parser.add_argument("--sizes", type=int, nargs="+", help="these archive sizes only")
    arguments = parser.parse_args()
    run(arguments.quick, tuple(arguments.sizes) if arguments.sizes else None)
