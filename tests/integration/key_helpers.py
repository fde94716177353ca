"""Helpers for key-rotation tests: restart a node on its home (after its key changed), rotate
or recover as the CLI does, and give a node a genesis with a recovery key the test knows."""

from __future__ import annotations

import socket
import time

from aiohttp import web

from archive.key_store import load_key_history, statements_of
from crypto.key_history import KeyHistory
from crypto.signing import SigningIdentity
from federation.local import Clock
from node.keys import KeyChange, recover_node_key, rotate_node_key, start_key_history
from node.node import Node
from node.tls import server_context
from node.web.app import create_app
from tests.integration.conftest import LOOPBACK, Cluster, RunningNode

RECOVERY = SigningIdentity.from_seed(bytes(range(96, 128)))


def give_genesis(running: RunningNode, recovery: SigningIdentity = RECOVERY) -> None:
    """As ``rhizome init`` does: the first statement, naming a recovery key we hold."""
    node = running.node
    first = SigningIdentity.from_seed(node.identity.seed)
    start_key_history(node.db, first, recovery.public_key, node.now())


async def restart(cluster: Cluster, running: RunningNode, clock: Clock = time.time) -> RunningNode:
    """Stop ``running`` and serve its home again on the same port, as an operator restarts
    ``rhizome serve``: it presents whatever key the home holds now."""
    await cluster.stop(running)
    node = Node(running.home, clock=clock)
    app = create_app(node, background_sync=False)
    runner = web.AppRunner(app)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, running.port))
    context = server_context(running.home, node.identity)
    await web.SockSite(runner, sock, ssl_context=context).start()
    again = RunningNode(running.home, node, runner, running.port, running.scheme)
    cluster.nodes.append(again)
    return again


async def rotated(
    cluster: Cluster, running: RunningNode, clock: Clock = time.time
) -> tuple[RunningNode, KeyChange]:
    """``rhizome key rotate`` with serve stopped, then serve again."""
    await cluster.stop(running)
    node = Node(running.home, clock=clock)
    try:
        change = rotate_node_key(node)
    finally:
        node.close()
    return await restart(cluster, running, clock), change


async def recovered(
    cluster: Cluster,
    running: RunningNode,
    since: int | None,
    after: str | None = None,
    clock: Clock = time.time,
) -> tuple[RunningNode, KeyChange]:
    """``rhizome key recover`` with the recovery key, serve stopped, then serve again."""
    await cluster.stop(running)
    node = Node(running.home, clock=clock)
    try:
        change = recover_node_key(node, RECOVERY, compromised_since=since, after=after)
    finally:
        node.close()
    return await restart(cluster, running, clock), change  # its stop is a no-op now


def history_at(holder: RunningNode, about: RunningNode) -> KeyHistory:
    node = holder.node
    return load_key_history(node.db, about.node_id, node.now())


def statements_at(holder: RunningNode, about: RunningNode) -> int:
    return len(statements_of(holder.node.db, about.node_id))
