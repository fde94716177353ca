"""Archive's tables for attachments (migrations m037 onwards, registered in archive.schema).

``record_blobs`` says which record names which blob (filled as records are stored, emptied
by the purge hook); ``blob_purges`` holds blobs whose bytes a finished purge deletes
(:mod:`archive.blobs`). The bytes themselves are files, never rows.
"""

from __future__ import annotations

from dataclasses import replace

import sqlite_utils

from archive.migrations import Schema

BLOB_TABLES = frozenset({"record_blobs", "blob_purges"})


def m037_record_blobs(db: sqlite_utils.Database) -> None:
    """Which record names which attachment blob, and blobs waiting to be deleted."""
    db.execute(
        "CREATE TABLE record_blobs (record_id TEXT NOT NULL, blob TEXT NOT NULL, "
        "PRIMARY KEY (record_id, blob)) WITHOUT ROWID"
    )
    db.execute("CREATE INDEX record_blobs_by_blob ON record_blobs (blob)")
    db.execute("CREATE TABLE blob_purges (blob TEXT PRIMARY KEY) WITHOUT ROWID")


def with_blob_tables(schema: Schema) -> Schema:
    """Archive's schema owning these tables too, with the purge hook that forgets a purged
    record's blobs (archive.blobs.forget_record_blobs)."""
    from archive.blobs import forget_record_blobs

    return replace(
        schema,
        tables=schema.tables | BLOB_TABLES,
        purge_hooks=(*schema.purge_hooks, forget_record_blobs),
    )
