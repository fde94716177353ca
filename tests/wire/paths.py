"""Two real nodes that reach each other only through relays (the network path a test owns).

Pairing stores the relays' addresses as the peers' URLs: the invite names the inviter's
relay, and the joiner announces its own relay as its URL. From then on every pairing, sync
and revocation message between the two crosses a :class:`~tests.wire.relay.Relay`.
"""

from __future__ import annotations

import dataclasses

from federation.client import PeerClient
from federation.pairing import join_with_invite
from tests.integration.conftest import Cluster, RunningNode
from tests.wire.relay import Relay


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
