"""Removing a record for real: its row, its search-index entry and the pages they used.

``secure_delete`` (set on every connection) zeroes the freed pages, and a checkpoint moves
the change out of the write-ahead log and truncates it, so the text is gone from the files,
not just hidden.

A purge is durable only once that scrub is done, and a crash (kill -9, power cut) can come
between the commit that deletes the rows and the scrub, leaving the old bytes in
``rhizome.db-wal`` or in the main file. So the transaction that deletes also writes a
*purge pending* marker (:func:`mark_purge_pending`); :func:`finish_pending_purges` scrubs
and only then clears it. Every start of the node runs :func:`finish_pending_purges` before
anything else, and nothing says "purged" (no receipt is signed) while a marker remains.
"""

from __future__ import annotations

import sqlite_utils

from archive.blobs import sweep_purged_blobs
from archive.errors import StorageFull
from archive.migrations import schemas_of


def delete_record(db: sqlite_utils.Database, record_id: str) -> bool:
    """Delete a record and its index entry, and let every package forget what it keeps for
    it (the purge hooks of the connection's schemas, e.g. governance's approvals), inside
    the caller's transaction. The hooks run even when the record is not held here."""
    for schema in schemas_of(db):
        for hook in schema.purge_hooks:
            hook(db, record_id)
    row = db.execute("SELECT rowid FROM records WHERE id = ?", [record_id]).fetchone()
    if row is None:
        return False
    db.execute("DELETE FROM records_fts WHERE rowid = ?", [row[0]])
    db.execute("DELETE FROM records WHERE rowid = ?", [row[0]])
    return True


def scrub_free_space(db: sqlite_utils.Database) -> bool:
    """After a purge: merge the search index (dropping deleted terms) and checkpoint the WAL
    with TRUNCATE. True when the old bytes are gone from every file of the database.

    Inside a larger transaction (a bundle import) this waits (False): the outer caller
    scrubs once it has committed. Another process reading the database can hold the
    checkpoint back: it waits for it up to the busy timeout, then gives up (False), and the
    pending purge marker makes sure the job is finished later. A full disk can stop the
    checkpoint too (False).
    """
    if db.conn.in_transaction:
        return False
    try:
        if db.execute("PRAGMA secure_delete").fetchone()[0] != 1:
            db.execute("PRAGMA secure_delete = ON")
        db.execute("INSERT INTO records_fts (records_fts) VALUES ('optimize')")
        # One try: it already waits (the busy timeout) for readers and writers to let go.
        busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except StorageFull:
        return False
    return not busy


def mark_purge_pending(db: sqlite_utils.Database, purge_id: str, now: int) -> None:
    """Note, in the purging transaction itself, that its scrub is still to come.

    ``purge_id`` is the revocation's id (its receipt waits for the scrub), or
    ``rejected:RECORD`` for a quarantined record a curator refused."""
    db.execute(
        "INSERT OR IGNORE INTO purge_pending (revocation_id, since) VALUES (?, ?)",
        [purge_id, now],
    )


def is_purge_pending(db: sqlite_utils.Database, revocation_id: str) -> bool:
    row = db.execute(
        "SELECT 1 FROM purge_pending WHERE revocation_id = ?", [revocation_id]
    ).fetchone()
    return row is not None


def pending_purges(db: sqlite_utils.Database) -> list[str]:
    """Revocations whose purge was committed but not yet scrubbed from the disk."""
    return [str(row[0]) for row in db.execute("SELECT revocation_id FROM purge_pending")]


def finish_pending_purges(db: sqlite_utils.Database) -> bool:
    """Scrub what pending purges left behind, then clear their markers; True when none is
    left. Cheap when nothing is pending (one query), so every start can call it.

    The markers are cleared only after the checkpoint truncated the WAL; a crash before that
    leaves them in place, and the next start scrubs again (scrubbing twice is harmless).
    """
    done = pending_purges(db)
    if not done:
        return True
    if not scrub_free_space(db):
        return False
    sweep_purged_blobs(db)  # attachment bytes, partial downloads too (archive/blobs.py)
    marks = ", ".join("?" for _ in done)
    try:
        db.execute(f"DELETE FROM purge_pending WHERE revocation_id IN ({marks})", done)
    except StorageFull:
        return False  # scrubbed, but still marked: the next try clears it
    return True
