"""Peer actions: invite another hub, pair with one, suspend, resume or remove a peer.

Where a peer may go from where it stands is :mod:`federation.peer_state`'s table; here is
who may ask (``peer.manage``) and the log entry that goes with every change. Pairing is the
one action that is a coroutine: it is a network exchange, made with whichever federation
client the front end has (:func:`node.peer_sync.with_peer_client`). Sync now is
:mod:`node.peer_sync`.
"""

from __future__ import annotations

from dataclasses import dataclass

from archive.db import transaction
from archive.event_log import append_event
from federation.client import PeerClient
from federation.invites import DEFAULT_TTL, create_invite, encode_invite
from federation.pairing import join_with_invite
from federation.peers import Peer, change_peer_status, get_peer, resolve_peer
from governance.members import Member
from governance.roles import require
from node.node import Node


@dataclass(frozen=True)
class ChangePeerStatus:
    by: Member
    peer: str  # node id (any spelling) or name; a removed peer is found too, to say so
    event: str  # suspend | resume | remove (federation.peer_state.EVENTS)


def set_peer_status(node: Node, request: ChangePeerStatus) -> Peer:
    """Move the peer as the transition table allows; the peer as it stands now."""
    require(request.by.name, request.by.roles, "peer.manage")
    found = resolve_peer(node.db, request.peer, include_removed=True)
    with transaction(node.db):
        status = change_peer_status(node.db, found.node_id, request.event)
        append_event(node.db, node.identity, f"peer.{status}", found.node_id, {}, node.now())
    changed = get_peer(node.db, found.node_id)
    assert changed is not None  # peers are never deleted
    return changed


@dataclass(frozen=True)
class InvitePeer:
    by: Member
    ttl: int = DEFAULT_TTL  # seconds the code stays valid


@dataclass(frozen=True)
class Invitation:
    code: str  # what the other hub's operator types in: a secret, never logged
    node_id: str
    url: str
    expires: int


def invite_peer(node: Node, request: InvitePeer) -> Invitation:
    """A one-time invite code for another hub."""
    require(request.by.name, request.by.roles, "peer.manage")
    code = create_invite(node.db, node.node_id, node.config.url, node.now(), request.ttl)
    return Invitation(encode_invite(code), node.node_id, code.url, code.expires)


@dataclass(frozen=True)
class PairWithInvite:
    by: Member
    code: str  # the invite code the other hub gave


async def pair_with_invite(client: PeerClient, request: PairWithInvite) -> Peer:
    """Pair with the hub that gave the code (it must be running); the new peer."""
    require(request.by.name, request.by.roles, "peer.manage")
    return await join_with_invite(client, request.code)
