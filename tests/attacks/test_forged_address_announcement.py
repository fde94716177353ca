"""Forged address announcement: a peer tries to move another node's address to itself.

The attacker is C, an active peer of B. B also pairs with A. C wants B to send what it meant
for A to C's own server, so C sends B an address announcement (``POST
/federation/v1/address``) naming C's URL as A's: once signed with C's key but A's key id,
once with a stale timestamp, once as a stranger that B never paired with. What must hold: B
refuses every one (a clear error, 401/403), A's stored address is unchanged, nothing else
moves, B keeps serving and still syncs with the real A; an honest announcement changes
only its own signer's address, and one that would downgrade to plain HTTP is not taken.
"""

from __future__ import annotations

import time
from typing import Any

from crypto.signing import SigningIdentity
from federation import endpoints, wire
from federation.client import PeerClient
from tests.integration.conftest import Cluster, RunningNode
from tests.integration.test_malicious_peer import Hostile

PATH = endpoints.ADDRESS.path


def url_of(holder: RunningNode, peer: RunningNode) -> str:
    found = holder.peer(peer)
    assert found is not None
    return found.url


def with_keyid(headers: dict[str, str], node_id: str) -> dict[str, str]:
    """The same signature, now claiming another signer."""
    signed_by = headers["Signature-Input"].split('keyid="')[1].split('"')[0]
    return {**headers, "Signature-Input": headers["Signature-Input"].replace(signed_by, node_id)}


async def three(cluster: Cluster) -> tuple[RunningNode, RunningNode, RunningNode]:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    c = await cluster.start("Hub C")
    await cluster.pair(b, a)
    await cluster.pair(b, c)
    return a, b, c


async def test_an_announcement_signed_by_another_key_moves_nothing(cluster: Cluster) -> None:
    a, b, c = await three(cluster)
    hostile = Hostile(cluster, b, c.node.identity)
    body = wire.encode(endpoints.ADDRESS.request, {"url": c.url})
    before = (b.counts(), url_of(b, a), url_of(b, c))

    forged = await hostile.send(PATH, body, with_keyid(hostile.headers(PATH, body), a.node_id))
    assert forged.status == 401
    assert "signature" in forged.error()["message"].lower()

    stale = await hostile.send(PATH, body, created=int(time.time()) - 3600)
    assert stale.status == 401

    stranger = Hostile(cluster, b, SigningIdentity.generate())
    unknown = await stranger.send(PATH, body)
    assert unknown.status == 403 and unknown.error()["code"] == "not_a_peer"

    assert (b.counts(), url_of(b, a), url_of(b, c)) == before
    record = a.add("Still for A only")
    report = await cluster.sync(b, a)
    assert report.errors == [] and b.has(record)


async def test_an_honest_announcement_moves_only_its_signer(cluster: Cluster) -> None:
    a, b, c = await three(cluster)
    old = url_of(b, a)
    moved = "https://127.0.0.1:1"
    answer = await Hostile(cluster, b, c.node.identity).send(
        PATH, wire.encode(endpoints.ADDRESS.request, {"url": moved})
    )
    assert answer.message() == {"updated": 1}
    assert url_of(b, c) == moved  # C may move itself
    assert url_of(b, a) == old  # and no one else


async def test_a_downgrade_or_junk_announcement_is_not_taken(cluster: Cluster) -> None:
    a, b, _ = await three(cluster)
    old = url_of(b, a)
    client = PeerClient(a.node.local_node(), cluster.session)
    for url in ("http://hub.example.org:8470", "ftp://hub.example.org", "not a url"):
        answer: dict[str, Any] = await client.call(
            endpoints.ADDRESS, {"url": url}, recipient=b.node_id, base_url=b.url
        )
        assert answer == {"updated": 0}, url
    assert url_of(b, a) == old
