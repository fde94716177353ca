"""A peer (or a stranger) tries to turn the signed echo into an open proxy or a door-knocker.

The attacker asks the node (B) for echoes: naming a URL of its choice in the request,
asking again and again, or asking without being a peer at all. What must hold: B only ever
knocks on the one URL it stored for an active peer (here a listener that counts every
connection), at most once a minute for that peer; a URL in the request is refused before any
connection; a stranger is refused before anything; a stored address inside B's own network
(the peer can announce one, federation/address.py) is not tried by a B on a public address;
and B keeps serving.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from federation import endpoints, wire
from federation.echo import ask_echo
from federation.endpoints import Endpoint
from federation.errors import PeerRefused
from federation.routes import GATE
from tests.integration.conftest import LOOPBACK, Cluster, RunningNode

# The request the attacker would like B to accept: "echo this URL for me".
WITH_URL = Endpoint(
    endpoints.ECHO.name, {**wire.ECHO_REQUEST, "url": wire.Field(str, 500)}, wire.ECHO_ANSWER
)


class Listener:
    """A port on loopback that counts the connections made to it and answers each with a
    bare ``503`` (so the client has no reason to try the connection again)."""

    def __init__(self) -> None:
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> Listener:
        self.server = await asyncio.start_server(self._count, LOOPBACK, 0)
        return self

    async def _count(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://{LOOPBACK}:{self.server.sockets[0].getsockname()[1]}"


@pytest.fixture
async def listener() -> AsyncIterator[Listener]:
    opened = await Listener().start()
    yield opened
    assert opened.server is not None
    opened.server.close()
    await opened.server.wait_closed()


async def nodes(cluster: Cluster, listener: Listener) -> tuple[RunningNode, RunningNode]:
    """A (the attacker) paired with B; B stored A's URL as the counting listener."""
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B", "West Africa")
    await cluster.pair(a, b)
    b.node.db.execute("UPDATE peers SET url = ? WHERE node_id = ?", [listener.url, a.node_id])
    b.node.db.conn.commit()
    return a, b


async def test_a_url_in_the_request_is_refused_before_any_connection(
    cluster: Cluster, listener: Listener
) -> None:
    a, b = await nodes(cluster, listener)
    elsewhere = await Listener().start()
    peer = a.peer(b)
    assert peer is not None
    try:
        with pytest.raises(PeerRefused) as refused:
            await cluster.client(a).call(
                WITH_URL, {"nonce": bytes(16), "url": elsewhere.url},
                recipient=b.node_id, base_url=peer.url,
            )  # fmt: skip
        assert (refused.value.status, refused.value.code) == (400, "bad_message")
        assert (elsewhere.connections, listener.connections) == (0, 0)
    finally:
        assert elsewhere.server is not None
        elsewhere.server.close()
        await elsewhere.server.wait_closed()
    assert await cluster.healthy(b)


async def test_asking_again_and_again_knocks_once(cluster: Cluster, listener: Listener) -> None:
    a, b = await nodes(cluster, listener)
    peer = a.peer(b)
    assert peer is not None

    first = await ask_echo(cluster.client(a), peer)
    assert first.url == listener.url and not first.reached and "HTTP 503" in first.detail
    refusals = []
    for _ in range(5):
        with pytest.raises(PeerRefused) as refused:
            await ask_echo(cluster.client(a), peer)  # a fresh client: no local back-off
        refusals.append(refused.value.status)

    assert refusals == [429] * 5
    assert listener.connections == 1
    assert await cluster.healthy(b)


async def test_a_stranger_makes_no_one_knock(cluster: Cluster, listener: Listener) -> None:
    a, b = await nodes(cluster, listener)
    stranger = await cluster.start("Hub X", "Nowhere")
    peer = a.peer(b)
    assert peer is not None

    with pytest.raises(PeerRefused) as refused:
        await ask_echo(cluster.client(stranger), peer)

    assert (refused.value.status, refused.value.code) == (403, "not_a_peer")
    assert listener.connections == 0
    assert await cluster.healthy(b)


async def test_an_address_inside_the_hubs_own_network_is_not_tried(
    cluster: Cluster, listener: Listener
) -> None:
    """B serves on a public address (as a real hub does); A's stored address is B's own
    loopback (here the counting listener): B must not knock there, only say why."""
    a, b = await nodes(cluster, listener)
    b.app[GATE].responder.local.url = "https://hub-b.example.org"
    peer = a.peer(b)
    assert peer is not None

    statement = await ask_echo(cluster.client(a), peer)

    assert statement.url == listener.url and not statement.reached
    assert "inside the answering hub's own network" in statement.detail
    assert listener.connections == 0
    assert await cluster.healthy(b)
