"""Archive's tables and their migrations (run by :mod:`archive.migrations`).

A new migration is a function added at the end, decorated with ``@MIGRATIONS()``; a shipped
one never changes. Names keep the number of the old positional list they came from (m001..
m012, see :mod:`archive.migrations`); new ones take the next number after the highest used
in any package (m013 onwards), so a name says roughly when it came.
"""

from __future__ import annotations

import sqlite_utils

from archive.blob_schema import m037_record_blobs, with_blob_tables
from archive.exchange_schema import m047_next_due, m048_exchange_kinds
from archive.folding import m052_fold_search_index
from archive.key_tables import KEY_TABLES, m035_key_histories
from archive.listing_schema import (
    m014_latest_flag_and_counts,
    m015_expires_at,
    m016_quarantine_index,
)
from archive.migrations import Schema

MIGRATIONS = sqlite_utils.Migrations("archive")
TABLES = frozenset(
    {
        "records",
        "records_fts",
        "events",
        "revocations",
        "tombstones",
        "purge_pending",
        "lesson_sources",
        "lesson_source_key",
        "listed_counts",
    }
)


@MIGRATIONS()
def m001_records(db: sqlite_utils.Database) -> None:
    """Records (signed bytes plus derived columns), their full-text index, the event log."""
    db.execute(
        """
        CREATE TABLE records (
            id TEXT PRIMARY KEY,
            envelope BLOB NOT NULL,
            kind TEXT NOT NULL,
            title TEXT NOT NULL,
            summary TEXT NOT NULL,
            language TEXT NOT NULL,
            region TEXT NOT NULL,
            tags TEXT NOT NULL,
            sensitivity TEXT NOT NULL,
            scope TEXT NOT NULL,
            consent TEXT NOT NULL,
            origin TEXT NOT NULL,
            author TEXT NOT NULL,
            created INTEGER NOT NULL,
            supersedes TEXT,
            translation_of TEXT,
            received_from TEXT,
            stored_at INTEGER NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX records_by_created ON records (created, id)")
    db.execute("CREATE INDEX records_by_supersedes ON records (supersedes)")
    db.execute("CREATE INDEX records_by_translation ON records (translation_of)")
    # The index keeps its own copy of the text (no external content): purging a record is
    # then one DELETE here, with nothing left in a content table we might forget.
    db.execute(
        """
        CREATE VIRTUAL TABLE records_fts USING fts5(
            title, summary, body, tags,
            tokenize = "unicode61 remove_diacritics 2"
        )
        """
    )
    db.execute(
        """
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            kind TEXT NOT NULL,
            subject TEXT,
            detail TEXT NOT NULL,
            prev BLOB NOT NULL,
            hash BLOB NOT NULL,
            signature BLOB NOT NULL
        )
        """
    )


@MIGRATIONS()
def m003_quarantine_flag(db: sqlite_utils.Database) -> None:
    """Records from peers can wait hidden in quarantine (governance.quarantine decides)."""
    db.execute("ALTER TABLE records ADD COLUMN quarantined INTEGER NOT NULL DEFAULT 0")


@MIGRATIONS()
def m004_revocations(db: sqlite_utils.Database) -> None:
    """Revocations (kept forever) and the tombstones they leave."""
    db.execute(
        """
        CREATE TABLE revocations (
            revocation_id TEXT PRIMARY KEY,
            envelope BLOB NOT NULL,
            origin TEXT NOT NULL,
            issued_at INTEGER NOT NULL,
            reason TEXT NOT NULL,
            received_from TEXT,
            stored_at INTEGER NOT NULL,
            note TEXT
        )
        """
    )
    # One row per withdrawn record id: what beats every copy, on every path.
    db.execute(
        """
        CREATE TABLE tombstones (
            record_id TEXT NOT NULL,
            revocation_id TEXT NOT NULL REFERENCES revocations (revocation_id),
            PRIMARY KEY (record_id, revocation_id)
        ) WITHOUT ROWID
        """
    )


@MIGRATIONS()
def m005_events_by_subject(db: sqlite_utils.Database) -> None:
    """Finding records by their arrival entry in the event log (what --since a bundle means)."""
    db.execute("CREATE INDEX events_by_subject ON events (subject)")


@MIGRATIONS()
def m008_purge_pending(db: sqlite_utils.Database) -> None:
    """Purges committed but not yet scrubbed from the disk (archive.purge redoes them)."""
    db.execute(
        "CREATE TABLE purge_pending (revocation_id TEXT PRIMARY KEY, since INTEGER NOT NULL)"
    )


@MIGRATIONS()
def m010_derived_tombstones(db: sqlite_utils.Database) -> None:
    """Tombstones of translations and versions purged with the record they derive from:
    bound to their own origin (``derived_origin``), not the revocation's (archive.derivation)."""
    db.execute("ALTER TABLE tombstones ADD COLUMN derived_origin TEXT")


@MIGRATIONS()
def m011_lesson_sources(db: sqlite_utils.Database) -> None:
    """Where our own lessons came from, so the same lesson added twice is stored once.

    Each row holds keyed fingerprints (HMAC with a random per-archive key, so they match
    nothing outside this database): of the lesson's content, of the file's path and of its
    file name with title and author. Rows outlive a purge on purpose: they are ids, not
    text, and they keep a withdrawn lesson's file from being imported again.
    """
    db.execute(
        """
        CREATE TABLE lesson_sources (
            content_key BLOB PRIMARY KEY,
            record_id TEXT NOT NULL,
            path_key BLOB,
            name_key BLOB,
            stored_at INTEGER NOT NULL
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX lesson_sources_by_path ON lesson_sources (path_key)")
    db.execute("CREATE INDEX lesson_sources_by_name ON lesson_sources (name_key)")
    db.execute("CREATE TABLE lesson_source_key (key BLOB NOT NULL)")
    db.execute("INSERT INTO lesson_source_key (key) VALUES (randomblob(32))")


MIGRATIONS()(m035_key_histories)  # archive/key_tables.py: node key histories
MIGRATIONS()(m037_record_blobs)  # attachments: archive/blob_schema.py
MIGRATIONS()(m047_next_due)  # follow-ups due: archive/exchange_schema.py
MIGRATIONS()(m048_exchange_kinds)  # collections and evaluations: archive/exchange_schema.py
MIGRATIONS()(m052_fold_search_index)  # search folding: archive/folding.py
for _read_path_migration in (m014_latest_flag_and_counts, m015_expires_at, m016_quarantine_index):
    MIGRATIONS()(_read_path_migration)  # archive/listing_schema.py says why
SCHEMA = Schema("archive", MIGRATIONS, TABLES | KEY_TABLES)
SCHEMA = with_blob_tables(SCHEMA)  # attachments: archive/blob_schema.py
