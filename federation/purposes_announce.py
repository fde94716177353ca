"""A node's purposes declaration travels to its peers (federation/purposes.py says what it is).

At pairing both messages carry it (:func:`declaration_for_pairing`, :func:`take_paired`).
After ``rhizome purposes set`` it goes to each peer at the start of the next sync with it
(``POST /federation/v1/purposes``), once per declaration: the peer's answer is noted in
``peers.purposes_told_at``, so a peer that was offline is told when it is back, and a
restart tells no one twice. The request is signed by the node key like every federation
request, and the declaration inside it is signed too: a receiver checks both name the same
node (the signed bytes are kept as evidence, and no relay can pass one off for another).
A peer too old to know the route answers 404: we tell it again next sync.
"""

from __future__ import annotations

import logging

from archive.key_store import current_key
from federation import endpoints, wire
from federation.client import PeerClient
from federation.errors import FederationError
from federation.local import LocalNode
from federation.peers import Peer
from federation.purposes import (
    declaration_to_send,
    issue_declaration,
    open_declaration,
    own_declaration,
    take_declaration,
)
from federation.workers import in_worker

log = logging.getLogger("rhizome.federation")


def take_purposes(local: LocalNode, peer: Peer, body: bytes) -> bytes:
    """The answer to ``peer``'s signed declaration (a worker thread: a verification and a
    small write). A forged one raises before anything is stored."""
    raw = wire.decode(endpoints.PURPOSES.request, body)["declaration"]
    db = local.db
    declaration = open_declaration(raw, peer.node_id, current_key(db, peer.node_id))
    with db.conn:
        updated = take_declaration(db, local.identity, declaration, raw, local.now())
    if updated:
        said = ", ".join(declaration.purposes) or "none"
        log.info("peer %s declared its purposes: %s", peer.name, said, extra={"peer": peer.node_id})
    return wire.encode(endpoints.PURPOSES.answer, {"updated": int(updated)})


def declaration_for_pairing(local: LocalNode) -> bytes | None:
    """What a pairing message of ours carries (None: we never declared)."""
    return declaration_to_send(local.db, local.identity, local.node_id)


def take_paired(local: LocalNode, node_id: str, raw: bytes | None, signer_key: bytes) -> None:
    """Store the declaration a pairing message carried (inside the caller's transaction):
    it must be signed by the key that speaks for the node in the pairing (``signer_key``:
    the joiner's request signer, or the inviter's key the invite code pins)."""
    if raw is None:
        return  # a node that never declared, or one older than declarations
    declaration = open_declaration(raw, node_id, signer_key)
    take_declaration(local.db, local.identity, declaration, raw, local.now())


def check_paired(raw: bytes | None, node_id: str, signer_key: bytes) -> None:
    """Refuse a pairing whose declaration does not verify, before anything is stored."""
    if raw is not None:
        open_declaration(raw, node_id, signer_key)


def _to_tell(local: LocalNode, peer: Peer) -> tuple[bytes, int] | None:
    declared = own_declaration(local.db, local.node_id)
    if declared is None:
        return None
    row = local.db.execute(
        "SELECT purposes_told_at FROM peers WHERE node_id = ?", [peer.node_id]
    ).fetchone()
    if row is not None and row[0] is not None and int(row[0]) >= declared.at:
        return None
    return issue_declaration(local.identity, declared), declared.at


def _told(local: LocalNode, peer: Peer, at: int) -> None:
    with local.db.conn:
        local.db.execute(
            "UPDATE peers SET purposes_told_at = ? WHERE node_id = ?", [at, peer.node_id]
        )


async def tell_purposes(client: PeerClient, peer: Peer) -> bool:
    """Tell ``peer`` our declaration if it has not confirmed this one; whether it was told
    now. A peer that fails to answer (or is too old for the route) is told next sync."""
    local = client.local
    pending = await in_worker(local, _to_tell, peer)
    if pending is None:
        return False
    raw, at = pending
    try:
        await client.call(
            endpoints.PURPOSES, {"declaration": raw}, recipient=peer.node_id, base_url=peer.url
        )
    except FederationError as error:
        log.info("could not tell %s our purposes: %s", peer.name, error)
        return False
    await in_worker(local, _told, peer, at)
    return True
