"""The client side of revocation: hand a peer what waits for it, take what waits for us.

Runs first in every sync ("before any other item") and on its own from the background
pusher, so a revocation reaches a peer that was offline as soon as it is back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from federation import wire
from federation.client import PeerClient
from federation.peers import Peer
from federation.propagation import (
    accept_receipts,
    accept_revocation,
    delivered,
    outgoing_for,
)
from federation.revocation import InvalidRevocation

REVOCATIONS_PATH = "/federation/v1/revocations"
RECEIPTS_PATH = "/federation/v1/receipts"
OUTBOX_PATH = "/federation/v1/outbox"


@dataclass
class ExchangeReport:
    revocations_sent: int = 0
    receipts_sent: int = 0
    revocations_received: int = 0
    receipts_received: int = 0
    messages: int = 0


async def push_outbox(client: PeerClient, peer: Peer, report: ExchangeReport) -> None:
    """Send this peer every revocation and receipt queued for it."""
    local = client.local
    while waiting := outgoing_for(local.db, peer.node_id):
        if waiting.revocations:
            answer = await _call(
                client,
                peer,
                REVOCATIONS_PATH,
                wire.REVOCATIONS,
                {"revocations": [e for _, e in waiting.revocations]},
                wire.RECEIPTS,
                report,
            )
            report.receipts_received += accept_receipts(local, answer["receipts"], peer)
            delivered(local.db, peer.node_id, "revocation", [i for i, _ in waiting.revocations])
            report.revocations_sent += len(waiting.revocations)
        if waiting.receipts:
            await _call(
                client,
                peer,
                RECEIPTS_PATH,
                wire.RECEIPTS,
                {"receipts": [e for _, e in waiting.receipts]},
                wire.ACCEPTED,
                report,
            )
            delivered(local.db, peer.node_id, "receipt", [i for i, _ in waiting.receipts])
            report.receipts_sent += len(waiting.receipts)


async def pull_outbox(client: PeerClient, peer: Peer, report: ExchangeReport) -> None:
    """Take what waits for us at this peer: purge, and send our receipts straight back."""
    local = client.local
    answer = await _call(client, peer, OUTBOX_PATH, wire.NOTIFY, {}, wire.OUTBOX, report)
    receipts = []
    for raw in answer["revocations"]:
        try:
            receipts.append(accept_revocation(local, raw, peer).envelope)
        except InvalidRevocation:
            continue  # the peer got a strike; the rest still count
    report.revocations_received += len(answer["revocations"])
    report.receipts_received += accept_receipts(local, answer["receipts"], peer)
    if receipts:
        await _call(
            client,
            peer,
            RECEIPTS_PATH,
            wire.RECEIPTS,
            {"receipts": receipts},
            wire.ACCEPTED,
            report,
        )
        report.receipts_sent += len(receipts)


async def exchange_revocations(client: PeerClient, peer: Peer) -> ExchangeReport:
    report = ExchangeReport()
    await push_outbox(client, peer, report)
    await pull_outbox(client, peer, report)
    await push_outbox(client, peer, report)  # receipts relayed upstream while we pulled
    return report


async def _call(
    client: PeerClient,
    peer: Peer,
    path: str,
    request: wire.Schema,
    values: dict[str, Any],
    answer: wire.Schema,
    report: ExchangeReport,
) -> dict[str, Any]:
    report.messages += 1
    return await client.call(peer.node_id, peer.url, path, request, values, answer)
