"""Attack: strip TLS from the path (a downgrade to plain HTTP).

The attacker controls the path to a hub and answers in plain HTTP, hoping the client falls
back to it, while the attacker itself speaks TLS to the real hub and would pass everything
on, reading it in the clear (an "SSL strip").

What must hold: a peer's address is ``https://`` and the client speaks nothing but TLS to
it: it never falls back to plain HTTP. The attacker receives a TLS hello and not one byte
of a request; the error says the secure connection failed; the real peer gets no strike and
stays active; a joiner whose invite leads to the attacker pairs with no one. Once the path
is honest again, sync with the real peer works.
"""

from __future__ import annotations

import pytest

from federation.errors import PeerUnreachable
from federation.pairing import join_with_invite
from tests.integration.conftest import Cluster, RunningNode
from tests.wire.paths import pair_through, reachable_at, start_tls
from tests.wire.relay import TLS_HANDSHAKE, OpenRelay, Relay, attacker_client_context

SECURE_CONNECTION_FAILED = "the secure connection failed"


def route_through(running: RunningNode, peer: RunningNode, url: str) -> None:
    """``running`` reaches ``peer`` at ``url`` from now on (the path the attacker took)."""
    with running.node.db.conn:
        running.node.db.execute("UPDATE peers SET url = ? WHERE node_id = ?", [url, peer.node_id])


async def stripper(relays: OpenRelay, target: RunningNode) -> Relay:
    """Plain HTTP towards the client at the peer's https:// address, TLS to the real node."""
    return await relays(target.port, scheme="https", upstream_tls=attacker_client_context())


async def refused_and_nothing_sent(error: str, attacker: Relay) -> None:
    assert SECURE_CONNECTION_FAILED in error, error
    await attacker.settled()
    assert attacker.connections >= 1
    assert attacker.plaintext[:1] == bytes([TLS_HANDSHAKE])  # only a TLS hello came
    assert attacker.plaintext_requests == []  # no HTTP request, so nothing passed on
    assert b"POST" not in attacker.plaintext and b"federation" not in attacker.plaintext


async def test_a_sync_through_a_plain_http_path_is_refused_and_sends_nothing(
    cluster: Cluster, relays: OpenRelay
) -> None:
    a = await start_tls(cluster, "Hub A")
    b = await start_tls(cluster, "Hub B")
    to_a = await relays(a.port, scheme="https")
    to_b = await relays(b.port, scheme="https")
    await pair_through(cluster, a, b, to_a, to_b)
    record = a.add("Where we meet", "Ask at the gate.\n")
    attacker = await stripper(relays, a)
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


async def test_pairing_through_a_plain_http_path_pairs_with_no_one(
    cluster: Cluster, relays: OpenRelay
) -> None:
    a = await start_tls(cluster, "Hub A")
    b = await start_tls(cluster, "Hub B")
    attacker = await stripper(relays, a)
    reachable_at(b, await relays(b.port, scheme="https"))

    with pytest.raises(PeerUnreachable) as refused:
        await join_with_invite(cluster.client(b), cluster.invite(a, url=attacker.url))

    await refused_and_nothing_sent(str(refused.value), attacker)
    assert a.peer(b) is None and b.peer(a) is None
    assert a.count("invites", "used_at IS NOT NULL") == 0
