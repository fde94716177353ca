"""Key histories between peers (issue 15): both ways in one call, at the start of every sync.

The caller sends every statement it holds about itself; the answer holds every statement the
other node holds about itself. Each side verifies the whole history from the node's first key
(:mod:`crypto.key_history`), so it does not matter who carried it: a peer that was offline
during a rotation catches up whichever side calls first.

A node that rotated signs its requests with a key its peers do not know yet, so this one
endpoint reads the statements before it judges the signer: the HTTP signature is checked with
the key its ``keyid`` names, then that key must be a key of an active (or forked) peer's chain
*after* the statements are taken in. The client side stays pinned like every call: nothing,
not even our public key history, goes to a TLS key we cannot tie to the peer. So a node that
was offline while a peer rotated cannot reach that peer (the pin fails, nothing is sent) until
the peer calls it: the rotated node's next sync, or ``rhizome key rotate``'s own round of
calls, hands it the new history.

What follows from a history is decided here, once: a new fork moves the peer to ``forked``
(federation/peer_state.py) and keeps both statements as evidence; a recovery that settles
the fork moves it back; a recovery that names a compromised key puts what that key signed
after the given moment in quarantine.
"""

from __future__ import annotations

from contextlib import suppress

import sqlite_utils

from archive.db import transaction
from archive.event_log import append_event
from archive.key_store import (
    KeyUpdate,
    fork_of,
    node_for_current_key,
    node_for_key,
    quarantine_suspect_records,
    save_key_history,
    settle_fork,
    statements_of,
)
from crypto.key_history import KeyHistory, verify_history
from crypto.key_statements import GENESIS, InvalidKeyStatement, open_statement
from crypto.node_id import node_id_from_public_key, public_key_from_node_id
from crypto.signature_rejected import SignatureRejected
from federation import endpoints, wire
from federation.client import PeerClient
from federation.errors import FederationError, NotAPeer
from federation.local import LocalNode
from federation.peer_state import FORK, FORKED, RESUME, PeerStateError
from federation.peers import Peer, change_peer_status, get_peer
from federation.workers import in_worker

# Who may call the key-history endpoint: a forked peer too, so its recovery can settle it.
_MAY_EXCHANGE = ("active", FORKED)


def own_history(local: LocalNode) -> list[bytes]:
    """Every statement of this node's key history (none for a node that never rotated and
    was made before key histories)."""
    return statements_of(local.db, local.node_id)


def node_named_by(raws: list[bytes]) -> str | None:
    """The node a list of statements is about: its genesis statement's first key."""
    for raw in raws:
        statement = open_statement(raw)
        if statement.kind == GENESIS:
            return node_id_from_public_key(statement.node)
    return None if not raws else node_id_from_public_key(open_statement(raws[0]).node)


def history_at_pairing(node_id: str, key: bytes, raws: list[bytes], now: int) -> KeyHistory | None:
    """Check the key history a node shows when it pairs (sans-IO): it leads from ``node_id``
    (the first key) to ``key``, the key the node signs and presents TLS with now. None when
    it shows none: then ``key`` must be its first key. Raises :class:`InvalidKeyStatement`."""
    if not raws:
        if key != public_key_from_node_id(node_id):
            raise InvalidKeyStatement(
                "this node signs with a key that is not its node id's and shows no key history "
                "that leads to it"
            )
        return None
    if node_named_by(raws) != node_id:
        raise InvalidKeyStatement("the key history shown at pairing is another node's")
    history = verify_history(public_key_from_node_id(node_id), raws, now=now)
    if history.fork is not None:
        raise InvalidKeyStatement(
            "the key history shown at pairing forks (two statements follow one): its key may "
            "have been stolen; ask its operator, over another channel, before pairing"
        )
    if history.current_key != key:
        raise InvalidKeyStatement(
            "the key history shown at pairing does not lead to the key the node uses now"
        )
    return history


def keep_paired_history(local: LocalNode, node_id: str, history: KeyHistory | None) -> None:
    """Store a history checked by :func:`history_at_pairing` (in the caller's transaction,
    the one that adds the peer): TLS pins and signed requests follow its current key."""
    if history is not None:
        save_key_history(local.db, node_id, [s.raw for s in history.statements], local.now())


def take_key_history(local: LocalNode, node_id: str, raws: list[bytes]) -> KeyUpdate:
    """Store what was shown to us of ``node_id``'s history, and act on it. Raises
    :class:`InvalidKeyStatement` (nothing stored) for a forged or unlinked statement."""
    db, now = local.db, local.now()
    with transaction(db):
        had_fork = fork_of(db, node_id) is not None
        update = save_key_history(db, node_id, raws, now)
        if not update.added:
            return update
        detail: dict[str, object] = {
            "added": update.added,
            "current_key": node_id_from_public_key(update.history.current_key),
        }
        if update.new_fork:
            _move(db, node_id, FORK)
            detail["fork"] = [s.id_hex for s in update.history.fork or ()]
        elif had_fork and update.history.fork is None:
            settle_fork(db, node_id)  # a recovery settled it: the evidence stays stored
            _move(db, node_id, RESUME)
            detail["fork_settled"] = True
        if caught := quarantine_suspect_records(db, node_id):
            detail["quarantined"] = caught
        append_event(db, local.identity, "peer.key_history", node_id, detail, now)
    return update


def take_own_history(local: LocalNode, raws: list[bytes]) -> KeyUpdate:
    """What a peer holds of *our* history: our own later rotations (a home restored from an
    old backup), or a thief's (then our history forks, and only a recovery settles it)."""
    db, now = local.db, local.now()
    with transaction(db):
        update = save_key_history(db, local.node_id, raws, now)
        if update.added:
            detail = {"added": update.added, "fork": update.new_fork}
            append_event(db, local.identity, "key.learned", local.node_id, detail, now)
    return update


def _move(db: sqlite_utils.Database, node_id: str, event: str) -> None:
    peer = get_peer(db, node_id)
    if peer is None:
        return
    with suppress(PeerStateError):  # a removed or gone peer stays where the operator put it
        change_peer_status(db, node_id, event)


def speaker_of(db: sqlite_utils.Database, key_id: str) -> str:
    """The node a signed request comes from: the node whose *current* key signed it. A key
    its node retired by a rotation signs nothing any more (whoever stole it must not)."""
    node_id = node_for_current_key(db, key_id)
    if node_id is None:
        raise SignatureRejected(
            "unknown_key",
            "this key was retired by a key rotation: sign with the node's current key "
            "(a node that rotated exchanges its key history first)",
        )
    return node_id


def answer_key_history(local: LocalNode, signer_key_id: str, body: bytes) -> bytes:
    """The serving side: take the caller's statements, answer with ours and with what we
    hold of the caller's. Any key of the caller's chain may ask (a node restored from an
    old backup signs with a retired key until it learns its own later rotations here), but
    not a key a recovery named compromised."""
    raws = list(wire.decode(endpoints.KEY_HISTORY.request, body)["statements"])
    db = local.db
    node_id = node_named_by(raws)
    if node_id is not None and get_peer(db, node_id) is not None:
        # Kept whoever carried it (every statement verifies from the node's first key), and
        # kept even when the caller is refused below: a fork is evidence either way.
        take_key_history(local, node_id, raws)
        known = get_peer(db, node_id)
        if known is not None and known.status == FORKED:
            raise KeyHistoryForked(
                "this node holds two statements of your key history that follow one: it "
                "exchanges nothing with you until its operator decides"
            )
    with transaction(db):
        caller = node_for_key(db, public_key_from_node_id(signer_key_id))
        peer = get_peer(db, caller)
        if peer is None or peer.status == "removed":
            raise NotAPeer("this node does not know you as a peer; pair first")
        if peer.status not in _MAY_EXCHANGE:  # the same words as every other route
            raise NotAPeer(f"this node has {peer.status} you as a peer")
        answer = {"statements": own_history(local), "yours": statements_of(db, caller)}
    return wire.encode(endpoints.KEY_HISTORY.answer, answer)


async def exchange_key_history(client: PeerClient, peer: Peer) -> KeyUpdate | None:
    """Hand our key history to ``peer`` and take its own (the first step of every sync).
    Raises :class:`InvalidKeyStatement` for a forged one, :class:`KeyHistoryForked` when
    the peer's history forks."""
    # Reading our history, and verifying and storing the answer's, is database and crypto
    # work: a worker thread's, on a connection of its own (federation/workers.py).
    ours = await in_worker(client.local, own_history)
    answer = await client.call(
        endpoints.KEY_HISTORY, {"statements": ours}, recipient=peer.node_id, base_url=peer.url
    )
    raws, yours = list(answer["statements"]), list(answer["yours"])
    update = await in_worker(client.local, _take_answer, peer, raws, yours)
    if update is not None and update.history.fork is not None:
        raise KeyHistoryForked(
            f"{peer.name}'s key history forked (two statements follow one): nothing more is "
            "exchanged with it until you decide; `rhizome key history "
            f"{peer.node_id.split('-', 1)[0]}` shows both"
        )
    return update


def _take_answer(
    local: LocalNode, peer: Peer, raws: list[bytes], yours: list[bytes]
) -> KeyUpdate | None:
    """Take in the peer's answer: our own history as it holds it, then its own (worker
    thread)."""
    if yours:  # verified like any other history: a forged one is refused whole
        take_own_history(local, yours)
    if not raws:
        return None
    if node_named_by(raws) != peer.node_id:
        raise InvalidKeyStatement(f"{peer.name} answered with another node's key history")
    return take_key_history(local, peer.node_id, raws)


class KeyHistoryForked(FederationError):
    """A peer's key history holds two statements that follow one statement: its key was
    stolen, or its operator restored an old backup and rotated again. Both are kept as signed
    evidence. Call its operator (not by a channel the thief could hold), compare the node id
    and current key, then ``rhizome peer resume`` or ``rhizome peer remove``."""

    http_status = 409
    code = "key_history_forked"


__all__ = [
    "InvalidKeyStatement",
    "answer_key_history",
    "exchange_key_history",
    "history_at_pairing",
    "keep_paired_history",
    "node_named_by",
    "own_history",
    "speaker_of",
    "take_key_history",
]
