"""Recovery with no backup at all: a node's identity and peers come back from its peers.

The operator of a hub that lost everything (a seized or wiped machine, no backup) still has
the **recovery code** (or K stewards' shares) and the hub's node id. Its peers hold the hub's
key history, whose statements name the recovery key. ``POST /federation/v1/recover`` is asked
twice per peer:

1. **ask**, with no statements, signed by the *recovery key*: the peer checks that the key
   is a recovery key of the node's history it holds, and answers with that history (so the
   recovery extends the chain the peers know) and what it knows of the node (name, region);
2. **recover**, with the node's statements ending in a recovery statement (signed by the
   recovery key, naming a new node key), the request signed by that *new key*: the peer
   takes the history by the rules of every key history (:mod:`crypto.key_history`: the
   recovery key may override a thief's rotations within the window), checks that the new
   key is now the node's current key *by a recovery*, logs it, and answers with what the
   recovered node needs to rebuild the pairing: its own node id, name, region, address and
   key history.

A stranger, or a thief with only the stolen node key, gets one refusal that says no more
than "not here" (whether this node peers with that node id is not told to whoever lacks its
recovery key). The records come back afterwards, through federation/own_records.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from archive.db import transaction
from archive.event_log import append_event
from archive.key_store import load_key_history, node_for_current_key, statements_of
from crypto.errors import InvalidNodeId
from crypto.key_history import verify_history
from crypto.key_statements import RECOVERY, InvalidKeyStatement, KeyStatement, open_statement
from crypto.node_id import normalize_node_id, public_key_from_node_id
from federation import endpoints, wire
from federation.client import PeerClient
from federation.errors import FederationError, PeerProtocolError
from federation.key_exchange import KeyHistoryForked, node_named_by, own_history, take_key_history
from federation.local import LocalNode
from federation.peer_state import FORKED
from federation.peers import Peer, get_peer

NOT_HERE = (
    "this node knows no peer by that node id whose recovery key signed this request: check "
    "the node id and the recovery code, and that this hub was paired with that node"
)


class RecoveryRefused(FederationError):
    """A peer refused a recovery: it does not know the node, the recovery code is not the
    node's, or its operator suspended the node. Check the node id and the code; call the
    peer's operator (they can ``rhizome peer resume`` a suspended node)."""

    http_status = 403
    code = "recovery_refused"


@dataclass(frozen=True)
class RecoveryAnswer:
    """What one peer answered: the node's history as it holds it, what it knows of the
    node, and (after the recovery) its own details and key history."""

    yours: list[bytes]
    your_name: str
    your_region: str
    node_id: str
    name: str
    region: str
    url: str
    statements: list[bytes]


def answer_recovery(local: LocalNode, signer_key_id: str, body: bytes) -> bytes:
    """The serving side of both steps (run in a worker thread, in one transaction)."""
    values = wire.decode(endpoints.RECOVER.request, body)
    try:
        node_id = normalize_node_id(values["node"])
    except InvalidNodeId as error:
        raise PeerProtocolError(f"recover: {error}") from error
    raws = list(values["statements"])
    peer = get_peer(local.db, node_id)
    if peer is None or peer.status == "removed" or node_id == local.node_id:
        raise RecoveryRefused(NOT_HERE)
    if not raws:
        return _answer_ask(local, peer, signer_key_id)
    return _answer_recover(local, peer, signer_key_id, raws)


def _answer_ask(local: LocalNode, peer: Peer, signer_key_id: str) -> bytes:
    history = load_key_history(local.db, peer.node_id, local.now())
    recovery_keys = {s.recovery for s in (*history.chain, *history.overridden)}
    if public_key_from_node_id(signer_key_id) not in recovery_keys:
        raise RecoveryRefused(NOT_HERE)  # also when we hold no key history of it
    return _encode(local, peer, with_ours=False)


def _answer_recover(local: LocalNode, peer: Peer, signer_key_id: str, raws: list[bytes]) -> bytes:
    if node_named_by(raws) != peer.node_id or not _names_signer(raws, signer_key_id):
        raise RecoveryRefused(NOT_HERE)  # before anything is stored: only a recovery may
    update = take_key_history(local, peer.node_id, raws)  # refuses a forged statement whole
    known = get_peer(local.db, peer.node_id)
    assert known is not None
    if known.status == FORKED:
        raise KeyHistoryForked(
            "this node saw a rotation of your key more than 72 hours before your recovery: "
            "it keeps both as a fork; call its operator, who decides (`rhizome peer resume`)"
        )
    head = update.history.head
    if head is None or not _recovered_by(local, peer.node_id, head, signer_key_id):
        raise RecoveryRefused(NOT_HERE)
    if known.status != "active":
        raise RecoveryRefused(
            f"this node has {known.status} you as a peer: call its operator, who can resume you"
        )
    with transaction(local.db):
        append_event(
            local.db, local.identity, "peer.recovered", peer.node_id,
            {"key": signer_key_id, "statement": head.id_hex}, local.now(),
        )  # fmt: skip
    return _encode(local, known, with_ours=True)


def _names_signer(raws: list[bytes], signer_key_id: str) -> bool:
    """A recovery statement among ``raws`` makes the request's signer the node key (a thief
    with only a stolen node key can send rotations, never a recovery)."""
    signer = public_key_from_node_id(signer_key_id)
    opened = [open_statement(raw) for raw in raws]
    return any(s.kind == RECOVERY and s.key == signer for s in opened)


def _recovered_by(local: LocalNode, node_id: str, head: KeyStatement, signer_key_id: str) -> bool:
    """The node's history ends in a recovery that made the request's signer its key."""
    return (
        head.kind == RECOVERY
        and head.key == public_key_from_node_id(signer_key_id)
        and node_for_current_key(local.db, signer_key_id) == node_id
    )


def _encode(local: LocalNode, peer: Peer, *, with_ours: bool) -> bytes:
    answer = {
        "yours": statements_of(local.db, peer.node_id),
        "your_name": peer.name,
        "your_region": peer.region,
        "node_id": local.node_id,
        "name": local.name if with_ours else "",
        "region": local.region if with_ours else "",
        "url": local.url if with_ours else "",
        "statements": own_history(local) if with_ours else [],
    }
    return wire.encode(endpoints.RECOVER.answer, answer)


async def ask_for_history(
    client: PeerClient, node_id: str, peer_id: str, url: str, key: bytes = b""
) -> RecoveryAnswer:
    """Step 1, signed by the recovery key (``client.local.identity``): the node's history
    as the peer ``peer_id`` at ``url`` holds it. ``key``: the key the peer presents in TLS
    when it is not its first key (a rotated peer's invite code names it)."""
    answer = await client.call(
        endpoints.RECOVER, {"node": node_id, "statements": []}, recipient=peer_id,
        base_url=url, tls_keys=frozenset({key}) if key else None,
    )  # fmt: skip
    return _checked(answer, peer_id)


async def announce_recovery(
    client: PeerClient, node_id: str, raws: list[bytes], peer_id: str, url: str,
    key: bytes = b"",
) -> RecoveryAnswer:  # fmt: skip
    """Step 2, signed by the new node key: the peer takes the recovery and answers with
    what we need to pair with it again (its history must lead to ``key``, if given)."""
    answer = await client.call(
        endpoints.RECOVER, {"node": node_id, "statements": raws}, recipient=peer_id,
        base_url=url, tls_keys=frozenset({key}) if key else None,
    )  # fmt: skip
    found = _checked(answer, peer_id)
    if key and key != public_key_from_node_id(peer_id):
        history = verify_history(
            public_key_from_node_id(peer_id), found.statements, now=client.local.now()
        )
        if history.current_key != key:
            raise InvalidKeyStatement("the hub's key history does not lead to the key it presents")
    return found


def _checked(answer: dict[str, object], peer_id: str) -> RecoveryAnswer:
    found = RecoveryAnswer(**answer)  # type: ignore[arg-type]  # wire.decode checked each field
    if found.node_id != peer_id:
        raise PeerProtocolError("the hub at that address answered with another node id")
    if found.statements and node_named_by(found.statements) != peer_id:
        raise InvalidKeyStatement("the hub answered with another node's key history")
    return found


__all__ = ["RecoveryAnswer", "RecoveryRefused", "announce_recovery", "answer_recovery",
           "ask_for_history"]  # fmt: skip
