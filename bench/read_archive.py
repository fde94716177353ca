"""A node database of n generated lessons for the read benchmarks, built once and cached.

Building a million signed, indexed lessons takes a long while, so each size is built once
into a cache directory (``RHIZOME_BENCH_DATA``, or ``rhizome-bench-data`` in the system's
temporary directory; never inside the repository) and copied from there for each run
(a million lessons, nine gigabytes, is moved into the run instead, and built again next
time). The
lessons are those of :func:`bench.bench_search.make_lesson` (Zipf-distributed words, 250 per
body), plus what the read paths must step around: every 40th lesson is a new version of the
one before (so the older one leaves the list), every 500th waits in quarantine, and every
100th has a consent expiry (in the future, spread over years; see :data:`EXPIRY_BASE`).

A database built by an older Rhizome is upgraded by its migrations when the benchmark opens
it: that is how an existing hub meets a new release, and the benchmark times it.
"""

from __future__ import annotations

import dataclasses
import os
import random
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

import sqlite_utils

from archive.db import connect, transaction
from archive.migrations import Schema
from archive.record import Consent
from archive.schema import SCHEMA as ARCHIVE
from archive.signed_record import SignedRecord, sign_lesson
from archive.store import insert_record
from bench.bench_search import BATCH, WORDS_PER_LESSON, Vocabulary, make_lesson
from crypto.signing import SigningIdentity
from node.database import SCHEMAS, open_database

VERSION_EVERY = 40
QUARANTINE_EVERY = 500
EXPIRY_EVERY = 100
EXPIRY_BASE = 2_000_000_000  # 2033: every generated expiry is later than this
CACHE_TAG = "reads-v1"  # change when the generated content changes
READ_PATH_MIGRATIONS = {"m014_latest_flag_and_counts", "m015_expires_at", "m016_quarantine_index"}
REPLICATED_FROM = 100_000  # larger archives are copies of this one (see replicate)


def cache_dir() -> Path:
    configured = os.environ.get("RHIZOME_BENCH_DATA")
    path = Path(configured) if configured else Path(tempfile.gettempdir()) / "rhizome-bench-data"
    path.mkdir(parents=True, exist_ok=True)
    return path


def cached_archive(size: int) -> Path:
    """The cached database of ``size`` lessons, built now if it is not there yet."""
    path = cache_dir() / f"{CACHE_TAG}-{size}.db"
    if not path.exists():
        building = path.with_suffix(".building")
        building.unlink(missing_ok=True)
        if size > REPLICATED_FROM and size % REPLICATED_FROM == 0:
            shutil.copyfile(cached_archive(REPLICATED_FROM), building)
            seconds = replicate(building, size // REPLICATED_FROM)
        else:
            seconds = build(building, size)
        building.rename(path)
        print(f"  built {size:,} lessons in {seconds:.0f} s: {path}", flush=True)
    return path


def replicate(path: Path, copies: int) -> float:
    """Grow an archive to ``copies`` times its size by copying its rows in SQL: each copy
    gets new ids (the old ones rotated, a copy number appended: versions stay linked within
    the copy), later ``created`` times (the copies are newer) and its own search-index rows.

    Signing and indexing a million generated lessons one by one takes over an hour on a
    shared two-core machine; this takes minutes. The copies' envelopes are those of the
    originals (their ids no longer hash to them: ``verify`` would say so), which no read
    path measured here checks. The word statistics of the index stay those of the
    generator: every word is ``copies`` times as frequent, as in a real archive that size.
    """
    started = time.perf_counter()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA cache_size = -200000")
    columns = [str(row[1]) for row in db.execute("PRAGMA table_info(records)")]
    base = int(db.execute("SELECT max(rowid) FROM records").fetchone()[0])
    span = int(db.execute("SELECT max(created) - min(created) + 1 FROM records").fetchone()[0])
    for copy in range(1, copies):
        moved = {
            "id": f"substr(id, 3) || printf('%02x', {copy})",
            "supersedes": f"substr(supersedes, 3) || printf('%02x', {copy})",
            "translation_of": f"substr(translation_of, 3) || printf('%02x', {copy})",
            "created": f"created + {copy * span}",
        }
        chosen = ", ".join(moved.get(column, column) for column in columns)
        for first in range(1, base + 1, BATCH * 4):
            last = first + BATCH * 4 - 1
            db.execute("BEGIN")
            db.execute(
                f"INSERT INTO records ({', '.join(columns)}) SELECT {chosen} FROM records "
                f"WHERE rowid BETWEEN {first} AND {last} ORDER BY rowid"
            )
            db.execute(
                "INSERT INTO records_fts (rowid, title, summary, body, tags) "
                f"SELECT rowid + {copy * base}, title, summary, body, tags FROM records_fts "
                f"WHERE rowid BETWEEN {first} AND {last}"
            )
            db.execute("COMMIT")
        print(f"  copy {copy + 1}/{copies}: {time.perf_counter() - started:.0f} s", flush=True)
    rows, top = db.execute("SELECT count(*), max(rowid) FROM records").fetchone()
    if rows != top or top != copies * base:  # the index rows must line up with the records
        raise RuntimeError(f"replication went wrong: {rows} rows, highest rowid {top}")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return time.perf_counter() - started


def working_copy(size: int, into: Path) -> Path:
    """A copy of the cached archive, as a home stood just before the read-path migrations
    (m014..m016), to run against (the cache stays as it is)."""
    ready = cache_dir() / f"{CACHE_TAG}-{size}-ready.db"
    huge = size > REPLICATED_FROM  # nine gigabytes: moved, not copied (the run uses it up)
    if not ready.exists():
        preparing = ready.with_suffix(".preparing")
        if huge:
            shutil.move(cached_archive(size), preparing)
        else:
            shutil.copyfile(cached_archive(size), preparing)
        seconds = prepare(preparing)
        preparing.rename(ready)
        print(f"  brought {size:,} lessons up to the release before m014: {seconds:.0f} s")
    target = into / f"reads-{size}.db"
    if huge:
        shutil.move(ready, target)
    else:
        shutil.copyfile(ready, target)
    return target


def schemas_before_the_read_path() -> tuple[Schema, ...]:
    """Every package's schema without archive's m014..m016, and with m052 (folding the
    search index again) left empty: the generated lessons are in Latin script, whose case
    and accents the index's tokenizer already folds, and re-folding a million rows in Python
    would add an hour to preparing the cache without changing a token."""
    older = sqlite_utils.Migrations("archive")
    for migration in ARCHIVE.migrations._migrations:
        if migration.name in READ_PATH_MIGRATIONS:
            continue
        function = _unchanged if migration.name == "m052_fold_search_index" else migration.fn
        older(name=migration.name)(function)
    return (dataclasses.replace(ARCHIVE, migrations=older), *SCHEMAS[1:])


def _unchanged(db: sqlite_utils.Database) -> None:
    """Stands in for a migration the generated archive does not need (see above)."""


def prepare(path: Path) -> float:
    """Bring an archive an older Rhizome built up to the release before m014. One this
    Rhizome built (it writes the read path's columns as it stores) is already past it and
    stays as it is: the migrations then have nothing to do when the benchmark opens it."""
    started = time.perf_counter()
    if not has_read_path(path):
        connect(path, schemas_before_the_read_path()).conn.close()
    return time.perf_counter() - started


def has_read_path(path: Path) -> bool:
    """Whether archive m014 already ran on the database at ``path``."""
    db = sqlite3.connect(path)
    try:
        row = db.execute(
            "SELECT 1 FROM _sqlite_migrations WHERE migration_set = 'archive' AND name = ?",
            ["m014_latest_flag_and_counts"],
        ).fetchone()
    except sqlite3.OperationalError:  # no bookkeeping table: a home from before the split
        row = None
    finally:
        db.close()
    return row is not None


def build(path: Path, size: int, seed: int = 0) -> float:
    db = open_database(path)
    identity = SigningIdentity.generate()
    vocabulary = Vocabulary()
    rng = random.Random(seed)
    started = time.perf_counter()
    previous: SignedRecord | None = None
    for first in range(0, size, BATCH):
        with transaction(db):
            for index in range(first, min(size, first + BATCH)):
                previous = _store_one(db, identity, vocabulary, rng, index, previous)
        done = min(size, first + BATCH)
        if done % max(BATCH, size // 10) == 0 or done == size:
            print(
                f"  {size:,}: {done:,} lessons, {time.perf_counter() - started:.0f} s", flush=True
            )
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    return time.perf_counter() - started


def _store_one(
    db: sqlite_utils.Database,
    identity: SigningIdentity,
    vocabulary: Vocabulary,
    rng: random.Random,
    index: int,
    previous: SignedRecord | None,
) -> SignedRecord:
    lesson = make_lesson(vocabulary, index, identity.public_key, rng, WORDS_PER_LESSON)
    if index % VERSION_EVERY == VERSION_EVERY - 1 and previous is not None:
        lesson = dataclasses.replace(lesson, supersedes=previous.record_id)
    if index % EXPIRY_EVERY == 3:
        consent = Consent(basis="consent", scope="federation", expires=EXPIRY_BASE + index * 97)
        lesson = dataclasses.replace(lesson, consent=consent)
    record = sign_lesson(identity, lesson)
    quarantined = index % QUARANTINE_EVERY == QUARANTINE_EVERY - 7
    insert_record(db, record, None, 0, quarantined=quarantined)
    return record


if __name__ == "__main__":
    import sys

    for text in sys.argv[1:]:
        print(cached_archive(int(text)))
