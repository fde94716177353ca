"""The revocations one origin issued, as a holder keeps them: for that origin to relearn.

An origin restored from a backup no longer knows what it withdrew after the backup was made,
but every node it sent those withdrawals to keeps them forever (a tombstone beats every
copy). This is the holder's side of relearning them (federation/relearn.py): the signed
revocations whose origin is the asker, in id order, a page at a time.
"""

from __future__ import annotations

import sqlite_utils


def revocations_issued_by(
    db: sqlite_utils.Database, origin: str, after: str, limit: int
) -> list[tuple[str, bytes]]:
    """(id, signed envelope) of the revocations ``origin`` issued, ids after ``after``."""
    rows = db.execute(
        "SELECT revocation_id, envelope FROM revocations WHERE origin = ? AND revocation_id > ? "
        "ORDER BY revocation_id LIMIT ?",
        [origin, after, limit],
    ).fetchall()
    return [(str(row[0]), bytes(row[1])) for row in rows]


def records_originated_by(
    db: sqlite_utils.Database, origin: str, after: str, limit: int
) -> list[tuple[str, bytes]]:
    """(id, signed envelope) of the records ``origin`` made that we hold out of quarantine,
    ids after ``after``: for a node that recovered with no backup (federation/own_records.py)."""
    rows = db.execute(
        "SELECT id, envelope FROM records WHERE origin = ? AND quarantined = 0 AND id > ? "
        "ORDER BY id LIMIT ?",
        [origin, after, limit],
    ).fetchall()
    return [(str(row[0]), bytes(row[1])) for row in rows]
