"""The invariants of ARCHITECTURE.md, checked against every node that is up after each step.

Each check returns the breaches it finds, in words naming the invariant, the node and the
record, so a shrunk failure reads as a sentence. ``observe`` then records the new state.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass

from hypothesis import event
from hypothesis.errors import InvalidArgument

from tests.model.consent_model import (
    Receiver,
    consent_breach,
    widening_strictest,
    withdrawn_with,
)
from tests.model.federation_driver import Federation, node_id_of, region_of
from tests.model.memory import Arrivals, FederationMemory

NEEDED_APPROVALS = {"low": 0, "medium": 1, "high": 2}  # the model's policy.toml


def note(what: str) -> None:
    """Count ``what`` in Hypothesis's statistics (--hypothesis-show-statistics); a no-op when
    the machine is driven by hand to replay a failure."""
    with suppress(InvalidArgument):
        event(what)


@dataclass
class Now:
    """What the nodes that are up hold at the end of this step."""

    held: dict[str, dict[str, str | None]]
    tombstones: dict[str, set[str]]
    approvals: dict[str, set[tuple[str, str]]]
    peers: dict[str, dict[str, str]]
    quarantined: dict[str, set[str]]
    rejected: dict[str, set[str]]


def read_now(fed: Federation, memory: FederationMemory) -> Now:
    up = [name for name in fed.slots if fed.up(name)]
    return Now(
        {name: fed.holdings(name) for name in up},
        {name: binding_tombstones(fed, name, memory) for name in up},
        {name: fed.approvals(name) for name in up},
        {name: fed.peers(name) for name in up},
        {name: fed.quarantined(name) for name in up},
        {name: fed.rejected(name) for name in up},
    )


def binding_tombstones(fed: Federation, name: str, memory: FederationMemory) -> set[str]:
    """Ids of the records the node's tombstones really withdraw: those whose own origin the
    tombstone is bound to (a revocation naming another origin's record withdraws nothing)."""
    return {
        record_id
        for record_id, origin in fed.tombstones(name)
        if record_id in memory.records and memory.records[record_id].origin == origin
    }


def name_of(node_id: str | None, fed: Federation) -> str | None:
    return next((name for name in fed.slots if node_id_of(name) == node_id), None)


def decisions_logged(fed: Federation, memory: FederationMemory, now: Now) -> list[str]:
    """(1) Nothing left a node without an allowing, logged decision for that peer."""
    breaches = []
    for holder, held in now.held.items():
        holder_id = node_id_of(holder)
        for record_id, sender_id in held.items():
            record = memory.records.get(record_id)
            if record is None:
                breaches.append(f"{holder} holds {record_id[:12]}, a record nobody wrote")
                continue
            if record.origin == holder_id:
                continue
            sender = name_of(sender_id, fed)
            if sender is None:
                breaches.append(f"{holder} holds {record_id[:12]} of another origin, from nobody")
            elif (record_id, holder_id) not in memory.allowed_out.get(sender, set()):
                breaches.append(
                    f"(1) {holder} holds {record_id[:12]} from {sender}, whose decision log "
                    f"has no allowing outbound decision for it and {holder}"
                )
    return breaches


def consent_kept(
    fed: Federation, memory: FederationMemory, now: Now, arrivals: Arrivals
) -> list[str]:
    """Consent: local or unconsented records stay home; no record reaches a node its
    effective consent excludes; no record leaves without the approvals the policy needs."""
    breaches = []
    for holder, held in now.held.items():
        holder_id = node_id_of(holder)
        before = memory.nodes[holder].held
        for record_id, sender_id in held.items():
            record = memory.records.get(record_id)
            if record is None or record.origin == holder_id:
                continue
            if record.consent.scope == "local" or record.consent.basis != "consent":
                breaches.append(
                    f"consent: {holder} holds {record_id[:12]} (scope {record.consent.scope}, "
                    f"basis {record.consent.basis}), which never leaves its origin"
                )
            sender = name_of(sender_id, fed)
            if record_id in before or sender is None:
                continue
            note(f"arrival by {'bundle' if arrivals.bundle else 'sync'}")
            knows, approvals = sender_knowledge(sender, holder, memory, now, arrivals)
            receiver = Receiver(holder_id, region_of(holder), int(fed.clock()))
            why = consent_breach(memory.records, record_id, receiver, node_id_of(sender), knows)
            if why:
                breaches.append(f"consent: {record_id[:12]} reached {holder} from {sender}: {why}")
            by_bundle = arrivals.bundle is not None and arrivals.bundle.sender == sender
            waiting = (
                arrivals.bundle.sender_quarantined
                if arrivals.bundle is not None and by_bundle
                else memory.nodes[sender].quarantined
            )
            if record_id in waiting:
                breaches.append(
                    f"quarantine: {record_id[:12]} went from {sender} to {holder} while it "
                    f"waited in {sender}'s quarantine"
                )
            if memory.nodes[holder].peers.get(sender) == "suspended" or (
                not by_bundle and memory.nodes[sender].peers.get(holder) == "suspended"
            ):
                breaches.append(
                    f"suspended: {record_id[:12]} went from {sender} to {holder} while one "
                    "of them had the other suspended"
                )
            curators = {member for rid, member in approvals if rid == record_id}
            needed = NEEDED_APPROVALS[record.sensitivity]
            strictest = widening_strictest(memory.records, record_id)
            if strictest is not None and record.origin == node_id_of(sender):
                # A widening version leaves its origin with at least one approval, and as
                # many as the strictest earlier version needed (issue 11, item 3).
                needed = max(needed, 1, NEEDED_APPROVALS[strictest])
            if len(curators) < needed:
                breaches.append(
                    f"approvals: {record_id[:12]} ({record.sensitivity}"
                    f"{', widening' if strictest else ''}) reached {holder} from {sender} "
                    f"with {len(curators)} of {needed} curator approvals there"
                )
    return breaches


def sender_knowledge(
    sender: str, receiver: str, memory: FederationMemory, now: Now, arrivals: Arrivals
) -> tuple[set[str], set[tuple[str, str]]]:
    """What ``sender`` held (and which approvals) when it let a record go to ``receiver``."""
    bundle = arrivals.bundle
    if bundle is not None and (bundle.sender, bundle.recipient) == (sender, receiver):
        return set(bundle.sender_knows), set(bundle.sender_approvals)
    before = memory.nodes[sender]
    knows = set(before.held)
    if arrivals.sync is not None and arrivals.sync[0] == sender:
        knows |= set(now.held.get(sender, {}))
    return knows, before.approvals | now.approvals.get(sender, set())


def tombstones_win(memory: FederationMemory, now: Now) -> list[str]:
    """(2) A node that ever held a tombstone holds nothing it withdraws, from any path."""
    breaches = []
    for holder, held in now.held.items():
        known = memory.nodes[holder].tombstones | now.tombstones[holder]
        if not known:
            continue
        for record_id in sorted(withdrawn_with(memory.records, known) & set(held)):
            breaches.append(
                f"(2) {holder} holds {record_id[:12]} although it holds a tombstone that "
                "withdraws it"
            )
    return breaches


def rejected_stay_out(memory: FederationMemory, now: Now) -> list[str]:
    """A record a curator rejected is never stored again where it was rejected."""
    breaches: list[str] = []
    for holder, held in now.held.items():
        rejected = memory.nodes[holder].rejected | now.rejected[holder]
        breaches.extend(
            f"quarantine: {holder} holds {record_id[:12]} again after a curator rejected it"
            for record_id in sorted(rejected & set(held))
        )
    return breaches


def exchange_carries_tombstones(
    memory: FederationMemory, now: Now, pair: tuple[str, str], step: int
) -> list[str]:
    """(2) After an exchange with the origin, a holder keeps nothing the origin revoked."""
    breaches: list[str] = []
    for holder, origin in (pair, pair[::-1]):
        if holder not in now.held or memory.exchanged.get((holder, origin)) != step:
            continue
        for revocation in memory.revocations:
            if revocation.origin != origin or revocation.step >= step:
                continue
            # The origin's own records: it knows who it gave them to, and a holder offers
            # them back to it. A translation another node made reaches its holders through
            # that node (and (2) above holds once the holder has the tombstone).
            own = {rid for rid in revocation.record_ids if _origin_is(memory, rid, origin)}
            if not own <= memory.nodes[origin].tombstones:
                continue  # the origin was restored from before it revoked: it cannot tell
            note("an exchange with a revoking origin checked")
            kept = sorted(own & set(now.held[holder]))
            breaches.extend(
                f"(2) {holder} still holds {record_id[:12]} after an exchange with its origin "
                f"{origin}, which revoked it at step {revocation.step}"
                for record_id in kept
            )
    return breaches


def _origin_is(memory: FederationMemory, record_id: str, name: str) -> bool:
    record = memory.records.get(record_id)
    return record is not None and record.origin == node_id_of(name)


def receipts_true(fed: Federation, memory: FederationMemory, now: Now) -> list[str]:
    """(3) A holder the origin's receipts show as "purged" holds nothing of the record."""
    breaches: list[str] = []
    for revocation in memory.revocations:
        origin = revocation.origin
        own = [rid for rid in revocation.record_ids if _origin_is(memory, rid, origin)]
        if not own or origin not in now.held or own[0] not in now.tombstones[origin]:
            continue
        root = own[0]
        withdrawn = withdrawn_with(memory.records, own)
        for holder_id in fed.purged_holders(origin, root):
            holder = name_of(holder_id, fed)
            if holder is None or holder not in now.held:
                continue
            restored = memory.nodes[holder].restored_at
            if restored > memory.exchanged.get((holder, origin), -1):
                continue  # restored from a backup since: the origin cannot know yet
            note("a purged holder's receipt checked")
            for record_id in sorted(withdrawn & set(now.held[holder])):
                breaches.append(
                    f"(3) {origin}'s receipts say {holder} purged {root[:12]}, but {holder} "
                    f"holds {record_id[:12]}"
                )
    return breaches


def purges_leave_nothing(fed: Federation, memory: FederationMemory, now: Now) -> list[str]:
    """Purge means gone: of a record a node holds a tombstone for (or a curator rejected),
    no word of its text is left in any file of the node's home (database, write-ahead log,
    index, anything)."""
    breaches: list[str] = []
    for holder, held in now.held.items():
        withdrawn = withdrawn_with(memory.records, now.tombstones[holder])
        withdrawn |= now.rejected[holder] & set(memory.records)  # rejected: purged too
        words = {word for rid in withdrawn for word in memory.records[rid].canaries}
        # A translation copies its original's words: the original may still be held.
        words -= {
            word for rid in held if rid in memory.records for word in memory.records[rid].canaries
        }
        if not words:
            continue
        for path, data in fed.files(holder):
            breaches.extend(
                f"(4) {holder} purged the lesson holding {word}, but {path} still holds it"
                for word in sorted(words)
                if word.encode() in data
            )
    return breaches


def harvest_decisions(fed: Federation, memory: FederationMemory, now: Now) -> None:
    """Note every allowing outbound decision logged so far (a restore cannot undo them)."""
    for name in now.held:
        memory.allowed_out.setdefault(name, set()).update(fed.allowed_outbound(name))


def observe(memory: FederationMemory, now: Now) -> None:
    """Remember this step's state for the next one."""
    for name in now.held:
        node = memory.nodes[name]
        node.held = dict(now.held[name])
        node.tombstones |= now.tombstones[name]
        node.approvals = set(now.approvals[name])
        node.peers = dict(now.peers[name])
        node.quarantined = set(now.quarantined[name])
        node.rejected |= now.rejected[name]
