"""Attack: capture a holder's signed ``/outbox`` request and replay it after a restart.

The attacker records the signed request a holder (B) makes to pull its outbox at the origin
(A), waits until A restarts (an update, a crash, a reboot), and sends the same bytes again.
Before the fix the replay memory lived in memory only: after the restart the replay was
accepted, the revocation went to the attacker and was deleted, and B never purged.

What must hold: the replay memory survives the restart (a real new ``Node`` on the same
home refuses the replay: 401 "replayed"); and even when it cannot (the memory is gone, as
after a restore), a replay is harmless: handing an item out never deletes it, so B still
gets the revocation, purges, and A's receipts say so.
"""

from __future__ import annotations

import json
import time

import pytest

from crypto.http_signatures import sign_request
from federation import endpoints, wire
from federation.outbox import waiting
from federation.propagation import revoke
from federation.revocation import open_revocation
from node.node import Node
from tests.integration.conftest import Cluster, RunningNode
from tests.integration.revocation_helpers import (
    MSGPACK,
    admin_actor,
    canary,
    files_with,
    port_socket,
    serve,
    statuses,
)


async def post(
    cluster: Cluster, url: str, headers: dict[str, str], body: bytes
) -> tuple[int, bytes]:
    async with cluster.session.post(url, data=body, headers=headers) as response:
        return response.status, await response.read()


def captured_outbox_request(b: RunningNode, a: RunningNode) -> tuple[str, dict[str, str], bytes]:
    """The signed pull B makes at A, byte for byte, as an observer on the path records it."""
    body = wire.encode(wire.NOTIFY, {})
    url = a.url + endpoints.OUTBOX.path
    headers = sign_request(
        b.node.identity, "POST", url, body, created=int(time.time()), recipient=a.node_id
    )
    headers["Content-Type"] = MSGPACK
    return url, headers, body


@pytest.mark.parametrize("memory", ["kept on disk", "lost (restored from an older copy)"])
async def test_a_replayed_outbox_request_after_a_restart_is_refused_and_loses_nothing(
    cluster: Cluster, memory: str
) -> None:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    await cluster.pair(a, b)
    word = canary()
    record = a.add("Safe route", f"Take {word} street.\n")
    assert (await cluster.sync(b, a)).errors == []
    revocation = revoke(a.node.local_node(), record.id_hex, admin_actor(a.node), "safety", None)
    url, headers, body = captured_outbox_request(b, a)
    status, answer = await post(cluster, url, headers, body)  # B's pull; the attacker has it
    assert status == 200
    handed = wire.decode(wire.OUTBOX, answer)["revocations"]
    assert [open_revocation(raw).revocation_id for raw in handed] == [revocation.revocation_id]

    home, port = a.home, a.port
    await cluster.stop(a)
    if memory != "kept on disk":
        with_memory_lost = Node(home)
        with_memory_lost.db.execute("DELETE FROM seen_signatures")
        with_memory_lost.close()
    a = await serve(cluster, home, port_socket(port), background_sync=False)

    status, answer = await post(cluster, url, headers, body)  # the replay

    item = waiting(a.node.db, "revocation", revocation.revocation_id, b.node_id)
    assert item is not None, "the revocation for B left A's outbox"
    if memory == "kept on disk":
        assert status == 401, answer
        error = json.loads(answer)["error"]
        assert error["code"] == "unauthenticated" and "replayed" in error["message"]
        assert item.attempts == 1
    else:
        assert status == 200  # accepted: the attacker gets a copy of the public revocation...
        assert item.attempts == 2  # ...and it is only one more attempt, nothing is lost
    assert b.has(record)

    assert (await cluster.sync(b, a)).errors == []  # B's next real exchange with A

    assert statuses(a, record.id_hex) == {b.node_id: "purged"}
    assert not b.has(record) and files_with(b.home, word) == []
    assert a.count("outbox") == 0
    assert await cluster.healthy(a)
