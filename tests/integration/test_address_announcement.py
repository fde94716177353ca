"""A node tells its peers its own address, signed: peers paired before TLS (or before a move)
learn the new address at the node's next sync, without pairing again."""

from __future__ import annotations

from tests.integration.conftest import Cluster


async def test_a_peer_holding_an_old_address_learns_the_new_one(cluster: Cluster) -> None:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    await cluster.pair(a, b)
    # As B holds a hub paired before TLS: plain http at A's port, which now speaks TLS.
    old = f"http://127.0.0.1:{a.port}"
    with b.node.db.conn:
        b.node.db.execute("UPDATE peers SET url = ? WHERE node_id = ?", [old, a.node_id])
    record = a.add("After the upgrade")

    failed = await cluster.sync(b, a)
    assert failed.errors and not b.has(record)
    strikes = a.count("strikes") + b.count("strikes")

    told = await cluster.sync(a, b)  # A's next sync tells B its address, signed by A's key
    assert told.errors == []
    peer = b.peer(a)
    assert peer is not None and peer.url == a.url
    assert a.count("strikes") + b.count("strikes") == strikes == 0

    report = await cluster.sync(b, a)
    assert report.errors == [] and b.has(record)
