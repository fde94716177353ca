"""A purge is durable only once it is scrubbed from the disk: the pending marker written with
the deletion stays until the WAL was checkpointed and truncated, and a disk full of
nothing but SQLite's own errors is reported as one :class:`StorageFull`."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from archive.db import connect, is_storage_full, transaction
from archive.errors import StorageFull
from archive.purge import (
    delete_record,
    finish_pending_purges,
    is_purge_pending,
    mark_purge_pending,
    pending_purges,
)
from node.home import DATABASE_FILE
from node.node import Node
from tests.integration.conftest import files_containing

WORD = b"zqcanarydurable"


def purge_without_scrub(node: Node) -> str:
    """Store a lesson carrying WORD, checkpoint it into the main file, then delete it with
    its pending marker, as a withdrawal's transaction does (the scrub not yet run)."""
    record = node.add_lesson_file(lesson_file(node.paths.root.parent))
    node.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with transaction(node.db):
        assert delete_record(node.db, record.id_hex)
        mark_purge_pending(node.db, "rev-1", node.now())
    return record.id_hex


def lesson_file(folder: Path) -> Path:
    path = folder / "durable.md"
    path.write_text(f"---\ntitle: Safe houses\nkind: checklist\n---\nThe list: {WORD.decode()}.\n")
    return path


def test_the_marker_stays_until_the_disk_is_scrubbed(node: Node) -> None:
    purge_without_scrub(node)
    home = node.paths.root
    assert files_containing(home, WORD), "committed, not yet scrubbed: the bytes are there"
    assert is_purge_pending(node.db, "rev-1")

    node.db.execute("PRAGMA busy_timeout = 50")  # the reader below would hold it 10 s
    with closing(sqlite3.connect(home / DATABASE_FILE, isolation_level=None)) as reader:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM records").fetchone()  # an open snapshot
        assert not finish_pending_purges(node.db), "a reader holds the WAL: not durable yet"
        assert pending_purges(node.db) == ["rev-1"]
        reader.execute("COMMIT")

    assert finish_pending_purges(node.db)
    assert pending_purges(node.db) == []
    assert files_containing(home, WORD) == []


def test_every_start_finishes_an_unscrubbed_purge(node: Node) -> None:
    purge_without_scrub(node)
    home, clock = node.paths.root, node.clock
    node.db.conn.close()  # as if killed: nobody scrubbed (closing checkpoints, not the index)
    assert files_containing(home, WORD), "only the start's redo removes the rest"
    reopened = Node(home, clock=clock)
    try:
        assert pending_purges(reopened.db) == []
        assert files_containing(home, WORD) == []
    finally:
        reopened.close()


def test_sqlite_saying_the_disk_is_full_is_one_storage_full(tmp_path: Path) -> None:
    db = connect(tmp_path / "small.db")
    db.execute("CREATE TABLE t (x BLOB)")
    page_count = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {page_count + 1}")  # SQLite's own SQLITE_FULL
    refused = pytest.raises(StorageFull, match="disk is full: nothing of this change was stored")
    with refused, transaction(db):
        db.execute("INSERT INTO t VALUES (zeroblob(100000))")
    assert not db.conn.in_transaction  # rolled back whole, the connection usable
    assert db.execute("SELECT count(*) FROM t").fetchone()[0] == 0
    assert is_storage_full(OSError(28, "No space left on device"))
    assert not is_storage_full(OSError(13, "Permission denied"))
