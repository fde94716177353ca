"""A subject withdraws: their attachments are purged at every holder, with receipts.

The withdrawal reuses the revocation machinery: the origin signs a revocation whose ids are
the SHA-256 hashes of the withdrawn files (``federation/revocation.py``; reason
``consent-withdrawn``, by a member). Each holder keeps it as a tombstone for those blob ids,
deletes their bytes once no lesson of another origin attaches them
(``archive.blobs.withdraw_blobs``), forwards it to the peers it passed the lessons on to, and
answers with a signed purge receipt, exactly as for a withdrawn lesson. The lessons stay:
the origin stores a new signed version without the files first (``node/actions/consent.py``).
"""

from __future__ import annotations

from archive.blobs import records_naming
from archive.db import transaction
from archive.errors import PurgeNotDurable
from archive.event_log import append_event
from archive.purge import finish_pending_purges
from archive.tombstones import store_revocation
from federation.ledger import holders_of
from federation.local import LocalNode
from federation.outbox import queue
from federation.revocation import Actor, Revocation, issue_revocation

REASON = "consent-withdrawn"


def withdraw_attachments(
    local: LocalNode, blobs: list[str], subject: str, actor: Actor
) -> Revocation:
    """Purge ``blobs`` here and queue their withdrawal for every node that got a lesson
    attaching them (before the purge: afterwards nothing here names them)."""
    db, now = local.db, local.now()
    revocation = issue_revocation(local.identity, actor, blobs, REASON, now)
    with transaction(db):
        holders = holders_of(db, tuple(records_naming(db, blobs)))
        store_revocation(
            db, revocation.revocation_id, revocation.envelope, revocation.origin,
            revocation.issued_at, revocation.reason, revocation.record_ids, None, now,
            f"{subject} withdrew consent to {len(blobs)} attachment(s)",
        )  # fmt: skip
        queue(db, "revocation", revocation.revocation_id, holders, now)
        detail = {"revocation": revocation.revocation_id, "subject": subject, "files": len(blobs)}
        append_event(db, local.identity, "attachment.withdrawn", blobs[0], detail, now)
    if not finish_pending_purges(db):
        raise PurgeNotDurable(
            "the withdrawn files are deleted from the archive's index, but the purge could not "
            "finish yet (another process holds the database, or the disk is full); the node "
            "finishes it at its next start: try again in a minute"
        )
    return revocation
