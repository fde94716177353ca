"""Panic wipe time against archive size: ``rhizome wipe`` on homes of 10k, 100k and 1M lessons.

Each size gets a node home (made with a passphrase, as a hub at risk would be) whose archive
is generated straight into its database like the search benchmark's (signed lessons of about
60 words, one transaction per 5,000). Up to 100k every lesson is signed; the million is the
100k archive grown to a million rows by copying its rows under new ids (records and search
index alike), because signing a million lessons takes most of an hour on this machine while
what a wipe costs depends only on the files on disk. Each measurement wipes a fresh copy of
the home (written to the disk first: ``sync``), three times per size, and notes when the key
material was gone (the first step: from then on nothing of the sealed home can be decrypted,
even with the passphrase) and when the whole home was deleted. Target from the issue: the
node is unrecoverable in under 2 s at 1M lessons, judged on the slowest key destruction; the
time to delete the rest is reported beside it (it depends on the file system: one mounted
with ``discard`` trims every freed block as the file is deleted).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from archive.db import transaction
from bench.bench_search import BATCH, build_archive, print_progress
from bench.common import write_result
from node.home import create_home
from node.node import Node
from node.wipe import wipe_home

TARGET_SECONDS = 2.0
TARGET_SIZE = 1_000_000
SIGNED_UP_TO = 100_000
WORDS_PER_LESSON = 60
REPEATS = 3
PASSPHRASE = "a passphrase for the wipe benchmark"


def make_home(folder: Path, lessons: int, signed_from: Path | None) -> tuple[Path, str]:
    """A node home holding ``lessons`` lessons: signed here, or grown from ``signed_from``'s
    database (a signed archive of fewer lessons); how it was built."""
    home = folder / f"home-{lessons}"
    if signed_from is not None:
        shutil.copytree(signed_from, home)
        node = Node(home, passphrase=lambda: PASSPHRASE)
        try:
            grow(node, lessons)
        finally:
            node.close()
        return home, "grown"
    create_home(home, name=f"Bench {lessons}", region="Bench", language="en", url=None,
                host="127.0.0.1", port=8470, passphrase=PASSPHRASE)  # fmt: skip
    node = Node(home, passphrase=lambda: PASSPHRASE)
    try:
        progress = print_progress(f"{lessons:,}", lessons, time.perf_counter())
        build_archive(node.db, node.identity, lessons, WORDS_PER_LESSON, progress)
    finally:
        node.close()
    return home, "signed"


def grow(node: Node, lessons: int) -> None:
    """Copy the archive's rows under new ids until it holds ``lessons`` (bench data only:
    these rows are not valid records, and only their size matters here)."""
    db = node.db
    columns = [row[1] for row in db.execute("PRAGMA table_info(records)").fetchall()]
    rest = ", ".join(columns[1:])
    fts = ", ".join(row[1] for row in db.execute("PRAGMA table_info(records_fts)").fetchall())
    held = int(db.execute("SELECT count(*) FROM records").fetchone()[0])
    while held < lessons:
        batch = min(BATCH * 10, lessons - held, held)
        with transaction(db):
            db.execute(
                f"INSERT INTO records (id, {rest}) SELECT lower(hex(randomblob(32))), {rest} "
                f"FROM records LIMIT {batch}"
            )
            db.execute(
                f"INSERT INTO records_fts ({fts}) SELECT {fts} FROM records_fts LIMIT {batch}"
            )
        held += batch
        print(f"  grown to {held:,} rows", flush=True)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def sealed_at_rest() -> bool:
    """Whether a home made with a passphrase encrypts its database (sealing at rest)."""
    with tempfile.TemporaryDirectory(prefix="rhizome-bench-wipe-probe-") as tmp:
        home = Path(tmp) / "probe"
        create_home(home, name="Probe", region="Bench", language="en", url=None,
                    host="127.0.0.1", port=8470, passphrase=PASSPHRASE)  # fmt: skip
        with (home / "rhizome.db").open("rb") as database:
            return database.read(16) != b"SQLite format 3\x00"


def folder_bytes(home: Path) -> int:
    return sum(path.stat().st_size for path in home.rglob("*") if path.is_file())


def wipe_once(template: Path, folder: Path) -> tuple[float, float, int]:
    """Wipe a fresh copy of ``template``: (seconds to the keys gone, seconds in all, keys)."""
    work = folder / "wiped"
    shutil.copytree(template, work)
    os.sync()  # the copy on the disk, as a hub's home is
    marks: dict[str, float] = {}

    def mark(step: str) -> None:
        marks[step] = time.perf_counter()

    started = time.perf_counter()
    report = wipe_home(work, after_step=mark)
    total = time.perf_counter() - started
    return marks["destroy_keys"] - started, total, len(report.destroyed)


def measure(lessons: int, folder: Path, signed_from: Path | None) -> tuple[dict[str, Any], Path]:
    home, built = make_home(folder, lessons, signed_from)
    size = folder_bytes(home)
    runs = [wipe_once(home, folder) for _ in range(REPEATS)]
    keys = [run[0] for run in runs]
    totals = [run[1] for run in runs]
    row = {
        "lessons": lessons,
        "built": built,
        "home_mb": round(size / 1e6, 1),
        "key_files": runs[0][2],
        "keys_ms_median": round(statistics.median(keys) * 1000, 2),
        "keys_ms_max": round(max(keys) * 1000, 2),
        "wipe_s_median": round(statistics.median(totals), 3),
        "wipe_s_max": round(max(totals), 3),
        "wipe_s_each": [round(total, 3) for total in totals],
    }
    return row, home


def run(quick: bool = False) -> dict[str, Any]:
    sizes = (10_000,) if quick else (10_000, 100_000, TARGET_SIZE)
    rows = []
    with tempfile.TemporaryDirectory(prefix="rhizome-bench-wipe-") as tmp:
        signed: Path | None = None
        for lessons in sizes:
            row, home = measure(lessons, Path(tmp), signed if lessons > SIGNED_UP_TO else None)
            rows.append(row)
            if lessons == SIGNED_UP_TO:
                signed = home
            print(
                f"wipe, {lessons:,} lessons ({row['home_mb']:,} MB, {row['built']}): keys gone "
                f"after {row['keys_ms_median']} ms, home gone after {row['wipe_s_median']} s "
                f"(median of {REPEATS}, max {row['wipe_s_max']} s; target < {TARGET_SECONDS} s "
                f"at {TARGET_SIZE:,})",
                flush=True,
            )
    largest = rows[-1]
    result = {
        "target": {"seconds": TARGET_SECONDS, "lessons": TARGET_SIZE},
        "repeats": REPEATS,
        "words_per_lesson": WORDS_PER_LESSON,
        "results": rows,
        "max_over_target_at_largest": round(largest["keys_ms_max"] / 1000 / TARGET_SECONDS, 4),
        "sealed_at_rest": sealed_at_rest(),
        "target_size_measured": largest["lessons"] >= TARGET_SIZE,
    }
    print(f"wrote {write_result('wipe', result)}")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="only 10k lessons")
    run(parser.parse_args().quick)
