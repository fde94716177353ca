"""Peer actions: suspend, resume or remove a peer, with its event in the log.

Where a peer may go from where it stands is :mod:`federation.peer_state`'s table; here is
who may ask (``peer.manage``) and the log entry that goes with every change.
"""

from __future__ import annotations

from dataclasses import dataclass

from archive.db import transaction
from archive.event_log import append_event
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
