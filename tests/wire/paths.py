"""Two real nodes that reach each other only through relays (the network path a test owns).

Pairing stores the relays' addresses as the peers' URLs: the invite names the inviter's
relay, and the joiner announces its own relay as its URL. From then on every pairing, sync
and revocation message between the two crosses a :class:`~tests.wire.relay.Relay`.
"""

from __future__ import annotations

import dataclasses
import time

from aiohttp import web

from federation.client import PeerClient
from federation.local import Clock
from federation.pairing import join_with_invite
from node.node import Node
from node.tls import server_context
from node.web.app import create_app
from tests.integration.conftest import Cluster, RunningNode, bound_socket
from tests.wire.relay import Relay


async def start_tls(cluster: Cluster, name: str, *, clock: Clock = time.time) -> RunningNode:
    """A node serving HTTPS with the certificate made from its node key, as ``rhizome
    serve`` does by default; the cluster stops it."""
    return await start_node(cluster, name, tls=True, clock=clock)


async def start_plain(cluster: Cluster, name: str, *, clock: Clock = time.time) -> RunningNode:
    """A node set up for a lab: ``[server] tls = false`` and ``[federation]
    allow_plain_http = true``, serving plain HTTP."""
    return await start_node(cluster, name, tls=False, clock=clock)


async def start_node(cluster: Cluster, name: str, *, tls: bool, clock: Clock) -> RunningNode:
    sock = bound_socket()
    port = int(sock.getsockname()[1])
    home = cluster.make_home(name=name, region="East Africa", port=port)
    if not tls:  # as an operator would edit config.toml
        config = home / "config.toml"
        text = config.read_text(encoding="utf-8")
        for key in ("tls = true", "allow_plain_http = false"):
            assert text.count(key) == 1, key
        text = text.replace("tls = true", "tls = false")
        text = text.replace("allow_plain_http = false", "allow_plain_http = true")
        config.write_text(text, encoding="utf-8")
    node = Node(home, clock=clock)
    assert node.config.tls is tls and node.config.allow_plain_http is not tls
    try:
        runner = web.AppRunner(create_app(node))
        await runner.setup()
        context = server_context(home, node.identity) if tls else None
        await web.SockSite(runner, sock, ssl_context=context).start()
    except BaseException:
        node.close()
        raise
    running = RunningNode(home, node, runner, port)
    cluster.nodes.append(running)
    return running


def client_via(cluster: Cluster, running: RunningNode, url: str) -> PeerClient:
    """A federation client for ``running`` that announces ``url`` as its address."""
    local = dataclasses.replace(running.node.local_node(), url=url)
    return PeerClient(local, cluster.session)


async def pair_through(
    cluster: Cluster, inviter: RunningNode, joiner: RunningNode, to_inviter: Relay, to_joiner: Relay
) -> None:
    """Pair ``joiner`` with ``inviter``; each stores the relay in front of the other."""
    code = cluster.invite(inviter, url=to_inviter.url)
    await join_with_invite(client_via(cluster, joiner, to_joiner.url), code)
    assert joiner.peer(inviter).url == to_inviter.url  # type: ignore[union-attr]
    assert inviter.peer(joiner).url == to_joiner.url  # type: ignore[union-attr]
