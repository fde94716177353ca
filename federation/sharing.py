"""What may go to a peer and what may come in from one, over the archive.

A :class:`Sharing` is one evaluation: the archive, our node id, the policy in force and the
time, fixed for the length of one request or one sync. ``offer_items`` is the set we
reconcile with a peer: the records the outbound decision allows for that peer, plus the
records the peer is already known to hold (it sent them to us, we sent them to it, or it is
their origin); offering those back leaks nothing and keeps a second sync from fetching again
what we hold but may not pass on. ``receive`` is the one inbound path: verify, decide,
store, in one transaction. Every decision that moves or withholds a record is logged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import sqlite_utils

from archive.db import transaction
from archive.derivation import foreign_supersede, withdrawn_link
from archive.event_log import append_event, chain_tail
from archive.record import consent_from_json
from archive.record_facts import is_held, policy_row, policy_rows, record_envelope
from archive.signed_record import RECORD_LIMITS, SignedRecord, open_record
from archive.store import insert_record
from archive.tombstones import any_tombstone, tombstone_for
from crypto.envelope import claimed_content_id
from crypto.errors import RhizomeError
from crypto.signing import RECORD_CONTEXT, SigningIdentity
from federation.copies import note_copy_seen
from federation.local import LocalNode
from federation.negentropy import Storage
from federation.peers import Peer, add_strike, record_deliveries
from federation.quotas import Quotas, check_after, check_before, count_intake, refusals_noted
from governance.approvals import all_approval_facts, approval_facts
from governance.decision_log import (
    decision_chain_tail,
    denial_states,
    log_decision,
    log_denial_if_new,
    remember_refusal,
)
from governance.decisions import (
    STRIKE_CODES,
    Decision,
    Reason,
    RecordFacts,
    decide_inbound,
    decide_outbound,
)
from governance.effective_consent import ConsentBounds, bounds_of
from governance.policy_file import Policy
from governance.quarantine import was_rejected
from governance.versions import Widenings

Item = tuple[int, bytes]
@dataclass
class ReceiveResult:
    stored: list[str] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)
    duplicates: int = 0
    rejected: list[tuple[str | None, str]] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)  # revocations behind refused stale copies
    stored_bytes: int = 0  # of what was stored or quarantined (the sender's quotas count it)


class Sharing:
    def __init__(
        self,
        db: sqlite_utils.Database,
        node_id: str,
        policy: Policy,
        now: int,
        identity: SigningIdentity | None = None,
        region: str = "",
        quotas: Quotas | None = None,
    ) -> None:
        self.db = db
        self.quotas = quotas or Quotas()
        self.node_id = node_id
        self.policy = policy
        self.now = now
        self.identity = identity  # needed only to log what we receive
        self.region = region
        self.widenings = Widenings(db, node_id)  # our versions wider than earlier ones
        self.bounds = ConsentBounds(db)  # later versions and originals that narrow consent

    @classmethod
    def of(cls, local: LocalNode) -> Sharing:
        """One evaluation for ``local``, under the policy in force now."""
        return cls(
            local.db, local.node_id, local.policy(), local.now(), local.identity, local.region,
            local.quotas,
        )  # fmt: skip

    # -- outbound -----------------------------------------------------------------------

    def explain(self, record_id: str, peer: Peer) -> Decision | None:
        """The outbound decision for one record and peer (None if we hold no such record)."""
        row = policy_row(self.db, record_id)
        if row is None:
            return None
        facts = self._with_widening(_facts(row, approval_facts(self.db, record_id)))
        facts = replace(facts, bounds=bounds_of(self.db, record_id))
        return decide_outbound(
            facts, peer.facts, self.policy, local_node=self.node_id, now=self.now
        )

    def offer_items(self, peer: Peer) -> list[Item]:
        """(created, id) of every record we may reconcile with ``peer``, sorted."""
        with transaction(self.db):
            return list(self._offers(peer))

    def offer_storage(self, peer: Peer) -> Storage:
        """The same set, streamed straight into a sealed Negentropy storage: at a million
        records, no Python tuple per record is ever held."""
        with transaction(self.db):
            return Storage.from_sorted(self._offers(peer))

    def _offers(self, peer: Peer) -> Iterator[Item]:
        held = known_held(self.db, peer.node_id)
        approvals = all_approval_facts(self.db)
        states = denial_states(self.db, peer.node_id, "outbound")
        for row in policy_rows(self.db):
            created, record_id, origin = int(row[0]), str(row[1]), str(row[2])
            if record_id in held or origin == peer.node_id:
                yield created, bytes.fromhex(record_id)
                continue
            decision = self._decide_row(row, approvals.get(record_id, ()), peer)
            log_denial_if_new(
                self.db, states, "outbound", record_id, peer.node_id, decision, self.now
            )
            if decision.allowed:
                yield created, bytes.fromhex(record_id)

    def envelopes_for(
        self, record_ids: list[bytes], peer: Peer, budget: int
    ) -> tuple[list[tuple[str, bytes]], int]:
        """(id, envelope) of the requested records the decision lets ``peer`` have, logged,
        and how many of ``record_ids`` were handled: we stop before ``budget`` bytes."""
        found: list[tuple[str, bytes]] = []
        size = 0
        handled = 0
        with transaction(self.db):
            for raw_id in record_ids:
                record_id = raw_id.hex()
                envelope = record_envelope(self.db, record_id)
                if envelope is not None and found and size + len(envelope) > budget:
                    break
                handled += 1
                decision = self.explain(record_id, peer)
                if envelope is None or decision is None:
                    continue
                log_decision(self.db, "outbound", record_id, peer.node_id, decision, self.now)
                if decision.allowed:
                    found.append((record_id, envelope))
                    size += len(envelope)
        return found, handled

    def _decide_row(self, row: Any, approvals: Any, peer: Peer) -> Decision:
        facts = self._with_widening(_facts(row, approvals))
        if bounds := self.bounds.of(facts.record_id):  # read once for the whole archive
            facts = replace(facts, bounds=bounds)
        return decide_outbound(
            facts, peer.facts, self.policy, local_node=self.node_id, now=self.now
        )

    def _with_widening(self, facts: RecordFacts) -> RecordFacts:
        found = self.widenings.of(facts.record_id, facts.origin, facts.consent, facts.sensitivity)
        return facts if found is None else replace(facts, widening=found)

    # -- inbound ------------------------------------------------------------------------

    def receive(self, envelopes: list[bytes], sender: Peer, pushed: bool = False) -> ReceiveResult:
        """Verify each envelope, decide, store the allowed ones; strike the sender for the rest.

        The sender's quotas (federation/quotas.py) are checked before and after: a batch
        that would go over one is refused whole (``pushed``: the sender chose to send it)."""
        result = ReceiveResult()
        peer_id, quotas, waits = sender.node_id, self.quotas, self.policy.quarantine
        noted = refusals_noted(self.db, self.identity, peer_id, self.now, quotas, pushed)
        with noted, transaction(self.db):  # a refusal is noted once the batch rolled back
            check_before(self.db, peer_id, self.now, quotas, waits)
            # This transaction is the only writer: keep the chains' tails, look nothing up
            # twice, and skip the tombstone lookup while nothing was ever revoked here.
            self._events = chain_tail(self.db)
            self._decisions = decision_chain_tail(self.db)
            self._any_tombstone = any_tombstone(self.db)
            for raw in envelopes:
                self._receive_one(raw, sender, result)
            kept = len(result.stored) + len(result.quarantined)
            check_after(self.db, peer_id, self.now, quotas, kept, result.stored_bytes, waits)
            count_intake(self.db, peer_id, self.now, quotas, kept, result.stored_bytes)
        return result

    def _refuse(
        self, record_id: str, sender: Peer, decision: Decision, result: ReceiveResult
    ) -> None:
        """Refuse a record; remember it (so no sync fetches it again under this policy) and
        strike the sender only if it broke the rules, not when our own policy says no."""
        codes = [reason.code for reason in decision.denials]
        reason = "not_allowed: " + ",".join(codes)
        result.rejected.append((record_id, reason))
        remember_refusal(self.db, record_id, sender.node_id, decision)
        if STRIKE_CODES & set(codes):
            add_strike(self.db, sender.node_id, reason, self.now, record_id)

    def _refuse_revoked(self, record_id: str, revocation_id: str, sender: Peer) -> str:
        """A stale copy (or one derived from a withdrawn record): refuse it, log the
        refusal, and send the sender the tombstone."""
        log_decision(
            self.db,
            "inbound",
            record_id,
            sender.node_id,
            _revoked_decision(self.policy.hash),
            self.now,
            self._decisions,
        )
        # Evidence that the sender still holds it; the revocation is due for it now.
        note_copy_seen(
            self.db, sender.node_id, record_id, revocation_id, self.now, "sent to us"
        )
        return revocation_id

    def _receive_one(self, raw: bytes, sender: Peer, result: ReceiveResult) -> None:
        try:
            record = open_record(raw, "received record")
        except RhizomeError as error:
            result.rejected.append((None, f"bad_record: {error}"))
            add_strike(self.db, sender.node_id, f"bad_record: {error}", self.now)
            return
        record_id = record.id_hex
        if self._any_tombstone and (revocation_id := self._withdrawn(record)):
            result.revoked.append(self._refuse_revoked(record_id, revocation_id, sender))
            result.rejected.append((record_id, "revoked"))
            return
        if held_or_rejected(self.db, record_id):
            result.duplicates += 1
            record_deliveries(self.db, sender.node_id, [record_id], "received", self.now)
            return
        facts = _received_facts(record, sender)
        if old_origin := foreign_supersede(self.db, record.lesson):
            facts = replace(facts, supersedes_origin=old_origin)  # a hijack: refused below
        decision = decide_inbound(
            facts,
            sender.facts,
            self.policy,
            local_node=self.node_id,
            now=self.now,
            local_region=self.region,
        )
        log_decision(
            self.db, "inbound", record_id, sender.node_id, decision, self.now, self._decisions
        )
        if not decision.allowed:
            self._refuse(record_id, sender, decision, result)
            return
        insert_record(self.db, record, sender.node_id, self.now, quarantined=decision.quarantine)
        record_deliveries(self.db, sender.node_id, [record_id], "received", self.now)
        if self.identity is None:
            raise RuntimeError("receiving needs the node identity to log the arrival")
        detail = {"from": sender.node_id, "quarantined": decision.quarantine}
        append_event(
            self.db, self.identity, "record.received", record_id, detail, self.now, self._events
        )
        (result.quarantined if decision.quarantine else result.stored).append(record_id)
        result.stored_bytes += len(raw)

    def _withdrawn(self, record: SignedRecord) -> str | None:
        """The revocation beating this copy: of the record itself, or of the record it is
        a translation or version of (a tombstone beats derived copies too)."""
        lesson = record.lesson
        return tombstone_for(self.db, record.id_hex, lesson.origin_id) or withdrawn_link(
            self.db, lesson
        )


def _revoked_decision(policy_hash: str) -> Decision:
    reason = Reason(
        "revoked", "its origin withdrew this record; a tombstone beats every copy", False
    )
    return Decision(False, (reason,), policy_hash)


def known_held(db: Any, peer_id: str) -> set[str]:
    """Records the peer is known to hold already."""
    rows = db.execute("SELECT record_id FROM deliveries WHERE peer_id = ?", [peer_id])
    return {str(row[0]) for row in rows}


def held_or_rejected(db: Any, record_id: str) -> bool:
    """Whether we hold this record already, or a curator rejected it: never fetch it again.

    A withdrawn id is still fetched: only its signed origin tells whether our tombstone
    applies, and refusing it then sends the stale peer the revocation.
    """
    return is_held(db, record_id) or was_rejected(db, record_id)


def _facts(row: Any, approvals: Any) -> RecordFacts:
    _, record_id, origin, consent, sensitivity, kind, tags, author, received_from, held = row
    return RecordFacts(
        record_id=record_id,
        origin=origin,
        consent=consent_from_json(consent),
        sensitivity=sensitivity,
        kind=kind,
        tags=tuple(json.loads(tags)),
        author=author,
        received_from=received_from,
        approvals=tuple(approvals),
        quarantined=bool(held),
    )


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


def content_id_of_envelope(raw: bytes) -> bytes | None:
    """The record id an envelope claims, unverified (``receive`` verifies it)."""
    return claimed_content_id(raw, RECORD_CONTEXT, RECORD_LIMITS)
