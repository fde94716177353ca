"""What may come in from a peer: the one inbound path of records (sync, push, bundles).

A :class:`Receiver` is one inbound evaluation: the archive, our identity (every arrival is
logged in the event log under it), the policy in force, the time, our region and the
senders' quotas, all required. ``receive`` verifies, decides and stores a batch of records in
one transaction; what that one transaction keeps (the tails of the event and decision
chains, whether anything was ever revoked here) lives in a :class:`_Batch` made for it, so
nothing carries from one batch to the next.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property

import sqlite_utils

from archive.db import transaction
from archive.derivation import foreign_supersede, withdrawn_link
from archive.errors import InvalidLesson
from archive.event_log import ChainTail, append_event, chain_tail
from archive.key_store import record_key_check
from archive.signed_record import KeyCheck, SignedRecord, open_record
from archive.store import insert_record
from archive.tombstones import any_tombstone, tombstone_derived, tombstone_for
from crypto.errors import RhizomeError
from crypto.key_history import SUSPECT, UNKNOWN
from crypto.node_id import node_id_from_public_key
from crypto.signing import SigningIdentity
from federation.copies import note_copy_seen
from federation.local import LocalNode
from federation.peers import Peer, add_strike, record_deliveries
from federation.quotas import Quotas, check_after, check_before, count_intake, refusals_noted
from federation.sharing import held_or_rejected
from federation.verify_pool import WHERE, Verdict
from governance.decision_log import decision_chain_tail, log_decision, remember_refusal
from governance.decisions import (
    STRIKE_CODES,
    Decision,
    PeerFacts,
    Reason,
    RecordFacts,
    decide_inbound,
)
from governance.policy_file import Policy
from governance.words import N_, Words


@dataclass
class ReceiveResult:
    stored: list[str] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)
    duplicates: int = 0
    rejected: list[tuple[str | None, str]] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)  # revocations behind refused stale copies
    # Signed by a key of their origin we do not know yet: neither stored nor struck, until
    # the origin's key history is learnt (federation/key_relay.py). (origin key, envelope)
    held: list[tuple[bytes, bytes]] = field(default_factory=list)
    stored_bytes: int = 0  # of what was stored or quarantined (the sender's quotas count it)


@dataclass
class _Batch:
    """One batch's transaction: it is the only writer, so it keeps the chains' tails, and
    skips the tombstone lookup while nothing was ever revoked here."""

    sender: Peer
    events: ChainTail
    decisions: ChainTail
    any_tombstone: bool
    result: ReceiveResult = field(default_factory=ReceiveResult)
    # Ids taken in (stored, quarantined or held already): one ledger insert for the batch.
    delivered: list[str] = field(default_factory=list)

    @cached_property
    def sender_facts(self) -> PeerFacts:
        return self.sender.facts


@dataclass(frozen=True)
class Receiver:
    """Verifies, decides and stores what a peer sends, under one policy at one time."""

    db: sqlite_utils.Database
    identity: SigningIdentity
    policy: Policy
    now: int
    region: str
    quotas: Quotas
    # Hold records signed by a key of their origin we do not know (False once the caller
    # has learnt the histories it could: then such a record counts against the sender).
    hold_unknown_keys: bool = True

    @property
    def node_id(self) -> str:
        return self.identity.node_id

    @classmethod
    def of(cls, local: LocalNode) -> Receiver:
        """One evaluation for ``local``, under the policy in force now."""
        return cls(
            local.db, local.identity, local.policy(), local.now(), local.region, local.quotas
        )

    def receive(
        self,
        envelopes: list[bytes],
        sender: Peer,
        pushed: bool = False,
        opened: list[Verdict] | None = None,
    ) -> ReceiveResult:
        """Verify each envelope, decide, store the allowed ones; strike the sender for the rest.

        The sender's quotas (federation/quotas.py) are checked before and after: a batch
        that would go over one is refused whole (``pushed``: the sender chose to send it).
        ``opened``: what the verifier process made of each envelope (federation/verify_pool.py);
        the key-history check is still made here, before anything is stored."""
        if opened is not None and len(opened) != len(envelopes):
            opened = None  # never pair a verdict with another envelope than its own
        peer_id, quotas, waits = sender.node_id, self.quotas, self.policy.quarantine
        noted = refusals_noted(self.db, self.identity, peer_id, self.now, quotas, pushed)
        with noted, transaction(self.db):  # a refusal is noted once the batch rolled back
            check_before(self.db, peer_id, self.now, quotas, waits)
            batch = _Batch(
                sender, chain_tail(self.db), decision_chain_tail(self.db), any_tombstone(self.db)
            )
            keys = record_key_check(self.db, remember=True)  # no key history changes here
            for n, raw in enumerate(envelopes):
                self._receive_one(raw, batch, keys, None if opened is None else opened[n])
            result = batch.result
            # The ledger rows of the batch, in its transaction (as each record's were).
            record_deliveries(self.db, peer_id, batch.delivered, "received", self.now)
            kept = len(result.stored) + len(result.quarantined)
            check_after(self.db, peer_id, self.now, quotas, kept, result.stored_bytes, waits)
            count_intake(self.db, peer_id, self.now, quotas, kept, result.stored_bytes)
        return result

    def _refuse(self, record_id: str, decision: Decision, batch: _Batch) -> None:
        """Refuse a record; remember it (so no sync fetches it again under this policy) and
        strike the sender only if it broke the rules, not when our own policy says no."""
        codes = [reason.code for reason in decision.denials]
        reason = "not_allowed: " + ",".join(codes)
        sender = batch.sender
        batch.result.rejected.append((record_id, reason))
        remember_refusal(self.db, record_id, sender.node_id, decision)
        if STRIKE_CODES & set(codes):
            add_strike(self.db, sender.node_id, reason, self.now, record_id)

    def _refuse_revoked(self, record_id: str, revocation_id: str, batch: _Batch) -> str:
        """A stale copy (or one derived from a withdrawn record): refuse it, log the
        refusal, and send the sender the tombstone."""
        log_decision(
            self.db,
            "inbound",
            record_id,
            batch.sender.node_id,
            _revoked_decision(self.policy.hash),
            self.now,
            batch.decisions,
        )
        # Evidence that the sender still holds it; the revocation is due for it now.
        note_copy_seen(
            self.db, batch.sender.node_id, record_id, revocation_id, self.now, "sent to us"
        )
        return revocation_id

    def _receive_one(
        self, raw: bytes, batch: _Batch, keys: KeyCheck, verdict: Verdict | None
    ) -> None:
        sender, result = batch.sender, batch.result
        standing = _NotedStanding(keys)
        try:
            if verdict is None:
                record = open_record(raw, WHERE, standing)
            elif isinstance(verdict, str):
                raise InvalidLesson(WHERE, None, verdict.removeprefix(f"{WHERE}: "))
            else:
                record = verdict.record_under(raw, standing)[0]
        except RhizomeError as error:
            if self._may_hold(standing, sender):
                result.held.append((standing.origin, raw))
                return
            result.rejected.append((None, f"bad_record: {error}"))
            add_strike(self.db, sender.node_id, f"bad_record: {error}", self.now)
            return
        record_id = record.id_hex
        if batch.any_tombstone and (revocation_id := self._withdrawn(record, batch)):
            result.revoked.append(self._refuse_revoked(record_id, revocation_id, batch))
            result.rejected.append((record_id, "revoked"))
            return
        if held_or_rejected(self.db, record_id):
            result.duplicates += 1
            batch.delivered.append(record_id)
            return
        facts = _received_facts(record, sender)
        if old_origin := foreign_supersede(self.db, record.lesson):
            facts = replace(facts, supersedes_origin=old_origin)  # a hijack: refused below
        decision = decide_inbound(
            facts,
            batch.sender_facts,
            self.policy,
            local_node=self.node_id,
            now=self.now,
            local_region=self.region,
        )
        log_decision(
            self.db, "inbound", record_id, sender.node_id, decision, self.now, batch.decisions
        )
        if not decision.allowed:
            self._refuse(record_id, decision, batch)
            return
        # Signed by a key its node's recovery named as compromised by then: kept for a
        # curator in quarantine, never shown or passed on before one looks (issue 15).
        suspect = standing.last == SUSPECT  # the key check above said so
        quarantined = decision.quarantine or suspect
        insert_record(self.db, record, sender.node_id, self.now, quarantined=quarantined)
        batch.delivered.append(record_id)
        detail = {"from": sender.node_id, "quarantined": quarantined}
        append_event(
            self.db, self.identity, "record.received", record_id, detail, self.now, batch.events
        )
        (result.quarantined if quarantined else result.stored).append(record_id)
        result.stored_bytes += len(raw)

    def _may_hold(self, standing: _NotedStanding, sender: Peer) -> bool:
        """A record refused only because its signer is not a key we know of its origin
        (its signature verified) may be from a later key of a third node: held, not struck.
        Our own history we know, and the sender's it showed us before it sent anything."""
        if not self.hold_unknown_keys or standing.last != UNKNOWN:
            return False
        origin = node_id_from_public_key(standing.origin)
        return origin not in (self.node_id, sender.node_id)

    def _withdrawn(self, record: SignedRecord, batch: _Batch) -> str | None:
        """The revocation beating this copy: of the record itself, or of a record it is a
        translation or version of, at any depth (a tombstone beats derived copies too).

        A derived copy refused here keeps a tombstone of its own, so what derives from it
        is refused too, in this batch or any later one, and what we took in before it (a
        translation of it that came first) is purged now."""
        lesson = record.lesson
        if revocation_id := tombstone_for(self.db, record.id_hex, lesson.origin_id):
            return revocation_id
        revocation_id = withdrawn_link(self.db, lesson)
        if revocation_id is not None:
            purged = tombstone_derived(
                self.db, record.id_hex, lesson.origin_id, revocation_id, self.now
            )
            result = batch.result
            for record_id in purged:
                for kept in (result.stored, result.quarantined):
                    if record_id in kept:
                        kept.remove(record_id)
                result.rejected.append((record_id, "revoked"))
        return revocation_id


class _NotedStanding:
    """A key check that remembers its last answer: whether a record was refused because
    its signer is not a key we know of its origin (rather than for its content)."""

    def __init__(self, check: KeyCheck) -> None:
        self.check = check
        self.origin, self.last = b"", ""

    def __call__(self, origin: bytes, signer: bytes, signed_at: int) -> str:
        self.origin, self.last = origin, self.check(origin, signer, signed_at)
        return self.last


def _revoked_decision(policy_hash: str) -> Decision:
    words = Words(N_("its origin withdrew this record; a tombstone beats every copy"))
    reason = Reason("revoked", words.english, False, words)
    return Decision(False, (reason,), policy_hash)


def _received_facts(record: SignedRecord, sender: Peer) -> RecordFacts:
    lesson = record.lesson
    return RecordFacts(
        record_id=record.id_hex,
        origin=lesson.origin_id,
        consent=lesson.consent,
        sensitivity=lesson.sensitivity,
        kind=lesson.kind,
        tags=lesson.tags,
        author=lesson.author,
        received_from=sender.node_id,
    )
