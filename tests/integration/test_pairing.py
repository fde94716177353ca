"""Pairing two real nodes with an invite code, and every way a code is refused.

A refused code leaves both nodes as they were: no peer, no used invite, no event.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace

import pytest
from aiohttp import web

from crypto.errors import RhizomeError
from crypto.signing import SigningIdentity
from federation import wire
from federation.errors import InvalidInvite
from federation.invites import decode_invite, encode_invite, sign_acceptance
from federation.tls_pin import PeerNotPinned
from tests.conftest import FakeClock
from tests.integration.conftest import Cluster, RunningNode, bound_socket

StartImpostor = Callable[[SigningIdentity, str], Awaitable[str]]


async def refused(cluster: Cluster, joiner: RunningNode, code: str, *needles: str) -> str:
    """Join with ``code``; it must fail with one clear line naming each needle."""
    with pytest.raises(RhizomeError) as caught:
        await cluster.join(joiner, code)
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"
    return message


def snapshot(*nodes: RunningNode) -> list[dict[str, int]]:
    return [running.counts() for running in nodes]


async def test_pairing_makes_both_nodes_list_each_other_as_active(cluster: Cluster) -> None:
    a = await cluster.start("Hub A", "East Africa")
    b = await cluster.start("Hub B", "West Africa")

    returned = await cluster.pair(a, b)

    seen_by_b, seen_by_a = b.peer(a), a.peer(b)
    assert seen_by_b == returned
    assert seen_by_b is not None and seen_by_a is not None
    assert (seen_by_b.name, seen_by_b.region, seen_by_b.url) == ("Hub A", "East Africa", a.url)
    assert (seen_by_a.name, seen_by_a.region, seen_by_a.url) == ("Hub B", "West Africa", b.url)
    assert seen_by_b.status == seen_by_a.status == "active"
    assert seen_by_b.strikes == seen_by_a.strikes == 0
    for node, other in ((a, b), (b, a)):
        assert node.count("events", "kind = 'peer.added' AND subject = ?", [other.node_id]) == 1
    assert a.count("invites", "used_by = ?", [b.node_id]) == 1


async def test_a_used_code_is_refused(cluster: Cluster) -> None:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    c = await cluster.start("Hub C")
    code = cluster.invite(a)
    await cluster.join(b, code)
    before = snapshot(a, b, c)

    await refused(cluster, c, code, "already used")
    await refused(cluster, b, code, "already used")

    assert snapshot(a, b, c) == before
    assert a.peer(c) is None and c.peer(a) is None


async def test_an_expired_code_is_refused_before_it_is_sent(cluster: Cluster) -> None:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    code = cluster.invite(a, ttl=-1)
    before = snapshot(a, b)

    await refused(cluster, b, code, "expired", "ask for a new one")

    assert snapshot(a, b) == before


async def test_a_code_that_expired_at_the_inviter_is_refused_there(cluster: Cluster) -> None:
    """The joiner's clock still thinks the code is good; the inviter's clock decides."""
    inviter_clock = FakeClock(time.time())
    a = await cluster.start("Hub A", clock=inviter_clock)
    b = await cluster.start("Hub B")
    code = cluster.invite(a, ttl=60)
    inviter_clock.advance(61)  # well inside the signature's clock-skew window
    before = snapshot(a, b)

    await refused(cluster, b, code, "expired")

    assert snapshot(a, b) == before
    assert a.count("invites", "used_at IS NULL") == 1


async def test_a_code_with_a_changed_secret_is_refused(cluster: Cluster) -> None:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    genuine = decode_invite(cluster.invite(a))
    forged = encode_invite(replace(genuine, secret=os.urandom(len(genuine.secret))))
    before = snapshot(a, b)

    await refused(cluster, b, forged, "unknown invite code")

    assert snapshot(a, b) == before
    assert a.count("invites", "used_at IS NULL") == 1


@pytest.mark.parametrize(
    ("tls", "needle"),
    [
        # Over TLS the pin refuses A's certificate before a byte is sent.
        (True, "the other hub's certificate is not its node key"),
        # Over plain HTTP (loopback) the signed pairing answer gives A away.
        (False, "not the one the invite names"),
    ],
    ids=["https", "plain http"],
)
async def test_a_code_with_a_changed_node_id_is_refused(
    cluster: Cluster, tls: bool, needle: str
) -> None:
    """Another well-formed node id (its check characters are right) with A's URL and secret."""
    a = await cluster.start("Hub A", tls=tls)
    b = await cluster.start("Hub B", tls=tls)
    c = await cluster.start("Hub C", tls=tls)
    genuine = decode_invite(cluster.invite(a))
    forged = encode_invite(replace(genuine, node_id=c.node_id))
    before = snapshot(a, b, c)

    # From the joiner's side this is a code whose URL reaches another node than it names.
    await refused(cluster, b, forged, needle)

    assert snapshot(a, b, c) == before
    assert a.count("invites", "used_at IS NULL") == 1


async def test_a_damaged_code_is_refused_as_mistyped(cluster: Cluster) -> None:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    code = cluster.invite(a)
    before = snapshot(a, b)

    with pytest.raises(InvalidInvite, match="damaged or mistyped"):
        await cluster.join(b, code[:-6])
    with pytest.raises(InvalidInvite, match="starts with 'rhz1-'"):
        await cluster.join(b, code[5:])

    assert snapshot(a, b) == before


async def test_our_own_code_is_refused(cluster: Cluster) -> None:
    a = await cluster.start("Hub A")
    before = snapshot(a)

    with pytest.raises(InvalidInvite, match="our own invite code"):
        await cluster.join(a, cluster.invite(a))

    assert snapshot(a) == before


@pytest.mark.parametrize(
    ("tls", "refusal", "needle"),
    [
        (True, PeerNotPinned, "the other hub's certificate is not its node key"),
        (False, InvalidInvite, "not the one the invite names"),
    ],
    ids=["https", "plain http"],
)
async def test_a_code_whose_url_points_at_another_node_is_refused(
    cluster: Cluster, tls: bool, refusal: type[Exception], needle: str
) -> None:
    """A's id and secret, but C's address: the joiner must learn it reached the wrong node
    (over TLS the pin stops it before the secret is sent to C)."""
    a = await cluster.start("Hub A", tls=tls)
    b = await cluster.start("Hub B", tls=tls)
    c = await cluster.start("Hub C", tls=tls)
    genuine = decode_invite(cluster.invite(a))
    misdirected = encode_invite(replace(genuine, url=c.url))
    before = snapshot(a, b, c)

    with pytest.raises(refusal, match=needle):
        await cluster.join(b, misdirected)

    assert snapshot(a, b, c) == before


@pytest.fixture
async def impostor() -> AsyncIterator[StartImpostor]:
    """A hand-built server that answers pairing requests as ``identity``, claiming to be
    ``claimed_id``: what a node in the middle would do with a code whose URL it controls."""
    runners: list[web.AppRunner] = []

    async def start(identity: SigningIdentity, claimed_id: str) -> str:
        async def pair(request: web.Request) -> web.Response:
            asked = wire.decode(wire.PAIR_REQUEST, await request.read())
            answer = {
                "node_id": claimed_id,
                "name": "Hub A",
                "region": "East Africa",
                "url": str(request.url.origin()),
                "signature": sign_acceptance(identity, asked["node_id"], asked["proof"]),
                "statements": [],
            }
            return web.Response(
                body=wire.encode(wire.PAIR_RESPONSE, answer), content_type="application/msgpack"
            )

        app = web.Application()
        app.router.add_post("/federation/v1/pair", pair)
        runner = web.AppRunner(app)
        await runner.setup()
        sock = bound_socket()
        await web.SockSite(runner, sock).start()
        runners.append(runner)
        return f"http://127.0.0.1:{sock.getsockname()[1]}"

    try:
        yield start
    finally:
        for runner in runners:
            await runner.cleanup()


@pytest.mark.parametrize("claims", ["the invite's node", "its own id"])
async def test_an_impostor_at_the_codes_url_is_refused(
    cluster: Cluster, impostor: StartImpostor, claims: str
) -> None:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    stranger = SigningIdentity.generate()
    claimed = a.node_id if claims == "the invite's node" else stranger.node_id
    url = await impostor(stranger, claimed)
    genuine = decode_invite(cluster.invite(a))
    before = snapshot(a, b)

    with pytest.raises(InvalidInvite, match="not the one the invite names; do not pair"):
        await cluster.join(b, encode_invite(replace(genuine, url=url)))

    assert snapshot(a, b) == before
    assert b.count("peers") == 0
