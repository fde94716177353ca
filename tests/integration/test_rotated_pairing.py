"""Pairing with a hub that changed its key (issue 15): the invite names the inviter's current
key, and each side shows its key history in the handshake, so a hub that rotated (twice, or
recovered) pairs with a brand-new hub either way round, and a history that does not lead to
the key in use is refused with nothing stored."""

from __future__ import annotations

import pytest

from archive.key_store import current_key, statements_of
from crypto.http_signatures import sign_request
from crypto.signing import SigningIdentity
from federation import endpoints, wire
from federation.invites import decode_invite, pairing_proof
from federation.pairing import INVITE_HEADER
from federation.tls_pin import PeerNotPinned, keys_for_peer
from tests.integration.conftest import Cluster, RunningNode
from tests.integration.key_helpers import (
    give_genesis,
    history_at,
    recovered,
    rotated,
    statements_at,
)


async def both_ways_flow(cluster: Cluster, one: RunningNode, other: RunningNode) -> None:
    """Records go both ways after pairing, each side calling the other (TLS pinned)."""
    first, second = one.add("From one"), other.add("From the other")
    assert (await cluster.sync(one, other)).errors == []
    assert (await cluster.sync(other, one)).errors == []
    assert one.has(second) and other.has(first)


async def test_a_hub_that_rotated_twice_invites_a_brand_new_hub(cluster: Cluster) -> None:
    a = await cluster.start("Hub A")
    give_genesis(a)
    a, _ = await rotated(cluster, a)
    a, second = await rotated(cluster, a)
    code = cluster.invite(a)
    assert decode_invite(code).key == second.statement.key  # the invite names the key in use
    c = await cluster.start("Hub C")

    await cluster.join(c, code)

    assert c.peer(a) is not None and c.peer(a).status == "active"  # type: ignore[union-attr]
    assert statements_at(c, a) == 3  # genesis and two rotations, verified from A's id
    assert history_at(c, a).current_key == second.statement.key
    assert keys_for_peer(a.node_id, c.node.db) == {second.statement.key}  # the TLS pin
    assert a.peer(c) is not None
    await both_ways_flow(cluster, a, c)


async def test_a_recovered_hub_joins_a_brand_new_hub(cluster: Cluster) -> None:
    a = await cluster.start("Hub A")
    give_genesis(a)
    a, _ = await rotated(cluster, a)
    a, recovery = await recovered(cluster, a, since=None)
    b = await cluster.start("Hub B")

    await cluster.pair(b, a)  # B invites, the recovered A joins

    assert b.peer(a) is not None and b.peer(a).status == "active"  # type: ignore[union-attr]
    assert statements_at(b, a) == 3
    assert current_key(b.node.db, a.node_id) == recovery.statement.key
    assert keys_for_peer(a.node_id, b.node.db) == {recovery.statement.key}
    await both_ways_flow(cluster, a, b)


async def test_a_code_made_before_the_inviter_rotated_is_refused_clearly(
    cluster: Cluster,
) -> None:
    a = await cluster.start("Hub A")
    give_genesis(a)
    code = cluster.invite(a)  # names A's first key, which A no longer presents after this
    a, _ = await rotated(cluster, a)
    c = await cluster.start("Hub C")
    before = c.counts()

    with pytest.raises(PeerNotPinned, match="changed its key after it made this code"):
        await cluster.join(c, code)

    assert c.counts() == before and statements_at(c, a) == 0
    assert a.count("invites", "used_at IS NOT NULL") == 0  # nothing was sent
    await cluster.join(c, cluster.invite(a))  # a fresh code pairs
    assert history_at(c, a).current_key == current_key(a.node.db, a.node_id)


@pytest.mark.parametrize("shown", ["another node's history", "no history"])
async def test_a_joiner_whose_history_does_not_lead_to_its_key_is_refused(
    cluster: Cluster, shown: str
) -> None:
    """A joiner signs with a key its history does not lead to (a thief with a retired key
    and someone else's history, or a key with no history at all that claims another id)."""
    a = await cluster.start("Hub A")
    other = await cluster.start("Hub O")
    give_genesis(other)
    other, _ = await rotated(cluster, other)
    code = decode_invite(cluster.invite(a))
    signer = SigningIdentity.generate()
    claimed = other.node_id  # claims to be O, signs with a key that is not O's current one
    statements = statements_of(other.node.db, other.node_id) if shown != "no history" else []
    body = wire.encode(endpoints.PAIR.request, {
        "invite": code.invite_id, "proof": pairing_proof(code.secret, a.node_id, claimed),
        "node_id": claimed, "name": "Hub O", "region": "", "url": "http://127.0.0.1:9",
        "statements": statements,
    })  # fmt: skip
    url = a.url + endpoints.PAIR.path
    headers = sign_request(signer, "POST", url, body, created=int(a.node.clock()),
                           recipient=a.node_id)  # fmt: skip
    headers |= {"Content-Type": "application/msgpack", INVITE_HEADER: code.invite_id.hex()}
    before = a.counts()

    async with cluster.session.post(url, data=body, headers=headers) as answer:
        assert answer.status == 400
        message = (await answer.json())["error"]["message"]
    expected = "signed by another node" if shown == "no history" else "does not lead to the key"
    assert expected in message
    assert a.counts() == before and statements_at(a, other) == 0  # invite still unused
    assert await cluster.healthy(a)
    await cluster.pair(a, await cluster.start("Hub C"))  # the same node pairs others on
