"""Learning a record's origin's key history from the peer that relayed it (issue 15).

A record made by a node after it rotated is signed by a key we may not know yet: the origin
may not be our peer, or we have not synced with it since. The peer that passed the record on
did nothing wrong (it verified the record with the history it holds), so such a record earns
it no strike: the receiver *holds* it (not stored, not struck, see federation/receiving.py),
asks the relay for the origin's key history (``POST /federation/v1/key-histories``), takes it
like any history (verified from the origin's first key, whoever carried it:
:func:`federation.key_exchange.take_key_history`), and tries the record again. Only a record
that is still not signed by its origin once we know the history counts against the sender.
"""

from __future__ import annotations

from collections.abc import Iterable

from archive.key_store import statements_of
from crypto.key_statements import InvalidKeyStatement, open_statement
from crypto.node_id import node_id_from_public_key
from federation import endpoints, wire
from federation.client import PeerClient
from federation.errors import PeerProtocolError
from federation.key_exchange import take_key_history
from federation.local import LocalNode
from federation.peers import Peer
from federation.workers import in_worker


def answer_key_histories(local: LocalNode, body: bytes) -> bytes:
    """The serving side: every statement we hold about each node asked for (our own too)."""
    asked = wire.decode(endpoints.KEY_HISTORIES.request, body)["nodes"]
    statements: list[bytes] = []
    for key in dict.fromkeys(asked):  # a node asked twice is answered once
        statements += statements_of(local.db, node_id_from_public_key(key))
    return wire.encode(endpoints.KEY_HISTORIES.answer, {"statements": statements})


async def learn_origins_from(client: PeerClient, peer: Peer, origins: Iterable[bytes]) -> int:
    """Ask ``peer`` for the key histories of ``origins`` (first keys) and take them; the
    number of statements that were new here. Raises :class:`InvalidKeyStatement` when the
    peer answers with a forged history (nothing of it is stored)."""
    local, learnt = client.local, 0
    wanted = sorted(set(origins) - {local.identity.node_key})
    for start in range(0, len(wanted), wire.MAX_HISTORIES_ASKED):
        asked = wanted[start : start + wire.MAX_HISTORIES_ASKED]
        answer = await client.call(
            endpoints.KEY_HISTORIES, {"nodes": asked}, recipient=peer.node_id, base_url=peer.url
        )
        learnt += await in_worker(local, _take_histories, asked, list(answer["statements"]))
    return learnt


def _take_histories(local: LocalNode, asked: list[bytes], raws: list[bytes]) -> int:
    """Group the answer by node (each statement names its node) and take each history."""
    by_node: dict[bytes, list[bytes]] = {}
    for raw in raws:
        node = open_statement(raw).node
        if node not in asked:
            raise PeerProtocolError("the peer answered with a key history we did not ask for")
        by_node.setdefault(node, []).append(raw)
    learnt = 0
    for node, statements in by_node.items():
        try:
            learnt += take_key_history(local, node_id_from_public_key(node), statements).added
        except InvalidKeyStatement as error:
            raise InvalidKeyStatement(
                f"the key history of {node_id_from_public_key(node)} a peer sent us does not "
                f"verify: {error}"
            ) from error
    return learnt
