"""The "this node is gone" notice: a wiped node tells its peers, signed with its node key.

Before ``rhizome wipe --tell-peers`` destroys its keys, the node sends each active peer a
notice (``POST /federation/v1/gone``), an envelope signed in the context
``rhizome/gone/v1`` naming the node, the peer it is for and the time. The peer believes it
only if all hold:

* the request is signed by an active peer (the routes check this, as for every route);
* the notice is signed by that same node's current key (its key history, for a node that
  rotated its key), names that node and names *us*;
* it is fresh (``MAX_NOTICE_AGE``): an old one proves nothing about now.

So no node can declare another one gone: a notice about node B sent by node C fails the
first check (C's request, B's name) and cannot be made without B's key. The peer then moves
the sender to ``gone`` in the peer table (``federation.peer_state``: ``depart``), logs
``peer.gone`` in its event log, and sends it nothing more: every loop and route serves
active peers only. A node restored from a backup afterwards comes back by pairing again.

Building and opening the notice is sans-IO; :func:`tell_peers_gone` does the HTTP, best
effort under one deadline: a wipe never waits for an unreachable peer.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from archive.db import transaction
from archive.event_log import append_event
from archive.key_store import current_key
from crypto.canonical import DecodeLimits, pack, unpack
from crypto.envelope import open_envelope, seal
from crypto.errors import CryptoError
from crypto.signing import SigningIdentity
from federation import endpoints, wire
from federation.client import PeerClient
from federation.errors import FederationError, PeerProtocolError
from federation.local import LocalNode
from federation.peer_state import DEPART, next_state
from federation.peers import Peer, get_peer

GONE_CONTEXT = b"rhizome/gone/v1"
MAX_NOTICE_AGE = 600  # seconds, either way (clocks drift)
TELL_DEADLINE = 5.0  # seconds for telling every peer, all at once
_LIMITS = DecodeLimits(
    max_bytes=wire.MAX_GONE_NOTICE_BYTES, max_str_len=200, max_bin_len=wire.MAX_GONE_NOTICE_BYTES,
    max_array_len=4, max_map_len=4,
)  # fmt: skip
log = logging.getLogger("rhizome.federation")


class InvalidGoneNotice(PeerProtocolError):
    """A "gone" notice that is not signed by the node sending it, names another node or
    another recipient, or is stale: nothing changes, the peer stays as it was."""

    code = "invalid_gone_notice"


@dataclass(frozen=True)
class GoneNotice:
    node_id: str
    recipient: str
    issued_at: int


def issue_gone_notice(identity: SigningIdentity, node_id: str, recipient: str, now: int) -> bytes:
    """Our signed notice for ``recipient``: node ``node_id`` (ours, signed by its current
    key ``identity``) is gone."""
    payload = pack({"node": node_id, "to": recipient, "at": now})
    return seal(identity, GONE_CONTEXT, payload).raw


def open_gone_notice(
    raw: bytes, sender: str, sender_key: bytes, recipient: str, now: int
) -> GoneNotice:
    """The notice, if ``sender`` signed it (with ``sender_key``, its current key), about
    itself, for ``recipient``, lately."""
    try:
        envelope = open_envelope(raw, GONE_CONTEXT, _LIMITS)
        fields = unpack(envelope.payload, _LIMITS)
    except CryptoError as error:
        raise InvalidGoneNotice(f"the gone notice does not verify: {error}") from error
    if envelope.signer != sender_key:
        raise InvalidGoneNotice("the gone notice is not signed by the node sending it")
    if not isinstance(fields, dict) or set(fields) != {"node", "to", "at"}:
        raise InvalidGoneNotice("the gone notice must hold exactly: node, to, at")
    node, to, at = fields["node"], fields["to"], fields["at"]
    if node != sender:
        raise InvalidGoneNotice("the gone notice names another node than its signer")
    if to != recipient:
        raise InvalidGoneNotice("the gone notice is meant for another node")
    if not isinstance(at, int) or abs(now - at) > MAX_NOTICE_AGE:
        raise InvalidGoneNotice("the gone notice is stale or from the future")
    return GoneNotice(node, to, at)


def take_gone_notice(local: LocalNode, peer: Peer, body: bytes) -> bytes:
    """A peer says it is gone: check its notice, mark it gone, log it."""
    raw = wire.decode(endpoints.GONE.request, body)["notice"]
    db, now = local.db, local.now()
    notice = open_gone_notice(raw, peer.node_id, current_key(db, peer.node_id), local.node_id, now)
    with transaction(db):
        known = get_peer(db, peer.node_id)
        assert known is not None  # the route found it active
        status = next_state(known.status, DEPART)
        db.execute("UPDATE peers SET status = ? WHERE node_id = ?", [status, peer.node_id])
        detail = {"notice_at": notice.issued_at}
        append_event(db, local.identity, "peer.gone", peer.node_id, detail, now)
    log.warning("peer %s says it is gone (wiped); nothing more is sent to it", peer.name,
                extra={"peer": peer.node_id})  # fmt: skip
    return wire.encode(endpoints.GONE.answer, {"noted": 1})


@dataclass(frozen=True)
class Told:
    peer: Peer
    error: str | None  # None: the peer confirmed it


async def _tell(client: PeerClient, peer: Peer) -> Told:
    local = client.local
    notice = issue_gone_notice(local.identity, local.node_id, peer.node_id, local.now())
    try:
        await client.call(
            endpoints.GONE, {"notice": notice}, recipient=peer.node_id, base_url=peer.url
        )
    except FederationError as error:
        return Told(peer, str(error))
    return Told(peer, None)


async def tell_peers_gone(
    client: PeerClient, peers: list[Peer], deadline: float = TELL_DEADLINE
) -> list[Told]:
    """Tell every active peer we are gone, all at once, within ``deadline`` seconds; what
    each answered (a peer that did not answer in time is reported, never waited for)."""
    active = [peer for peer in peers if peer.status == "active"]
    tasks = [asyncio.ensure_future(_tell(client, peer)) for peer in active]
    if not tasks:
        return []
    done, pending = await asyncio.wait(tasks, timeout=deadline)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    return [
        task.result() if task in done else Told(peer, "no answer in time")
        for task, peer in zip(tasks, active, strict=True)
    ]
