"""What this hub uses lessons for, declared by the hub itself; and, for peers older than
declarations, what their operators told ours.

``rhizome purposes set training research`` (and the Settings page) come here: the node
stores its own declaration, signed with its node key when it leaves; each peer gets it at
pairing and, after a change, at the start of the next sync with it (federation/purposes.py).
A lesson whose consent names purposes goes only to peers whose declared purposes are all
among them (governance.decisions), so a peer's purposes are its own word, signed, not a note
of ours. ``rhizome peer purposes`` stays for peers that never declared (older nodes): a peer
that declared keeps its declaration.
"""

from __future__ import annotations

from dataclasses import dataclass

from federation.peers import Peer, resolve_peer, set_peer_purposes
from federation.purposes import Declaration, declare_own_purposes, own_declaration
from governance.members import Member
from governance.roles import require
from node.node import Node


@dataclass(frozen=True)
class DeclareOwnPurposes:
    by: Member
    purposes: tuple[str, ...]  # none: this hub declares no purpose


def declare_purposes(node: Node, request: DeclareOwnPurposes) -> Declaration:
    """Store this hub's new declaration (admins and stewards, who manage peers); every
    peer is told at the start of the next sync with it."""
    require(request.by.name, request.by.roles, "peer.manage")
    return declare_own_purposes(
        node.db, node.identity, node.node_id, request.purposes, node.now()
    )


def declared_purposes(node: Node) -> Declaration | None:
    """This hub's declaration (None: it never declared)."""
    return own_declaration(node.db, node.node_id)


@dataclass(frozen=True)
class RecordPeerPurposes:
    """Record what a peer older than declarations uses lessons for, as its operator said."""

    by: Member
    peer: str  # a name or node id
    purposes: tuple[str, ...]


def record_peer_purposes(node: Node, request: RecordPeerPurposes) -> Peer:
    """Refused for a peer that declared its purposes itself (``purposes_declared``)."""
    require(request.by.name, request.by.roles, "peer.manage")
    peer = resolve_peer(node.db, request.peer)
    return set_peer_purposes(node.db, peer.node_id, list(request.purposes))
