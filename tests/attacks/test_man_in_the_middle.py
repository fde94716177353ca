"""Attack: stand in the middle with a certificate of one's own.

The attacker controls the path to a hub (a hijacked route, a poisoned DNS answer, the
café's router): the address a peer dials leads to the attacker's machine, which answers TLS
with a certificate it made itself, exactly as a node makes its own (self-signed, Ed25519),
and opens its own TLS connection to the real hub to pass everything on and read it.

What must hold: the client refuses right after the handshake, because the key in the
certificate is not the node key of the peer it meant to reach. Nothing is sent: the
attacker reads not one byte of a request. The error says what happened in words an operator
can act on; the real peer gets no strike (it did nothing) and stays active. A joiner whose
invite leads to the attacker pairs with no one. Once the path is honest again, sync with the
real peer works.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from federation.errors import PeerUnreachable
from federation.pairing import join_with_invite
from federation.tls_pin import NOT_PINNED_WORDS
from tests.integration.conftest import Cluster, RunningNode
from tests.wire.paths import pair_through, reachable_at, start_tls
from tests.wire.relay import OpenRelay, Relay, attacker_client_context, own_certificate_context


def route_through(running: RunningNode, peer: RunningNode, url: str) -> None:
    """``running`` reaches ``peer`` at ``url`` from now on (the path the attacker took)."""
    with running.node.db.conn:
        running.node.db.execute("UPDATE peers SET url = ? WHERE node_id = ?", [url, peer.node_id])


async def middle(relays: OpenRelay, target: RunningNode, folder: Path) -> Relay:
    return await relays(
        target.port,
        scheme="https",
        client_tls=own_certificate_context(folder),
        upstream_tls=attacker_client_context(),
    )


async def refused_and_nothing_sent(error: str, attacker: Relay) -> None:
    assert NOT_PINNED_WORDS in error, error
    await attacker.settled()
    assert attacker.handshakes >= 1, attacker.errors  # the handshake happened...
    assert attacker.plaintext == b"" and attacker.plaintext_requests == []  # ...nothing more


async def test_a_sync_through_the_middle_is_refused_and_sends_nothing(
    cluster: Cluster, relays: OpenRelay, tmp_path: Path
) -> None:
    a = await start_tls(cluster, "Hub A")
    b = await start_tls(cluster, "Hub B")
    to_a = await relays(a.port, scheme="https")
    to_b = await relays(b.port, scheme="https")
    await pair_through(cluster, a, b, to_a, to_b)
    record = a.add("Where we meet", "Ask at the gate.\n")
    attacker = await middle(relays, a, tmp_path)
    route_through(b, a, attacker.url)
    before = (a.counts(), b.counts())

    report = await cluster.sync(b, a)

    assert len(report.errors) == 1
    await refused_and_nothing_sent(report.errors[0], attacker)
    assert (a.counts(), b.counts()) == before  # no strike, no event, nothing stored
    assert b.count("strikes") == 0 and b.peer(a).status == "active"  # type: ignore[union-attr]
    assert not b.has(record)

    route_through(b, a, to_a.url)  # the honest path again
    assert (await cluster.sync(b, a)).errors == []
    assert b.has(record)


async def test_pairing_through_the_middle_pairs_with_no_one(
    cluster: Cluster, relays: OpenRelay, tmp_path: Path
) -> None:
    a = await start_tls(cluster, "Hub A")
    b = await start_tls(cluster, "Hub B")
    attacker = await middle(relays, a, tmp_path)
    reachable_at(b, await relays(b.port, scheme="https"))
    code = cluster.invite(a, url=attacker.url)

    with pytest.raises(PeerUnreachable) as refused:
        await join_with_invite(cluster.client(b), code)

    await refused_and_nothing_sent(str(refused.value), attacker)
    assert a.peer(b) is None and b.peer(a) is None
    assert a.count("invites", "used_at IS NOT NULL") == 0  # the code is still good

    to_a = await relays(a.port, scheme="https")
    await join_with_invite(cluster.client(b), cluster.invite(a, url=to_a.url))
    assert b.peer(a) is not None and a.peer(b) is not None
