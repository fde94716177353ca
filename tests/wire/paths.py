"""Two real nodes that reach each other only through relays (the network path a test owns).

Each node gives its relay's address as its own (``[node] url``): the invite names the
inviter's relay, the joiner announces its own relay at pairing, and every sync's signed
address announcement repeats it, so pairing stores the relays' addresses as the peers' URLs
and they stay so. From then on every pairing, sync
and revocation message between the two crosses a :class:`~tests.wire.relay.Relay`.
"""

from __future__ import annotations

import dataclasses
import time

from aiohttp import web

from federation.local import Clock
from node.node import Node
from node.web.app import create_app
from tests.integration.conftest import Cluster, RunningNode, bound_socket
from tests.wire.relay import Relay


async def start_tls(cluster: Cluster, name: str, *, clock: Clock = time.time) -> RunningNode:
    """A node serving HTTPS with the certificate made from its node key, as ``rhizome
    serve`` does by default; the cluster stops it."""
    running = await cluster.start(name, clock=clock)
    assert running.node.config.tls and not running.node.config.allow_plain_http
    return running


async def start_plain(cluster: Cluster, name: str, *, clock: Clock = time.time) -> RunningNode:
    """A node set up for a lab, as an operator would edit config.toml: ``[server] tls =
    false`` and ``[federation] allow_plain_http = true``, serving plain HTTP."""
    sock = bound_socket()
    port = int(sock.getsockname()[1])
    home = cluster.make_home(name=name, region="East Africa", port=port)
    config = home / "config.toml"
    text = config.read_text(encoding="utf-8")
    for was, now in (
        ("tls = true", "tls = false"),
        ('url = "https:', 'url = "http:'),
        ("allow_plain_http = false", "allow_plain_http = true"),
    ):
        assert text.count(was) == 1, was
        text = text.replace(was, now)
    config.write_text(text, encoding="utf-8")
    node = Node(home, clock=clock)
    assert not node.config.tls and node.config.allow_plain_http
    try:
        runner = web.AppRunner(create_app(node))
        await runner.setup()
        await web.SockSite(runner, sock).start()
    except BaseException:
        node.close()
        raise
    running = RunningNode(home, node, runner, port, "http")
    cluster.nodes.append(running)
    return running


def reachable_at(running: RunningNode, relay: Relay) -> None:
    """``running`` gives ``relay``'s address as its own, as an operator whose node sits
    behind a router sets ``[node] url``: pairing and the signed address announcement at each
    sync carry it. (The node was opened before the relay existed, hence set here.)"""
    running.node.config = dataclasses.replace(running.node.config, url=relay.url)


async def pair_through(
    cluster: Cluster, inviter: RunningNode, joiner: RunningNode, to_inviter: Relay, to_joiner: Relay
) -> None:
    """Pair ``joiner`` with ``inviter``; each stores the relay in front of the other."""
    reachable_at(inviter, to_inviter)
    reachable_at(joiner, to_joiner)
    await cluster.join(joiner, cluster.invite(inviter, url=to_inviter.url))
    assert joiner.peer(inviter).url == to_inviter.url  # type: ignore[union-attr]
    assert inviter.peer(joiner).url == to_joiner.url  # type: ignore[union-attr]
