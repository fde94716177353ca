"""The quarantine flag of a stored record: a column of archive's ``records``.

Governance decides what waits in quarantine and lets it out or rejects it
(:mod:`governance.quarantine`); the flag itself lives with the record, so every listing and
search of the archive hides what waits without asking governance.
"""

from __future__ import annotations

import sqlite_utils

from archive.queries import SUMMARY_COLUMNS, RecordSummary


def quarantined_records(db: sqlite_utils.Database) -> list[RecordSummary]:
    """The records waiting in quarantine, oldest first."""
    rows = db.execute(
        f"SELECT {SUMMARY_COLUMNS} FROM records WHERE quarantined = 1 ORDER BY stored_at"
    )
    return [RecordSummary.from_row(row) for row in rows]


def is_quarantined(db: sqlite_utils.Database, record_id: str) -> bool:
    row = db.execute("SELECT quarantined FROM records WHERE id = ?", [record_id]).fetchone()
    return bool(row and row[0])


def release_from_quarantine(db: sqlite_utils.Database, record_id: str) -> None:
    """The record shows in listings and search from now on (in the caller's transaction)."""
    db.execute("UPDATE records SET quarantined = 0 WHERE id = ?", [record_id])


def received_from(db: sqlite_utils.Database, record_id: str) -> str | None:
    """The peer a stored record came from (None for our own, or a record not held)."""
    row = db.execute("SELECT received_from FROM records WHERE id = ?", [record_id]).fetchone()
    return None if row is None or row[0] is None else str(row[0])
