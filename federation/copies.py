"""Copies of withdrawn records after the fact: tombstones in reconciliation, and the ledger.

A holder restored from an old backup has the record again and no tombstone; a node that
passed a record on tells us so only in its receipt. Three rules keep the withdrawal whole:

* **Tombstones travel with reconciliation, every time.** Whenever an exchange shows that a
  peer holds an id we have a tombstone for, the peer gets the revocation in that exchange:
  the initiator asks about the ids it holds and the other side lacks
  (:func:`answer_tombstone_query`), and an origin that sees a peer offer one of its own
  withdrawn records queues the revocation at once (:func:`revocations_for_offered`). Not
  once: every exchange that shows the copy sends it again, until the holder's receipt.
* **Evidence beats an old receipt.** Each such sighting is kept in ``copies_seen``; a
  holder whose receipt is older than the latest sighting shows as *pending* again (with
  the evidence), until a newer receipt comes.
* **The ledger follows copies passed on, if plausible.** A receipt's ``forwarded_to`` names
  the nodes the holder passed the revocation on to. A name counts as a holder only when we
  can vouch for it: it is our own peer (then we send it the revocation too), its own
  receipt reached us, or we saw it hold a copy. Any other name is only the sender's claim,
  listed as *unconfirmed*, never as a pending holder (a peer cannot make up fifty).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import sqlite_utils

from archive.db import transaction
from archive.key_store import node_for_key
from archive.record_facts import holds_another_origins
from archive.tombstones import revocation_envelope, tombstones_naming
from federation.local import LocalNode
from federation.outbox import queue
from federation.peers import Peer
from federation.revocation import InvalidRevocation, Receipt, open_revocation
from federation.wire import MAX_REVOCATIONS_PER_MESSAGE


def note_copy_seen(
    db: sqlite_utils.Database,
    holder: str,
    record_id: str,
    revocation_id: str,
    now: int,
    how: str,
) -> None:
    """``holder`` showed it holds ``record_id``, which ``revocation_id`` withdrew: keep the
    evidence and make the revocation due for it now (caller's transaction)."""
    receipt = db.execute(
        "SELECT receipt_id FROM receipts WHERE revocation_id = ? AND holder = ?",
        [revocation_id, holder],
    ).fetchone()
    db.execute(
        "INSERT INTO copies_seen (revocation_id, holder, record_id, seen_at, how, contradicts) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (revocation_id, holder, record_id) DO UPDATE "
        "SET seen_at = excluded.seen_at, how = excluded.how, contradicts = excluded.contradicts",
        [revocation_id, holder, record_id, now, how, None if receipt is None else receipt[0]],
    )
    queue(db, "revocation", revocation_id, [holder], now)
    # Due in this exchange even if an earlier hand-out put it in a backoff.
    db.execute(
        "UPDATE outbox SET next_attempt_at = ? "
        "WHERE kind = 'revocation' AND item_id = ? AND peer_id = ?",
        [now, revocation_id, holder],
    )


def answer_tombstone_query(local: LocalNode, asker: Peer, ids: list[bytes]) -> list[bytes]:
    """The revocations we hold for any of ``ids`` (ids the asker holds and we lack), each
    once. For our own, the sighting is kept as evidence and the revocation queued for the
    asker until its receipt (also those beyond one answer's cap: the outbox carries them).
    Another origin's are only answered: we cannot tell whether the asker's copy is that
    origin's record, and queueing one that is not would earn us a strike from an honest
    asker; the asker asks again at its next exchange."""
    db, now = local.db, local.now()
    found = tombstones_naming(db, [record_id.hex() for record_id in ids])
    envelopes: dict[str, bytes] = {}
    with transaction(db):
        for record_id, revocation_id, origin in found:
            if origin == local.node_id:
                note_copy_seen(
                    db, asker.node_id, record_id, revocation_id, now, "offered in a sync"
                )
            if revocation_id not in envelopes and len(envelopes) < MAX_REVOCATIONS_PER_MESSAGE:
                envelope = revocation_envelope(db, revocation_id)
                if envelope is not None:
                    envelopes[revocation_id] = envelope
    return list(envelopes.values())


def revocations_for_offered(local: LocalNode, holder: Peer, ids: list[bytes]) -> int:
    """The peer offered ids we lack (reconciliation): those we withdrew ourselves get our
    revocation queued for it, due now. Only our own: a tombstone of another origin can only
    be matched against the record itself (fetched and refused, see ``Receiver.receive``)."""
    db, now = local.db, local.now()
    found = tombstones_naming(db, [record_id.hex() for record_id in ids], origin=local.node_id)
    with transaction(db):
        for record_id, revocation_id, _ in found:
            note_copy_seen(db, holder.node_id, record_id, revocation_id, now, "offered in a sync")
    return len(found)


def covering_revocations(db: sqlite_utils.Database, raws: list[bytes]) -> list[bytes]:
    """The revocations in a tombstone answer that may withdraw what we hold.

    One that names a record we hold from another origin is left out without a strike: the
    peer that answered only relayed what the signer stated and could not check it (a
    forged one still earns the strike, in ``accept_revocation``)."""
    kept = []
    for raw in raws:
        try:
            revocation = open_revocation(raw, partial(node_for_key, db))
        except InvalidRevocation:
            kept.append(raw)  # accept_revocation strikes the sender for it
            continue
        if not holds_another_origins(db, revocation.record_ids, revocation.origin):
            kept.append(raw)
    return kept


def follow_forwarded(
    db: sqlite_utils.Database, receipt: Receipt, local_node: str, now: int
) -> list[str]:
    """At the origin: the nodes a receipt says the holder passed the revocation on to that
    are our own peers get it from us too (caller's transaction). Returns them."""
    peers = [
        node
        for node in receipt.forwarded_to
        if node not in (local_node, receipt.holder)
        and _is_peer(db, node)
        and not _has_receipt(db, receipt.revocation_id, node)
    ]
    queue(db, "revocation", receipt.revocation_id, peers, now)
    return peers


def _has_receipt(db: sqlite_utils.Database, revocation_id: str, node: str) -> bool:
    row = db.execute(
        "SELECT 1 FROM receipts WHERE revocation_id = ? AND holder = ?", [revocation_id, node]
    ).fetchone()
    return row is not None


def _is_peer(db: sqlite_utils.Database, node: str) -> bool:
    row = db.execute(
        "SELECT 1 FROM peers WHERE node_id = ? AND status != 'removed'", [node]
    ).fetchone()
    return row is not None


def vouched_for(db: sqlite_utils.Database, node: str, revocation_id: str) -> bool:
    """Whether we can vouch that ``node`` is a real holder (see the module doc)."""
    if _is_peer(db, node):
        return True
    row = db.execute(
        "SELECT EXISTS (SELECT 1 FROM receipts WHERE revocation_id = ? AND holder = ?) "
        "OR EXISTS (SELECT 1 FROM copies_seen WHERE revocation_id = ? AND holder = ?) "
        "OR EXISTS (SELECT 1 FROM deliveries WHERE peer_id = ?)",
        [revocation_id, node, revocation_id, node, node],
    ).fetchone()
    return bool(row[0])


@dataclass(frozen=True)
class Sighting:
    """The latest time ``holder`` was seen holding a withdrawn record."""

    seen_at: int
    record_id: str
    how: str
    contradicts: str | None  # the receipt id it had given before, if any

    def text(self) -> str:
        return f"held {self.record_id[:12]} after the revocation ({self.how})"


def last_sighting(db: sqlite_utils.Database, node: str, revocation_id: str) -> Sighting | None:
    row = db.execute(
        "SELECT seen_at, record_id, how, contradicts FROM copies_seen "
        "WHERE revocation_id = ? AND holder = ? ORDER BY seen_at DESC LIMIT 1",
        [revocation_id, node],
    ).fetchone()
    return None if row is None else Sighting(int(row[0]), str(row[1]), str(row[2]), row[3])


def contradicted(db: sqlite_utils.Database, receipt: Receipt) -> bool:
    """Whether a copy was seen at the holder after it gave this very receipt."""
    row = db.execute(
        "SELECT 1 FROM copies_seen WHERE revocation_id = ? AND holder = ? AND contradicts = ?",
        [receipt.revocation_id, receipt.holder, receipt.receipt_id],
    ).fetchone()
    return row is not None


def sighted_holders(db: sqlite_utils.Database, revocation_id: str) -> set[str]:
    rows = db.execute(
        "SELECT DISTINCT holder FROM copies_seen WHERE revocation_id = ?", [revocation_id]
    )
    return {str(row[0]) for row in rows}
