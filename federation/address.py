"""A node tells its peers its own address, signed with its node key.

Peers paired before TLS hold an ``http://`` address for us; a node that moved holds an old
one. Once per run, at the start of its first sync with each peer, a node sends its configured
URL (``POST /federation/v1/address``). The request is signed with the node key like every
federation request (RFC 9421, bound to the recipient, never replayable), so the receiver
changes the stored URL of *that* signer only: no one can move another node's address, and no
re-pairing is needed. An address that would be a downgrade (``http://`` to another machine,
unless the receiver allows plain HTTP for a lab) is not taken; the receiver answers
``updated: 0`` and keeps the one it has.
"""

from __future__ import annotations

import logging
import weakref

from federation import endpoints, wire
from federation.client import PeerClient
from federation.errors import FederationError
from federation.local import LocalNode
from federation.peers import Peer, is_peer_url
from federation.tls_pin import federation_url

log = logging.getLogger(__name__)

# The peers each client already told this run (a restart, which a new URL needs, tells again).
_told: weakref.WeakKeyDictionary[PeerClient, set[str]] = weakref.WeakKeyDictionary()


def take_address(local: LocalNode, peer: Peer, body: bytes) -> bytes:
    """The answer to ``peer``'s signed announcement of its own address (one small UPDATE,
    like the other routes' bookkeeping)."""
    url = wire.decode(endpoints.ADDRESS.request, body)["url"]
    updated = _acceptable(local, url) and url != peer.url
    if updated:
        with local.db.conn:
            local.db.execute("UPDATE peers SET url = ? WHERE node_id = ?", [url, peer.node_id])
        log.info("peer %s now at %s (signed by its node key)", peer.name, url)
    return wire.encode(endpoints.ADDRESS.answer, {"updated": int(updated)})


def _acceptable(local: LocalNode, url: str) -> bool:
    if not is_peer_url(url):
        return False
    # Never a downgrade: a plain http:// address we would not send to as it is.
    return federation_url(url, allow_plain_http=local.allow_plain_http) == url


async def tell_address(client: PeerClient, peer: Peer) -> None:
    """Tell ``peer`` our address once this run; a peer that does not know the message yet
    (an older node) or fails to answer only means we tell it again next time."""
    told = _told.setdefault(client, set())
    if peer.node_id in told:
        return
    try:
        await client.call(
            endpoints.ADDRESS, {"url": client.local.url}, recipient=peer.node_id, base_url=peer.url
        )
    except FederationError as error:
        log.info("could not tell %s our address: %s", peer.name, error)
        return
    told.add(peer.node_id)
