"""The sync engine: one exchange with a peer moves records both ways.

We reconcile the set we may offer the peer against the set it may offer us (Negentropy),
then fetch what we lack and push what it lacks, in batches of one transaction each. An
interrupted sync loses nothing: every stored batch stays, and the next reconciliation only
finds what is still missing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from archive.db import transaction
from archive.store import has_record
from crypto.errors import RhizomeError
from federation import wire
from federation.client import PeerClient
from federation.errors import PeerProtocolError
from federation.negentropy import Initiator, Storage
from federation.peers import Peer, note_sync, record_deliveries
from federation.sharing import envelopes_for_peer, offer_items, receive_records

RECONCILE_PATH = "/federation/v1/reconcile"
FETCH_PATH = "/federation/v1/fetch"
PUSH_PATH = "/federation/v1/push"
NOTIFY_PATH = "/federation/v1/notify"
BATCH = 250
MAX_ROUNDS = 64
# (records, bytes) moved so far: the CLI draws its progress bar from this.
Progress = Callable[[int, int], None]


@dataclass
class SyncReport:
    peer: str
    received: int = 0
    sent: int = 0
    rejected: int = 0
    rounds: int = 0
    errors: list[str] = field(default_factory=list)


async def reconcile(
    client: PeerClient, peer: Peer, report: SyncReport
) -> tuple[list[bytes], list[bytes]]:
    """Ids we hold that the peer lacks (have) and ids it holds that we lack (need)."""
    local = client.local
    items = offer_items(local.db, peer, local.node_id, local.now())
    initiator = Initiator(Storage.from_sorted(items), wire.FRAME_SIZE_LIMIT)
    session = os.urandom(12).hex()
    message: bytes | None = initiator.initiate()
    have: list[bytes] = []
    need: list[bytes] = []
    while message is not None:
        report.rounds += 1
        if report.rounds > MAX_ROUNDS:
            raise PeerProtocolError("reconciliation did not converge")
        answer = await client.call(
            peer.node_id, peer.url, RECONCILE_PATH, wire.RECONCILE_REQUEST,
            {"session": session, "msg": message}, wire.RECONCILE_RESPONSE,
        )  # fmt: skip
        message, more_have, more_need = initiator.reconcile(answer["msg"])
        have += more_have
        need += more_need
    return have, need


async def fetch_missing(
    client: PeerClient, peer: Peer, need: list[bytes], report: SyncReport, progress: Progress | None
) -> None:
    local = client.local
    wanted = [record_id for record_id in need if not has_record(local.db, record_id.hex())]
    for start in range(0, len(wanted), BATCH):
        batch = wanted[start : start + BATCH]
        answer = await client.call(
            peer.node_id, peer.url, FETCH_PATH, wire.FETCH_REQUEST, {"ids": batch}, wire.RECORDS
        )
        envelopes = answer["records"]
        result = receive_records(local.db, local.identity, envelopes, peer, local.now())
        report.received += len(result.stored)
        report.rejected += len(result.rejected)
        if progress:
            progress(len(envelopes), sum(len(envelope) for envelope in envelopes))


async def push_missing(
    client: PeerClient, peer: Peer, have: list[bytes], report: SyncReport, progress: Progress | None
) -> None:
    local = client.local
    for start in range(0, len(have), BATCH):
        now = local.now()
        found = list(
            envelopes_for_peer(local.db, have[start : start + BATCH], peer, local.node_id, now)
        )
        if not found:
            continue
        envelopes = [envelope for _, envelope in found]
        answer = await client.call(
            peer.node_id,
            peer.url,
            PUSH_PATH,
            wire.RECORDS,
            {"records": envelopes},
            wire.PUSH_RESPONSE,
        )
        with transaction(local.db):
            record_deliveries(
                local.db, peer.node_id, [record_id for record_id, _ in found], "sent", now
            )
        report.sent += int(answer["stored"])
        if progress:
            progress(len(envelopes), sum(len(envelope) for envelope in envelopes))


async def sync_with_peer(
    client: PeerClient, peer: Peer, progress: Progress | None = None
) -> SyncReport:
    """One full exchange; errors are reported, not raised, so one bad peer stops nothing."""
    report = SyncReport(peer=peer.node_id)
    local = client.local
    try:
        have, need = await reconcile(client, peer, report)
        await fetch_missing(client, peer, need, report, progress)
        await push_missing(client, peer, have, report, progress)
    except RhizomeError as error:
        report.errors.append(str(error))
        note_sync(local.db, peer.node_id, local.now(), str(error))
        return report
    note_sync(local.db, peer.node_id, local.now(), None)
    return report
