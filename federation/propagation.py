"""Revocation propagation: withdraw at the origin, purge at every holder, prove it.

The origin revokes and queues the revocation for every peer its delivery ledger says got
one of the records. A holder verifies it, purges, keeps the tombstone, queues it for the
peers *it* passed the records on to, and answers with a signed purge receipt naming them.
Receipts travel back hop by hop (each node relays what it gets towards the node that sent
it the revocation) until they reach the origin. Everything is idempotent by revocation id,
so duplicates and cycles end by themselves.

A receipt says "purged", so it is signed only once the purge is durable: the deleting
transaction committed, then the disk scrubbed (``archive.purge.finish_pending_purges``:
search index merged, WAL checkpointed and truncated). Until then the peer is told to retry
(:class:`~archive.errors.PurgeNotDurable`), and a crash in between is redone at the next
start before the node serves anything.

What still has to go somewhere waits in the ``outbox`` table until the peer confirms; a
peer that is offline gets it on the next contact, before anything else.
"""

from __future__ import annotations

from functools import partial

import sqlite_utils

from archive.blobs import records_naming
from archive.db import transaction
from archive.derivation import withdrawal_scope
from archive.errors import PurgeNotDurable
from archive.event_log import append_event
from archive.key_store import node_for_key
from archive.purge import finish_pending_purges
from archive.record_facts import expired_records, record_origin
from archive.tombstones import (
    covered_ids,
    has_revocation,
    revocation_envelope,
    revocation_source,
    store_revocation,
    tombstone_for,
)
from federation.copies import contradicted, follow_forwarded
from federation.errors import FederationError
from federation.ledger import holders_of as holders_of  # re-exported
from federation.local import LocalNode
from federation.member_notices import doubted_member
from federation.outbox import Outgoing as Outgoing  # re-exported: callers found them here
from federation.outbox import acknowledge, queue
from federation.outbox import outgoing_for as outgoing_for
from federation.outbox import peers_with_outbox as peers_with_outbox
from federation.outbox import queue_receipt as queue_receipt
from federation.peers import Peer, add_strike
from federation.receipt_status import HolderStatus as HolderStatus  # re-exported
from federation.receipt_status import receipt_status as receipt_status
from federation.revocation import (
    Actor,
    InvalidRevocation,
    Receipt,
    Revocation,
    issue_receipt,
    issue_revocation,
    open_receipt,
    open_revocation,
)


class NotTheOrigin(FederationError):
    """Only the node where a lesson was written can withdraw it. Ask its origin hub (shown
    by ``rhizome lesson show``) to revoke it; they will reach every node that holds it."""

    http_status = 403
    code = "not_the_origin"


def revoke(
    local: LocalNode, record_id: str, actor: Actor, reason: str, note: str | None
) -> Revocation:
    """Withdraw one of our own records, with every version and translation of it."""
    db, now = local.db, local.now()
    if record_origin(db, record_id) != local.node_id:
        raise NotTheOrigin("this lesson was written on another node; only its origin can revoke it")
    covered = withdrawal_scope(db, record_id, local.node_id)  # only our own, never an original
    revocation = issue_revocation(
        local.identity, actor, covered, reason, now, partial(node_for_key, db)
    )
    with transaction(db):
        purged = _store(local, revocation, received_from=None, note=note)
        holders = holders_of(db, covered_ids(db, revocation.revocation_id))
        queue(db, "revocation", revocation.revocation_id, holders, now)
        detail = {"revocation": revocation.revocation_id, "purged": len(purged), "reason": reason}
        detail.update(_dependents(revocation, purged))
        append_event(db, local.identity, "record.revoked", record_id, detail, now)
    _require_durable_purge(db)
    return revocation


def _require_durable_purge(db: sqlite_utils.Database) -> None:
    """Nothing reports a purge done (no receipt, no "purged here") before it is durable."""
    if not finish_pending_purges(db):
        raise PurgeNotDurable(
            "the withdrawn records are gone from the archive, but their old bytes are not yet "
            "scrubbed from the disk (another process holds the database, or the disk is "
            "full); the node finishes this at its next start or while it serves: try again "
            "in a minute"
        )


def _store(
    local: LocalNode, revocation: Revocation, received_from: str | None, note: str | None
) -> list[str]:
    return store_revocation(
        local.db, revocation.revocation_id, revocation.envelope, revocation.origin,
        revocation.issued_at, revocation.reason, revocation.record_ids, received_from,
        local.now(), note,
    )  # fmt: skip


def accept_revocation(local: LocalNode, raw: bytes, sender: Peer) -> Receipt:
    """A peer tells us a record is withdrawn: verify, purge, forward, answer with a receipt
    (signed once the purge is durable, else :class:`PurgeNotDurable`: the peer retries)."""
    revocation, onward = take_revocation(local, raw, sender)
    if onward is None:
        return receipt_for(local, revocation)
    _require_durable_purge(local.db)
    with transaction(local.db):
        receipt = issue_receipt(local.identity, revocation.revocation_id, local.now(), onward)
        _keep_receipt(local.db, receipt, local.now())
    return receipt_for(local, revocation)


def take_revocation(
    local: LocalNode, raw: bytes, sender: Peer
) -> tuple[Revocation, list[str] | None]:
    """Verify, purge and forward a revocation (one transaction; no receipt yet).

    Returns it with the peers we forward it to, or None for those when we knew it already
    (or it is our own): then our receipt, if due, is the one we keep."""
    db, now = local.db, local.now()
    try:
        revocation = open_revocation(raw, partial(node_for_key, db))
        _check_authority(db, revocation)
    except InvalidRevocation as error:
        add_strike(db, sender.node_id, f"bad_revocation: {error}", now)
        raise
    if has_revocation(db, revocation.revocation_id):
        return revocation, None
    if revocation.origin == local.node_id:
        # Our own revocation, signed by our key, that we no longer know (a home restored
        # from a backup older than it): take it back, purge, and tell whoever we told since.
        with transaction(db):
            _store(local, revocation, received_from=None, note=None)
            queue(
                db,
                "revocation",
                revocation.revocation_id,
                holders_of(db, covered_ids(db, revocation.revocation_id)),
                now,
            )
        return revocation, None
    with transaction(db):
        purged = _store(local, revocation, received_from=sender.node_id, note=None)
        # Withdrawn attachments (blob ids) go on to the holders of the lessons attaching them.
        covered = covered_ids(db, revocation.revocation_id) + tuple(
            records_naming(db, revocation.record_ids)
        )
        onward = holders_of(db, covered, sender.node_id)
        queue(db, "revocation", revocation.revocation_id, onward, now)
        detail = {
            "revocation": revocation.revocation_id,
            "purged": len(purged),
            "from": sender.node_id,
            **_dependents(revocation, purged),
        }
        if notice := doubted_member(db, revocation.origin, revocation.member, revocation.issued_at):
            detail["member_compromised"] = notice  # honoured, and the operator is told why
        append_event(db, local.identity, "record.purged", revocation.record_ids[0], detail, now)
    return revocation, onward


def _dependents(revocation: Revocation, purged: list[str]) -> dict[str, int]:
    """For the event log: how many derived records (another origin's translations, …) went."""
    derived = sum(record_id not in revocation.record_ids for record_id in purged)
    return {"dependents": derived} if derived else {}


def _check_authority(db: sqlite_utils.Database, revocation: Revocation) -> None:
    """Only the origin may withdraw: every copy we hold must come from the signer."""
    for record_id in revocation.record_ids:
        origin = record_origin(db, record_id)
        if origin is not None and origin != revocation.origin:
            raise InvalidRevocation("the revocation names a record of another origin")


def receipt_for(local: LocalNode, revocation: Revocation) -> Receipt:
    """The receipt we keep for ``revocation``, or a new one once our purge is durable."""
    row = local.db.execute(
        "SELECT envelope FROM receipts WHERE revocation_id = ? AND holder = ?",
        [revocation.revocation_id, local.node_id],
    ).fetchone()
    if row is not None:
        return open_receipt(bytes(row[0]), partial(node_for_key, local.db))
    _require_durable_purge(local.db)
    receipt = issue_receipt(local.identity, revocation.revocation_id, local.now(), [])
    if revocation.origin != local.node_id:
        with transaction(local.db):
            _keep_receipt(local.db, receipt, local.now())
    return receipt


def _keep_receipt(db: sqlite_utils.Database, receipt: Receipt, now: int) -> bool:
    """Keep a receipt; a newer one from the same holder replaces the older (it purged again,
    e.g. after a restore from a backup), a duplicate or older one changes nothing."""
    cursor = db.execute(
        "INSERT INTO receipts "
        "(revocation_id, holder, purged_at, receipt_id, envelope, received_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (revocation_id, holder) DO UPDATE SET "
        "purged_at = excluded.purged_at, receipt_id = excluded.receipt_id, "
        "envelope = excluded.envelope, received_at = excluded.received_at "
        "WHERE excluded.purged_at > receipts.purged_at",
        [
            receipt.revocation_id,
            receipt.holder,
            receipt.purged_at,
            receipt.receipt_id,
            receipt.envelope,
            now,
        ],
    )
    return bool(cursor.rowcount)


def accept_receipts(local: LocalNode, raws: list[bytes], sender: Peer) -> int:
    """Receipts coming back: keep them, and relay them towards the origin if we are not it.
    Returns how many were new here."""
    return take_receipts(local, raws, sender)[0]


def take_receipts(local: LocalNode, raws: list[bytes], sender: Peer) -> tuple[int, list[str]]:
    """:func:`accept_receipts`, also returning the ids of every receipt that verified (new
    or known: processed either way, so the sender may forget them once we ack them).

    A receipt is the holder's signed acknowledgement of the revocation: it ends that
    revocation's outbox item for the holder, whoever relayed it to us."""
    db, now = local.db, local.now()
    kept, processed = 0, []
    with transaction(db):
        for raw in raws:
            try:
                receipt = open_receipt(raw, partial(node_for_key, db))
            except InvalidRevocation as error:
                add_strike(db, sender.node_id, f"bad_receipt: {error}", now)
                continue
            processed.append(receipt.receipt_id)
            if not contradicted(db, receipt):  # a copy seen since: this receipt is stale
                acknowledge(db, receipt.holder, "revocation", [receipt.revocation_id])
            source = revocation_source(db, receipt.revocation_id)
            if source is None or not _keep_receipt(db, receipt, now):
                continue
            kept += 1
            origin, upstream = source
            if origin == local.node_id:
                follow_forwarded(db, receipt, local.node_id, now)
            elif upstream:
                queue(db, "receipt", receipt.receipt_id, [upstream], now)
    return kept, processed


def revocation_envelopes(db: sqlite_utils.Database, revocation_ids: list[str]) -> list[bytes]:
    """The signed revocations with these ids, each once."""
    found: dict[str, bytes] = {}
    for revocation_id in revocation_ids:
        envelope = revocation_envelope(db, revocation_id)
        if envelope is not None:
            found.setdefault(revocation_id, envelope)
    return list(found.values())


def revoke_expired(local: LocalNode) -> list[Revocation]:
    """Withdraw every record whose consent expired: the node acts by itself, reason expired."""
    revocations = []
    for record_id in expired_records(local.db, local.node_id, local.now()):
        if tombstone_for(local.db, record_id, local.node_id) is None:  # already covered?
            revocations.append(revoke(local, record_id, Actor(), "expired", None))
    return revocations
