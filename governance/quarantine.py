"""Inbound quarantine: records from peers that wait for a curator before they show.

With ``[inbound] quarantine = true`` a received record is stored but hidden from list and
search, and never passed on. A curator accepts it (it shows) or rejects it (it is purged,
and its id is remembered so no sync fetches it again).
"""

from __future__ import annotations

import sqlite_utils

from archive.db import transaction
from archive.errors import ArchiveError
from archive.event_log import append_event
from archive.purge import delete_record, finish_pending_purges, mark_purge_pending
from archive.quarantine_flag import (
    is_quarantined,
    quarantined_records,
    received_from,
    release_from_quarantine,
)
from crypto.errors import N_
from crypto.signing import SigningIdentity

__all__ = [  # the flag's queries are archive's; callers found them here
    "NotQuarantined",
    "accept_quarantined",
    "is_quarantined",
    "quarantined_records",
    "reject_quarantined",
    "was_rejected",
]


class NotQuarantined(ArchiveError):
    """The record is not waiting in quarantine (``rhizome lesson quarantine`` lists those)."""


def _require_quarantined(db: sqlite_utils.Database, record_id: str) -> None:
    if not is_quarantined(db, record_id):
        raise NotQuarantined.worded(
            N_("record {id} is not waiting in quarantine"), id=record_id[:12]
        )


def accept_quarantined(
    db: sqlite_utils.Database, node: SigningIdentity, record_id: str, member: str, now: int
) -> None:
    _require_quarantined(db, record_id)
    with transaction(db):
        release_from_quarantine(db, record_id)
        append_event(db, node, "record.accepted", record_id, {"member": member}, now)


def reject_quarantined(
    db: sqlite_utils.Database, node: SigningIdentity, record_id: str, member: str, now: int
) -> None:
    _require_quarantined(db, record_id)
    with transaction(db):
        sender = received_from(db, record_id)
        delete_record(db, record_id)
        db.execute(
            "INSERT OR REPLACE INTO rejected_records (record_id, peer_id, at) VALUES (?, ?, ?)",
            [record_id, sender, now],
        )
        append_event(db, node, "record.rejected", record_id, {"member": member}, now)
        mark_purge_pending(db, f"rejected:{record_id}", now)  # a crash before the scrub: redone
    finish_pending_purges(db)


def was_rejected(db: sqlite_utils.Database, record_id: str) -> bool:
    """Whether a curator rejected this record from quarantine (it is never fetched again)."""
    row = db.execute("SELECT 1 FROM rejected_records WHERE record_id = ?", [record_id])
    return row.fetchone() is not None
