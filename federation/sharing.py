"""What may go to a peer, over the archive: the outbound half of sharing.

An :class:`Offer` is one outbound evaluation: the archive, our node id, the policy in force
and the time, fixed for the length of one request or one sync. ``offer_items`` is the set we
reconcile with a peer: the records the outbound decision allows for that peer, plus the
records the peer is already known to hold (it sent them to us, we sent them to it, or it is
their origin); offering those back leaks nothing and keeps a second sync from fetching again
what we hold but may not pass on. ``envelopes_for`` answers a fetch. Every decision that
moves or withholds a record is logged. What comes in goes through
:class:`federation.receiving.Receiver`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import sqlite_utils

from archive.db import transaction
from archive.record import consent_from_json
from archive.record_facts import is_held, policy_row, policy_rows, policy_rows_with_envelopes
from archive.signed_record import RECORD_LIMITS
from crypto.envelope import claimed_content_id
from crypto.signing import RECORD_CONTEXT
from federation.local import LocalNode
from federation.negentropy import Storage
from federation.peers import Peer
from federation.relearn_state import offers_held
from governance.approvals import all_approval_facts, approval_facts, approval_facts_of
from governance.decision_log import (
    denial_states,
    log_decision,
    log_denial_if_new,
)
from governance.decisions import (
    Decision,
    RecordFacts,
    decide_outbound,
)
from governance.effective_consent import ConsentBounds, bounds_of
from governance.policy_file import Policy
from governance.quarantine import was_rejected
from governance.versions import Widenings

Item = tuple[int, bytes]
class Offer:
    """What may go to peers from this archive, under one policy at one time."""

    def __init__(
        self, db: sqlite_utils.Database, node_id: str, policy: Policy, now: int
    ) -> None:
        self.db = db
        self.node_id = node_id
        self.policy = policy
        self.now = now
        self.widenings = Widenings(db, node_id)  # our versions wider than earlier ones
        self.bounds = ConsentBounds(db)  # later versions and originals that narrow consent

    @classmethod
    def of(cls, local: LocalNode) -> Offer:
        """One evaluation for ``local``, under the policy in force now."""
        return cls(local.db, local.node_id, local.policy(), local.now())

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
        if offers_held(self.db):  # restored from a backup: relearn withdrawals first
            return
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
        wanted = [raw_id.hex() for raw_id in record_ids]
        if offers_held(self.db):  # restored from a backup: relearn withdrawals first
            return [], len(wanted)
        with transaction(self.db):
            held = policy_rows_with_envelopes(self.db, wanted)  # one query for every record
            approvals = approval_facts_of(self.db, list(held))
            for record_id in wanted:
                if record_id not in held:
                    handled += 1
                    continue
                row, envelope = held[record_id]
                if found and size + len(envelope) > budget:
                    break
                handled += 1
                decision = self._decide_row(row, approvals.get(record_id, ()), peer)
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


def content_id_of_envelope(raw: bytes) -> bytes | None:
    """The record id an envelope claims, unverified (``receive`` verifies it)."""
    return claimed_content_id(raw, RECORD_CONTEXT, RECORD_LIMITS)
