"""Node key rotation between real nodes: online and offline peers, a stale peer catching up,
records signed before and after a rotation, a retired key refused."""

from __future__ import annotations

from archive.key_store import current_key
from crypto.http_signatures import sign_request
from crypto.signing import SigningIdentity
from federation import endpoints, wire
from tests.integration.conftest import Cluster
from tests.integration.key_helpers import (
    give_genesis,
    history_at,
    restart,
    rotated,
    statements_at,
)


async def test_an_online_peer_learns_a_rotation_and_records_flow_on(cluster: Cluster) -> None:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    await cluster.pair(a, b)
    give_genesis(a)
    before = a.add("Signed by the first key")
    await cluster.sync(b, a)
    assert b.has(before)

    a, change = await rotated(cluster, a)
    after = a.add("Signed by the second key")
    report = await cluster.sync(a, b)  # A calls: B learns the rotation first
    assert report.errors == []
    assert b.has(before) and b.has(after)
    assert current_key(b.node.db, a.node_id) == change.statement.key
    assert history_at(b, a).current_key == change.statement.key
    # The node id stays the first key's; records keep their origin and signatures.
    assert a.node_id == b.peer(a).node_id  # type: ignore[union-attr]
    assert b.row(after)["origin"] == a.node_id
    # B calls A back: TLS is pinned to A's new key now, and it is what A presents.
    assert (await cluster.sync(b, a)).errors == []
    assert b.peer(a).status == "active"  # type: ignore[union-attr]


async def test_a_stale_peer_that_knows_only_the_old_key_catches_up(cluster: Cluster) -> None:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    await cluster.pair(a, b)
    give_genesis(a)
    await cluster.stop(b)  # B is offline while A rotates twice
    a, first = await rotated(cluster, a)
    a, second = await rotated(cluster, a)
    lesson = a.add("After two rotations")
    b = await restart(cluster, b)
    assert statements_at(b, a) == 0  # B knows only A's first key

    # B calls first: A presents a key B cannot tie to A, so B sends nothing (not even its
    # own key history) and says someone may be in the middle.
    refused = await cluster.sync(b, a)
    assert refused.errors and "not its node key" in refused.errors[0]
    assert statements_at(b, a) == 0 and not b.has(lesson)

    report = await cluster.sync(a, b)  # A's next sync (or its `key rotate`) teaches B
    assert report.errors == []
    assert (await cluster.sync(b, a)).errors == []  # and B's own calls go through again
    assert b.has(lesson)
    assert statements_at(b, a) == 3
    assert history_at(b, a).current_key == second.statement.key
    assert first.statement.key != second.statement.key


async def test_a_retired_key_signs_nothing_any_more(cluster: Cluster) -> None:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    await cluster.pair(a, b)
    give_genesis(a)
    old = SigningIdentity.from_seed(a.node.identity.seed)  # as a thief who copied it
    a, _ = await rotated(cluster, a)
    assert (await cluster.sync(a, b)).errors == []
    body = wire.encode(endpoints.NOTIFY.request, {})
    url = b.url + endpoints.NOTIFY.path
    headers = sign_request(old, "POST", url, body, created=int(b.node.clock()),
                           recipient=b.node_id)  # fmt: skip
    headers["Content-Type"] = "application/msgpack"
    async with cluster.session.post(url, data=body, headers=headers) as answer:
        assert answer.status == 401
        assert "retired by a key rotation" in (await answer.json())["error"]["message"]
    assert await cluster.healthy(b)
    assert (await cluster.sync(b, a)).errors == []
