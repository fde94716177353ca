"""A peer lies in its echo answer: "I reached you" when it did not, or did not ask at all.

The peer (B) runs hostile code behind its real, pinned address: its echo answer is forged
(signed by another key), unsigned, signed in another context, about another node, or a
genuine statement replayed from an earlier question. What must hold: the asker (A) believes
none of them (``InvalidEcho``), ``rhizome doctor``'s check says the answer is not believed
(a failure, never "yes"), and the genuine echo still works.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from crypto.canonical import pack
from crypto.envelope import seal
from crypto.signing import SigningIdentity
from federation import endpoints, wire
from federation.echo import (
    ECHO_CONTEXT,
    ECHO_VERSION,
    EchoService,
    EchoStatement,
    InvalidEcho,
    ask_echo,
    sign_statement,
)
from federation.local import LocalNode
from federation.peers import Peer
from federation.revocation import RECEIPT_CONTEXT
from federation.routes import GATE
from node.doctor import FAIL, echo_findings
from tests.integration.conftest import Cluster, RunningNode

Forge = Callable[[LocalNode, Peer, bytes], bytes]


class HostileEcho(EchoService):
    """B's echo, rewritten by its operator: never tries anything, answers ``forge``'s bytes."""

    def __init__(self, forge: Forge) -> None:
        super().__init__()
        self.forge = forge

    async def answer(self, local: LocalNode, peer: Peer, body: bytes) -> bytes:
        nonce = wire.decode(endpoints.ECHO.request, body)["nonce"]
        return wire.encode(endpoints.ECHO.answer, {"statement": self.forge(local, peer, nonce)})


def claim(local: LocalNode, peer: Peer, nonce: bytes, asker: str = "") -> list[object]:
    """The payload of "I reached you", as version 1 of the statement."""
    return [
        ECHO_VERSION, local.node_id, asker or peer.node_id, peer.url, True, "reached", 0, nonce
    ]


def by_another_key(local: LocalNode, peer: Peer, nonce: bytes) -> bytes:
    sidekick = SigningIdentity.generate()
    return seal(sidekick, ECHO_CONTEXT, pack(claim(local, peer, nonce))).raw


def unsigned(local: LocalNode, peer: Peer, nonce: bytes) -> bytes:
    return pack(claim(local, peer, nonce))


def in_another_context(local: LocalNode, peer: Peer, nonce: bytes) -> bytes:
    return seal(local.identity, RECEIPT_CONTEXT, pack(claim(local, peer, nonce))).raw


def about_another_node(local: LocalNode, peer: Peer, nonce: bytes) -> bytes:
    other = SigningIdentity.generate().node_id
    statement = EchoStatement(local.node_id, other, peer.url, True, "reached", 0, nonce)
    return sign_statement(local, statement)


def replayed(local: LocalNode, peer: Peer, nonce: bytes) -> bytes:
    earlier = bytes(16) if nonce != bytes(16) else b"\x01" * 16
    statement = EchoStatement(local.node_id, peer.node_id, peer.url, True, "reached", 0, earlier)
    return sign_statement(local, statement)


@pytest.mark.parametrize(
    "forge", [by_another_key, unsigned, in_another_context, about_another_node, replayed]
)
async def test_a_forged_echo_is_not_believed(cluster: Cluster, forge: Forge) -> None:
    a, b = await paired(cluster)
    b.app[GATE].echo = HostileEcho(forge)
    peer = a.peer(b)
    assert peer is not None

    with pytest.raises(InvalidEcho):
        await ask_echo(cluster.client(a), peer)
    [finding] = await echo_findings(a.node.local_node(), [peer])

    assert finding.result == FAIL
    assert "answer is not believed" in finding.detail and ": yes" not in finding.detail
    b.app[GATE].echo = EchoService()  # the honest echo still works
    assert (await ask_echo(cluster.client(a), peer)).reached


async def paired(cluster: Cluster) -> tuple[RunningNode, RunningNode]:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B", "West Africa")
    await cluster.pair(a, b)
    return a, b
