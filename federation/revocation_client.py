"""The client side of revocation: hand a peer what waits for it, take what waits for us.

Runs first in every sync ("before any other item") and on its own from the background
pusher, so a revocation reaches a peer that was offline as soon as it is back.

Nothing leaves an outbox because it was sent: a revocation leaves when the holder's signed
purge receipt for it comes back, a receipt when the peer's signed ack names it (see
``federation.outbox_state``). When we pull, we answer the same way: receipts for the
revocations we purged, an ack for the receipts we stored. Whatever fails on the way (the
answer is lost, our disk is full, a replayer pulled in our place) is handed out again.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from federation import endpoints, wire
from federation.acks import issue_ack
from federation.client import PeerClient
from federation.copies import covering_revocations
from federation.errors import FederationError
from federation.local import LocalNode
from federation.outbox import Outgoing, acknowledge_signed, hand_out, outgoing_for
from federation.peers import Peer
from federation.propagation import accept_receipts, accept_revocation, take_receipts
from federation.revocation import InvalidRevocation
from federation.workers import in_worker


class NotStoredHere(FederationError):
    """What a peer handed us could not be stored here (the database refused the write). It
    stays in the peer's outbox and comes again; free the disk or the database and wait."""

    code = "not_stored"


@dataclass
class ExchangeReport:
    revocations_sent: int = 0
    receipts_sent: int = 0
    revocations_received: int = 0
    receipts_received: int = 0
    messages: int = 0


async def push_outbox(client: PeerClient, peer: Peer, report: ExchangeReport) -> int:
    """Send this peer every revocation and receipt due for it; returns how many items went.

    Each is counted as an attempt before it goes, so an item the peer never acknowledges is
    due again only after its backoff, and this loop ends."""
    local = client.local
    handed = 0
    while waiting := await in_worker(local, _hand_out_due, peer):
        handed += len(waiting.items())
        if waiting.revocations:
            answer = await _call(
                client,
                peer,
                endpoints.REVOCATIONS,
                {"revocations": [e for _, e in waiting.revocations]},
                report,
            )
            # The holder's receipts acknowledge the revocations (take_receipts).
            report.receipts_received += await in_worker(
                local, accept_receipts, answer["receipts"], peer
            )
            report.revocations_sent += len(waiting.revocations)
        if waiting.receipts:
            answer = await _call(
                client,
                peer,
                endpoints.RECEIPTS,
                {"receipts": [e for _, e in waiting.receipts]},
                report,
            )
            await in_worker(local, _acknowledged, peer, answer["ack"])
            report.receipts_sent += len(waiting.receipts)
    return handed


async def pull_outbox(client: PeerClient, peer: Peer, report: ExchangeReport) -> None:
    """Take what waits for us at this peer: purge, send our receipts straight back, and ack
    the receipts we stored. Until the peer has those, it keeps the items and sends them
    again: nothing is lost if this fails half-way."""
    local = client.local
    answer = await _call(client, peer, endpoints.OUTBOX, {}, report)
    try:
        receipts, (kept, processed) = await in_worker(local, _take_handed, peer, answer)
    except sqlite3.Error as error:
        raise NotStoredHere(
            f"what {peer.name} handed us could not be stored ({error}); it will come again"
        ) from error
    report.revocations_received += len(answer["revocations"])
    report.receipts_received += kept
    await send_receipts(client, peer, receipts, report)
    if processed:
        ack = issue_ack(local.identity, peer.node_id, processed, local.now())
        await _call(client, peer, endpoints.ACK, {"ack": ack.envelope}, report)


# What touches the archive runs in a worker thread on its own connection (workers.py):
# purges scrub pages and indexes, and every write waits for SQLite's one write lock.


def _hand_out_due(local: LocalNode, peer: Peer) -> Outgoing:
    waiting = outgoing_for(local.db, peer.node_id, now=local.now())
    if waiting:
        hand_out(local.db, peer.node_id, waiting.items(), local.now())
    return waiting


def _acknowledged(local: LocalNode, peer: Peer, ack: bytes) -> int:
    return acknowledge_signed(local.db, ack, peer.node_id, local.node_id)


def _take_handed(
    local: LocalNode, peer: Peer, answer: dict[str, Any]
) -> tuple[list[bytes], tuple[int, list[str]]]:
    return _purge(local, peer, answer["revocations"]), take_receipts(
        local, answer["receipts"], peer
    )


def _purge_covering(local: LocalNode, peer: Peer, raws: list[bytes]) -> list[bytes]:
    return _purge(local, peer, covering_revocations(local.db, raws))


def _purge(local: LocalNode, peer: Peer, revocations: list[bytes]) -> list[bytes]:
    receipts = []
    for raw in revocations:
        try:
            receipts.append(accept_revocation(local, raw, peer).envelope)
        except InvalidRevocation:
            continue  # the peer got a strike; the rest still count
    return receipts


async def send_receipts(
    client: PeerClient, peer: Peer, receipts: list[bytes], report: ExchangeReport
) -> None:
    """Our receipts for revocations this peer sent us: they acknowledge them there."""
    if receipts:
        await _call(client, peer, endpoints.RECEIPTS, {"receipts": receipts}, report)
        report.receipts_sent += len(receipts)


async def ask_about_tombstones(
    client: PeerClient, peer: Peer, ids: list[bytes], report: ExchangeReport
) -> int:
    """We hold these ids and the peer lacks them (reconciliation) but we did not push them:
    ask whether it knows them withdrawn, and purge those in this exchange. Returns how many
    revocations we took."""
    taken = 0
    for start in range(0, len(ids), wire.MAX_IDS_PER_MESSAGE):
        chunk = ids[start : start + wire.MAX_IDS_PER_MESSAGE]
        answer = await _call(client, peer, endpoints.TOMBSTONES, {"ids": chunk}, report)
        receipts = await in_worker(client.local, _purge_covering, peer, answer["revocations"])
        taken += len(receipts)
        report.revocations_received += len(receipts)
        await send_receipts(client, peer, receipts, report)
    return taken


async def exchange_revocations(client: PeerClient, peer: Peer) -> ExchangeReport:
    report = ExchangeReport()
    await push_outbox(client, peer, report)
    await pull_outbox(client, peer, report)
    await push_outbox(client, peer, report)  # receipts relayed upstream while we pulled
    return report


async def _call(
    client: PeerClient,
    peer: Peer,
    endpoint: endpoints.Endpoint,
    values: dict[str, Any],
    report: ExchangeReport,
) -> dict[str, Any]:
    report.messages += 1
    return await client.call(endpoint, values, recipient=peer.node_id, base_url=peer.url)
