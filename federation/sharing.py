"""What may go to a peer and what may come in from one, over the archive.

``offer_items`` is the set a node reconciles with a peer: the records the outbound decision
allows for that peer, plus the records the peer is already known to hold (it sent them to
us, we sent them to it, or it is their origin). Offering those back leaks nothing, and it
keeps a second sync from fetching again what we hold but may not pass on.
``receive_records`` is the one inbound path: verify, decide, store, in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import sqlite_utils

from archive.db import transaction
from archive.event_log import append_event
from archive.record import consent_from_json
from archive.signed_record import SignedRecord, open_record
from archive.store import has_record, insert_record
from crypto.errors import RhizomeError
from crypto.signing import SigningIdentity
from federation.peers import Peer, add_strike, record_deliveries
from governance.decisions import Decision, RecordFacts, decide_inbound, decide_outbound

Item = tuple[int, bytes]
_FACT_COLUMNS = "created, id, origin, consent, sensitivity, kind, tags, received_from"


def _facts(row: tuple[object, ...]) -> RecordFacts:
    _, record_id, origin, consent, sensitivity, kind, tags, received_from = row
    return RecordFacts(
        record_id=str(record_id),
        origin=str(origin),
        consent=consent_from_json(str(consent)),
        sensitivity=str(sensitivity),
        kind=str(kind),
        tags=tuple(json.loads(str(tags))),
        received_from=None if received_from is None else str(received_from),
    )


def record_facts(db: sqlite_utils.Database, record_id: str) -> RecordFacts | None:
    row = db.execute(f"SELECT {_FACT_COLUMNS} FROM records WHERE id = ?", [record_id]).fetchone()
    return None if row is None else _facts(row)


def known_held(db: sqlite_utils.Database, peer_id: str) -> set[str]:
    """Records the peer is known to hold already."""
    rows = db.execute("SELECT record_id FROM deliveries WHERE peer_id = ?", [peer_id])
    return {str(row[0]) for row in rows}


def outbound_decision(
    db: sqlite_utils.Database, record_id: str, peer: Peer, local_node: str, now: int
) -> Decision | None:
    facts = record_facts(db, record_id)
    if facts is None:
        return None
    return decide_outbound(facts, peer.facts, local_node=local_node, now=now)


def offer_items(db: sqlite_utils.Database, peer: Peer, local_node: str, now: int) -> list[Item]:
    """(created, id) of every record we may reconcile with ``peer``, sorted."""
    held = known_held(db, peer.node_id)
    items: list[Item] = []
    for row in db.execute(f"SELECT {_FACT_COLUMNS} FROM records ORDER BY created, id"):
        created, record_id, origin = int(row[0]), str(row[1]), str(row[2])
        if record_id in held or origin == peer.node_id or _allowed(row, peer, local_node, now):
            items.append((created, bytes.fromhex(record_id)))
    return items


def _allowed(row: tuple[object, ...], peer: Peer, local_node: str, now: int) -> bool:
    return decide_outbound(_facts(row), peer.facts, local_node=local_node, now=now).allowed


def envelopes_for_peer(
    db: sqlite_utils.Database, record_ids: list[bytes], peer: Peer, local_node: str, now: int
) -> Iterator[tuple[str, bytes]]:
    """(id, envelope) of each requested record the decision lets ``peer`` have."""
    for raw_id in record_ids:
        record_id = raw_id.hex()
        decision = outbound_decision(db, record_id, peer, local_node, now)
        if decision is None or not decision.allowed:
            continue
        row = db.execute("SELECT envelope FROM records WHERE id = ?", [record_id]).fetchone()
        yield record_id, bytes(row[0])


@dataclass
class ReceiveResult:
    stored: list[str] = field(default_factory=list)
    duplicates: int = 0
    rejected: list[tuple[str | None, str]] = field(default_factory=list)


def receive_records(
    db: sqlite_utils.Database,
    identity: SigningIdentity,
    envelopes: list[bytes],
    sender: Peer,
    now: int,
) -> ReceiveResult:
    """Verify each envelope, decide, store the allowed ones; strike the sender for the rest."""
    result = ReceiveResult()
    local_node = identity.node_id
    with transaction(db):
        for raw in envelopes:
            outcome = _receive_one(db, raw, sender, local_node, now)
            if isinstance(outcome, SignedRecord):
                if has_record(db, outcome.id_hex):
                    result.duplicates += 1
                    record_deliveries(db, sender.node_id, [outcome.id_hex], "received", now)
                    continue
                insert_record(db, outcome, sender.node_id, now)
                record_deliveries(db, sender.node_id, [outcome.id_hex], "received", now)
                append_event(
                    db, identity, "record.received", outcome.id_hex, {"from": sender.node_id}, now
                )
                result.stored.append(outcome.id_hex)
            else:
                record_id, reason = outcome
                result.rejected.append(outcome)
                add_strike(db, sender.node_id, reason, now, record_id)
    return result


def _receive_one(
    db: sqlite_utils.Database, raw: bytes, sender: Peer, local_node: str, now: int
) -> SignedRecord | tuple[str | None, str]:
    try:
        record = open_record(raw, "received record")
    except RhizomeError as error:
        return None, f"bad_record: {error}"
    facts = RecordFacts(
        record_id=record.id_hex,
        origin=record.lesson.origin_id,
        consent=record.lesson.consent,
        sensitivity=record.lesson.sensitivity,
        kind=record.lesson.kind,
        tags=record.lesson.tags,
        received_from=sender.node_id,
    )
    decision = decide_inbound(facts, sender.facts, local_node=local_node, now=now)
    if not decision.allowed:
        codes = ",".join(reason.code for reason in decision.denials)
        return record.id_hex, f"not_allowed: {codes}"
    return record
