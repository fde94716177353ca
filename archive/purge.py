"""Removing a record for real: its row, its search-index entry and the pages they used.

``secure_delete`` (set on every connection) zeroes the freed pages, and a checkpoint moves
the change out of the write-ahead log, so the text is gone from the files, not just hidden.
"""

from __future__ import annotations

import sqlite_utils


def delete_record(db: sqlite_utils.Database, record_id: str) -> bool:
    """Delete a record and its index entry (inside the caller's transaction)."""
    row = db.execute("SELECT rowid FROM records WHERE id = ?", [record_id]).fetchone()
    if row is None:
        return False
    db.execute("DELETE FROM records_fts WHERE rowid = ?", [row[0]])
    db.execute("DELETE FROM records WHERE rowid = ?", [row[0]])
    return True


def scrub_free_space(db: sqlite_utils.Database) -> None:
    """After a purge: merge the search index (dropping deleted terms) and checkpoint the WAL."""
    db.execute("INSERT INTO records_fts (records_fts) VALUES ('optimize')")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
