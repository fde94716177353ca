"""The sync engine: one exchange with a peer moves records both ways.

We reconcile the set we may offer the peer against the set it may offer us (Negentropy),
then fetch what we lack and push what it lacks, in batches of one transaction each. An
interrupted sync loses nothing: every stored batch stays, and the next reconciliation only
finds what is still missing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field, replace

from archive.db import transaction
from crypto.errors import RhizomeError
from federation import endpoints, wire
from federation.address import tell_address
from federation.blob_fetch import fetch_attachments_in_sync
from federation.client import PeerClient
from federation.copies import revocations_for_offered
from federation.errors import PeerProtocolError
from federation.key_exchange import exchange_key_history
from federation.key_relay import learn_origins_from
from federation.local import LocalNode
from federation.member_notices import tell_member_notices
from federation.negentropy import Initiator
from federation.own_records import refetch_own_records
from federation.pace import paced
from federation.peers import Peer, note_sync, record_deliveries
from federation.propagation import accept_revocation
from federation.purposes_announce import tell_purposes
from federation.quotas import check_before
from federation.receiving import Receiver, ReceiveResult
from federation.relearn import relearn_from
from federation.revocation import InvalidRevocation
from federation.revocation_client import (
    ask_about_tombstones,
    exchange_revocations,
    push_outbox,
)
from federation.sharing import (
    Offer,
    content_id_of_envelope,
    held_or_rejected,
    kept_offer_storage,
)
from federation.verify_pool import Verdict, open_elsewhere
from federation.workers import in_worker
from governance.decision_log import denial_states, refused_under

BATCH = 250
# A guard against a peer that never lets reconciliation end, not a size limit: each round
# settles up to a frame of ids (about 4,000), so this allows archives of millions.
MAX_ROUNDS = 4_096
FIRST_ROUND_DEADLINE = 180.0
log = logging.getLogger("rhizome.federation")
# (records, bytes) moved so far: the CLI draws its progress bar from this.
Progress = Callable[[int, int], None]


@dataclass
class SyncReport:
    peer: str
    received: int = 0
    sent: int = 0
    rejected: int = 0
    refused_revoked: int = 0
    revocations: int = 0
    rounds: int = 0
    moved: int = 0  # bytes of records and reconciliation answers, both ways (the pace)
    errors: list[str] = field(default_factory=list)


async def reconcile(
    client: PeerClient, peer: Peer, report: SyncReport
) -> tuple[list[bytes], list[bytes]]:
    """Ids we hold that the peer lacks (have) and ids it holds that we lack (need)."""
    storage = await in_worker(client.local, kept_offer_storage, peer)
    initiator = Initiator(storage, wire.FRAME_SIZE_LIMIT)
    session = os.urandom(12).hex()
    message: bytes | None = initiator.initiate()
    have: list[bytes] = []
    need: list[bytes] = []
    while message is not None:
        report.rounds += 1
        if report.rounds > MAX_ROUNDS:
            raise PeerProtocolError("reconciliation did not converge")
        # The first message makes the peer build its whole offer set: give it longer.
        answer = await client.call(
            endpoints.RECONCILE,
            {"session": session, "msg": message},
            recipient=peer.node_id,
            base_url=peer.url,
            deadline=FIRST_ROUND_DEADLINE if report.rounds == 1 else None,
        )  # fmt: skip
        report.moved += len(answer["msg"])
        message, more_have, more_need = initiator.reconcile(answer["msg"])
        have += more_have
        need += more_need
    return have, need


async def fetch_missing(
    client: PeerClient, peer: Peer, need: list[bytes], report: SyncReport, progress: Progress | None
) -> None:
    wanted = await in_worker(client.local, _worth_fetching, peer, need)
    # One request is always in flight while we store the previous answer: the peer prepares
    # the next batch on its own core while this one is verified and stored here.
    inflight: _Fetch | None = None
    if wanted:
        inflight = _fetch(client, peer, wanted[:BATCH])
        wanted = wanted[BATCH:]
    try:
        while inflight is not None:
            batch, task, _ = inflight
            handled, envelopes, opened = await task
            wanted = batch[handled:] + wanted  # what did not fit in this answer comes next
            inflight = _fetch(client, peer, wanted[:BATCH]) if wanted else None
            wanted = wanted[BATCH:]
            try:
                if inflight is not None:
                    await _until_sent(inflight)
            finally:  # even if the sync is cancelled right here, what arrived is kept
                await _store(client, peer, envelopes, report, progress, opened)
    finally:
        if inflight is not None and not inflight[1].done():  # an error left one in flight
            inflight[1].cancel()
            with suppress(asyncio.CancelledError, RhizomeError):
                await inflight[1]


def _receive(
    local: LocalNode,
    peer: Peer,
    envelopes: list[bytes],
    opened: list[Verdict] | None = None,
    hold: bool = True,
) -> ReceiveResult:
    receiver = replace(Receiver.of(local), hold_unknown_keys=hold)
    return receiver.receive(envelopes, peer, opened=opened)


def _worth_fetching(local: LocalNode, peer: Peer, need: list[bytes]) -> list[bytes]:
    """The needed ids we neither hold, nor were refused under this policy (worker thread)."""
    refused = denial_states(local.db, peer.node_id, "inbound")
    policy_hash = local.policy().hash
    wanted = [
        record_id
        for record_id in need
        if not held_or_rejected(local.db, record_id.hex())
        and not refused_under(refused, record_id.hex(), policy_hash)
    ]
    if wanted:  # a peer at its quota here: do not make it send what we would refuse
        check_before(local.db, peer.node_id, local.now(), local.quotas, local.policy().quarantine)
    return wanted


async def _store(
    client: PeerClient,
    peer: Peer,
    envelopes: list[bytes],
    report: SyncReport,
    progress: Progress | None,
    opened: list[Verdict] | None = None,
) -> None:
    """Verify, decide and store a fetched batch in a worker thread (one transaction);
    ``opened``: what the verifier process already made of each envelope.

    Records signed by a key of their origin we do not know yet are held, not refused: we
    learn their origins' key histories from this peer (it verified them with the history it
    holds), then take them again; only then may one count against the peer."""
    result = await in_worker(client.local, _receive, peer, envelopes, opened)
    if result.held:
        await learn_origins_from(client, peer, {origin for origin, _ in result.held})
        again = await in_worker(client.local, _receive, peer, [raw for _, raw in result.held],
                                None, False)  # fmt: skip
        result = _merged(result, again)
    report.refused_revoked += sum(reason == "revoked" for _, reason in result.rejected)
    report.received += len(result.stored) + len(result.quarantined)
    report.rejected += len(result.rejected)
    report.moved += sum(len(envelope) for envelope in envelopes)
    if progress:
        progress(len(envelopes), sum(len(envelope) for envelope in envelopes))


def _merged(first: ReceiveResult, again: ReceiveResult) -> ReceiveResult:
    return ReceiveResult(
        stored=first.stored + again.stored, quarantined=first.quarantined + again.quarantined,
        duplicates=first.duplicates + again.duplicates, rejected=first.rejected + again.rejected,
        revoked=first.revoked + again.revoked,
        stored_bytes=first.stored_bytes + again.stored_bytes,
    )  # fmt: skip


# What a fetch brings: how many asked ids it handled, their envelopes, and what the
# verifier process made of each (None: the writer thread opens them itself).
_Fetched = tuple[int, list[bytes], list[Verdict] | None]
# A fetch in flight: the ids asked for, the call, and the event its body sets once sent.
_Fetch = tuple[list[bytes], asyncio.Task[_Fetched], asyncio.Event]


def _fetch(client: PeerClient, peer: Peer, batch: list[bytes]) -> _Fetch:
    sent = asyncio.Event()
    return batch, asyncio.ensure_future(_fetch_and_open(client, peer, batch, sent)), sent


async def _fetch_and_open(
    client: PeerClient, peer: Peer, batch: list[bytes], sent: asyncio.Event
) -> _Fetched:
    """Fetch a batch, then have the verifier process open it: the writer thread stores
    the batch before meanwhile (federation/verify_pool.py)."""
    answer = await client.call(
        endpoints.FETCH, {"ids": batch}, recipient=peer.node_id, base_url=peer.url, sent=sent
    )
    handled = answer["handled"]
    if not 0 < handled <= len(batch):
        raise PeerProtocolError("the peer's fetch answer handled no requested id")
    envelopes = _only_requested(answer["records"], batch[:handled])
    return handled, envelopes, await open_elsewhere(envelopes)


async def _until_sent(fetch: _Fetch) -> None:
    """Wait until the next request is on the wire (or its call ended) before storing blocks
    the loop: the peer then prepares the next answer while this one is stored."""
    _, task, sent = fetch
    waiter = asyncio.ensure_future(sent.wait())
    try:
        await asyncio.wait((task, waiter), return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        with suppress(asyncio.CancelledError):
            await waiter


def _only_requested(envelopes: list[bytes], requested: list[bytes]) -> list[bytes]:
    """Refuse an answer that slips in records we did not ask for."""
    asked = set(requested)
    for envelope in envelopes:
        if content_id_of_envelope(envelope) not in asked:
            raise PeerProtocolError("the peer answered with a record we did not ask for")
    return envelopes


async def push_missing(
    client: PeerClient, peer: Peer, have: list[bytes], report: SyncReport, progress: Progress | None
) -> list[bytes]:
    """Push what the peer lacks and may have; returns the ids the decision withheld."""
    local = client.local
    withheld: list[bytes] = []
    while have:
        now = local.now()
        found, handled = await in_worker(local, _offered_envelopes, peer, have[:BATCH])
        pushed = {bytes.fromhex(record_id) for record_id, _ in found}
        withheld += [record_id for record_id in have[:handled] if record_id not in pushed]
        have = have[handled:]
        if not found:
            continue
        envelopes = [envelope for _, envelope in found]
        answer = await client.call(
            endpoints.PUSH,
            {"records": envelopes},
            recipient=peer.node_id,
            base_url=peer.url,
        )  # fmt: skip
        sent = [record_id for record_id, _ in found]
        await in_worker(local, _note_sent, peer, sent, now)
        report.sent += int(answer["stored"])
        report.moved += sum(len(envelope) for envelope in envelopes)
        await _purge_what_the_peer_says_was_withdrawn(client, peer, answer["revocations"])
        if progress:
            progress(len(envelopes), sum(len(envelope) for envelope in envelopes))
    return withheld


def _offered_envelopes(
    local: LocalNode, peer: Peer, batch: list[bytes]
) -> tuple[list[tuple[str, bytes]], int]:
    return Offer.of(local).envelopes_for(batch, peer, wire.BATCH_BYTES)


def _note_sent(local: LocalNode, peer: Peer, sent: list[str], now: int) -> None:
    with transaction(local.db):
        record_deliveries(local.db, peer.node_id, sent, "sent", now)


def _purge_withdrawn(local: LocalNode, peer: Peer, revocations: list[bytes]) -> list[bytes]:
    """Accept each revocation (purging what it names); our receipts (worker thread)."""
    receipts = []
    for raw in revocations:
        with suppress(InvalidRevocation):  # a strike is already recorded for it
            receipts.append(accept_revocation(local, raw, peer).envelope)
    return receipts


async def _purge_what_the_peer_says_was_withdrawn(
    client: PeerClient, peer: Peer, revocations: list[bytes]
) -> None:
    """We offered a record the peer knows was revoked: purge it too, and send our receipt."""
    if not revocations:
        return
    receipts = await in_worker(client.local, _purge_withdrawn, peer, revocations)
    if receipts:
        await client.call(
            endpoints.RECEIPTS,
            {"receipts": receipts},
            recipient=peer.node_id,
            base_url=peer.url,
        )  # fmt: skip


async def sync_with_peer(
    client: PeerClient, peer: Peer, progress: Progress | None = None
) -> SyncReport:
    """One full exchange; errors are reported, not raised, so one bad peer stops nothing."""
    report = SyncReport(peer=peer.node_id)
    local = client.local
    if peer.status != "active":
        report.errors.append(f"{peer.name} is {peer.status}; resume it to sync")
        return report

    async def exchange() -> None:
        # Key histories first: a rotation (ours or the peer's) decides which key signs and
        # which TLS key is pinned for everything after it; a fork stops the exchange here.
        await exchange_key_history(client, peer)
        # Members of ours removed or compromised since we last told this peer (usually none).
        await tell_member_notices(client, peer)
        # Restored from a backup: our own withdrawals come back before anything else moves.
        await relearn_from(client, peer)
        # Recovered with no backup: our own records back, once every withdrawal is relearned.
        report.received += await refetch_own_records(client, peer) or 0
        # Once a run: our address, signed (a peer paired over http:// learns the https one).
        await tell_address(client, peer)
        # Our declared purposes after a change, signed, until the peer confirms them.
        await tell_purposes(client, peer)
        # Withdrawals first: a peer back from offline purges before anything else moves.
        exchanged = await exchange_revocations(client, peer)
        report.revocations = exchanged.revocations_sent + exchanged.revocations_received
        have, need = await reconcile(client, peer, report)
        # Tombstones travel with reconciliation (federation/copies.py): what the peer offers
        # that we withdrew, and what we hold that it knows withdrawn, purge in this exchange.
        await in_worker(local, revocations_for_offered, peer, need)
        await fetch_missing(client, peer, need, report, progress)
        await fetch_attachments_in_sync(client, peer, report)  # attachment bytes, resumable
        withheld = await push_missing(client, peer, have, report, progress)
        await ask_about_tombstones(client, peer, withheld, exchanged)
        # A stale copy it offered us gets the tombstone in the same exchange.
        await push_outbox(client, peer, exchanged)

    try:
        # A deadline for the whole exchange and a pace to keep: see federation/pace.py.
        await paced(exchange(), lambda: report.moved, peer.name)
    except (RhizomeError, sqlite3.Error) as error:
        # A database that refuses writes (locked, read-only) ends the exchange like a peer
        # error does: reported, so the other peers' syncs go on.
        report.errors.append(str(error))
        await _note_outcome(local, report, str(error))
        return report
    await _note_outcome(local, report, None)
    return report


def _note(local: LocalNode, report: SyncReport, error: str | None) -> None:
    note_sync(local.db, report.peer, local.now(), error, report.received, report.sent)


async def _note_outcome(local: LocalNode, report: SyncReport, error: str | None) -> None:
    """Note how the sync ended (a write: in a worker thread); a database that refuses even
    that is logged, never raised, so the caller still gets the report with the error that
    ended the exchange."""
    try:
        await in_worker(local, _note, report, error)
    except (RhizomeError, sqlite3.Error) as failure:
        log.warning(
            "could not note the sync with %s in the database (%s); the sync %s",
            report.peer, failure, f"failed: {error}" if error else "itself succeeded",
        )  # fmt: skip
