"""Removing a record for real: its row, its search-index entry and the pages they used.

``secure_delete`` (set on every connection) zeroes the freed pages, and a checkpoint moves
the change out of the write-ahead log, so the text is gone from the files, not just hidden.
"""

from __future__ import annotations

import time

import sqlite_utils

CHECKPOINT_TRIES = 20
CHECKPOINT_PAUSE = 0.05


def delete_record(db: sqlite_utils.Database, record_id: str) -> bool:
    """Delete a record and its index entry (inside the caller's transaction)."""
    row = db.execute("SELECT rowid FROM records WHERE id = ?", [record_id]).fetchone()
    if row is None:
        return False
    db.execute("DELETE FROM records_fts WHERE rowid = ?", [row[0]])
    db.execute("DELETE FROM records WHERE rowid = ?", [row[0]])
    return True


def scrub_free_space(db: sqlite_utils.Database) -> None:
    """After a purge: merge the search index (dropping deleted terms) and checkpoint the WAL.

    Inside a larger transaction (a bundle import) this waits: the outer caller scrubs once
    it has committed. Another process reading the database can hold the checkpoint back for
    a moment, so we retry briefly; the next purge or checkpoint finishes the job otherwise.
    """
    if db.conn.in_transaction:
        return
    db.execute("INSERT INTO records_fts (records_fts) VALUES ('optimize')")
    for _ in range(CHECKPOINT_TRIES):
        busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if not busy:
            return
        time.sleep(CHECKPOINT_PAUSE)
