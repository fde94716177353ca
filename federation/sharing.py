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
from collections.abc import Container, Iterable, Iterator
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
from federation.offer_sets import BoundsOneByOne
from federation.offer_sets import known_held as known_held  # bundles and tests read it here
from federation.peers import Peer
from federation.relearn_state import offers_held
from federation.workers import own_connection
from governance.approvals import all_approval_facts, approval_facts, approval_facts_of
from governance.decision_log import (
    denial_states,
    denial_states_of,
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
from governance.versions import Widenings, WideningsOneByOne

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
        # Later versions and originals that narrow consent: all read at once for a whole
        # archive, one record at a time to decide a few again (offer_sets.py).
        self.bounds: ConsentBounds | BoundsOneByOne = ConsentBounds(db)
        self.log_db = db  # where denials are logged (a second connection in a long scan)

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

    def withholding_all(self) -> bool:
        """Whether nothing may be offered now (restored from a backup, see relearn)."""
        return offers_held(self.db)

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
        for item, _ in self.offered(peer, policy_rows(self.db), held, approvals):
            yield item

    def offered(
        self,
        peer: Peer,
        rows: Iterable[Any],
        held: Container[str],
        approvals: Any,
        only: list[str] | None = None,
    ) -> Iterator[tuple[Item, int | None]]:
        """(item, until) of each of ``rows`` (:data:`POLICY_COLUMNS`) we may reconcile with
        ``peer``: ``until`` is when a consent its decision depends on runs out (None: the
        decision does not change with time), so an offer set kept between syncs
        (federation/offer_sets.py) knows when to decide it again. New denials are logged,
        in batches, on ``self.log_db``; ``only`` names the records of ``rows`` when they are
        a few (their denial states are read alone)."""
        denials = _Denials(self, peer, only)
        for row in rows:
            created, record_id, origin = int(row[0]), str(row[1]), str(row[2])
            if record_id in held or origin == peer.node_id:
                yield (created, bytes.fromhex(record_id)), None
                continue
            decision, facts = self._decide_row_with_facts(
                row, approvals.get(record_id, ()), peer
            )
            denials.note(record_id, decision)
            if decision.allowed:
                yield (created, bytes.fromhex(record_id)), consent_runs_out(facts, self.now)
        denials.flush()

    def envelopes_for(
        self, record_ids: list[bytes], peer: Peer, budget: int
    ) -> tuple[list[tuple[str, bytes]], int]:
        """(id, envelope) of the requested records the decision lets ``peer`` have, logged,
        and how many of ``record_ids`` were handled: we stop before ``budget`` bytes."""
        found: list[tuple[str, bytes]] = []
        size = 0
        handled = 0
        wanted = [raw_id.hex() for raw_id in record_ids]
        # A batch is a few hundred records: their bounds and earlier versions one query
        # each, not the whole archive's link graph and version chains per batch (100 ms at
        # 20k lessons, seconds at a million).
        self.bounds = BoundsOneByOne(self.db)
        self.widenings = WideningsOneByOne(self.db, self.node_id)
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
        return self._decide_row_with_facts(row, approvals, peer)[0]

    def _decide_row_with_facts(
        self, row: Any, approvals: Any, peer: Peer
    ) -> tuple[Decision, RecordFacts]:
        facts = self._with_widening(_facts(row, approvals))
        if bounds := self.bounds.of(facts.record_id):  # read once for the whole archive
            facts = replace(facts, bounds=bounds)
        decision = decide_outbound(
            facts, peer.facts, self.policy, local_node=self.node_id, now=self.now
        )
        return decision, facts

    def _with_widening(self, facts: RecordFacts) -> RecordFacts:
        found = self.widenings.of(facts.record_id, facts.origin, facts.consent, facts.sensitivity)
        return facts if found is None else replace(facts, widening=found)



class _Denials:
    """New outbound denials, logged in batches of short transactions on ``offer.log_db``:
    a scan of a million records must not hold the database's one writer lock throughout."""

    BATCH = 500

    def __init__(self, offer: Offer, peer: Peer, only: list[str] | None = None) -> None:
        self.offer = offer
        self.peer = peer
        self.states = (
            denial_states(offer.db, peer.node_id, "outbound")
            if only is None
            else denial_states_of(offer.db, peer.node_id, "outbound", only)
        )
        self.pending: list[tuple[str, Decision]] = []

    def note(self, record_id: str, decision: Decision) -> None:
        if decision.allowed and record_id not in self.states:
            return  # the common case: nothing to write
        self.pending.append((record_id, decision))
        if len(self.pending) >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        db, now, peer_id = self.offer.log_db, self.offer.now, self.peer.node_id
        if not self.pending:
            return
        with transaction(db):
            for record_id, decision in self.pending:
                log_denial_if_new(db, self.states, "outbound", record_id, peer_id, decision, now)
        self.pending = []


def consent_runs_out(facts: RecordFacts, now: int) -> int | None:
    """The first time after ``now`` when a consent this decision read expires (the
    record's own, a participant's, or a bound's); None if none will."""
    consents = [facts.consent] + [b.consent for b in facts.bounds if b.consent is not None]
    times = [
        when
        for consent in consents
        for when in (consent.expires, *(subject.expires for subject in consent.subjects))
        if when is not None and when > now
    ]
    return min(times, default=None)


def kept_offer_storage(local: LocalNode, peer: Peer) -> Storage:
    """The offer set of ``peer``, kept between syncs and shared by every session and both
    directions (federation/offer_sets.py). Call it in a worker thread: a first use scans
    the archive. Denials are logged on a second connection, in short transactions."""
    with own_connection(local) as log:
        return local.offer_sets.storage_for(Offer.of(local), peer, log.db)


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
