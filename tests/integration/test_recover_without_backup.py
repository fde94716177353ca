"""A hub that lost everything, with no backup, comes back from its recovery code and peers.

Hub A pairs with B and C, shares lessons, withdraws one while C is offline, keeps one local.
Its home is then deleted. Its operator runs the recovery with the code and the peers'
addresses: the same node id comes back with a new key, both peers take it, the shared
lessons come back, the withdrawn one does not (its withdrawal is relearned from B before C's
stale copy is taken), the local one is honestly lost, and the peers sync with the recovered
hub as before. A wrong code changes nothing anywhere.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from archive.key_store import current_key
from archive.tombstones import is_tombstoned
from crypto.recovery_code import recovery_code
from crypto.signing import SigningIdentity
from federation.peers import list_peers
from federation.propagation import revoke
from node.node import Node
from node.recover_home import (
    PeerAddress,
    RecoveryFailed,
    parse_peer_address,
    recover_without_backup,
)
from tests.integration.conftest import Cluster, RunningNode
from tests.integration.key_helpers import RECOVERY, give_genesis, restart, rotated
from tests.integration.revocation_helpers import admin_actor, rhizome


async def hub_with_peers(cluster: Cluster) -> tuple[RunningNode, RunningNode, RunningNode]:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    c = await cluster.start("Hub C")
    await cluster.pair(b, a)
    await cluster.pair(c, a)
    give_genesis(a)
    return a, b, c


def addresses(*peers: RunningNode) -> list[PeerAddress]:
    return [PeerAddress(peer.node_id, peer.url) for peer in peers]


def holds(home: Path, record_id: str) -> bool:
    node = Node(home, passphrase=lambda: "")
    try:
        return (
            node.db.execute("SELECT 1 FROM records WHERE id = ?", [record_id]).fetchone()
            is not None
        )
    finally:
        node.close()


async def test_a_hub_with_no_backup_comes_back_from_its_peers(
    cluster: Cluster, tmp_path: Path
) -> None:
    a, b, c = await hub_with_peers(cluster)
    shared = a.add("Shared checklist")
    withdrawn = a.add("Withdrawn later")
    local_only = a.add("Kept at home", scope="local")
    for peer in (b, c):
        assert (await cluster.sync(a, peer)).errors == []
    revoke(a.node.local_node(), withdrawn.id_hex, admin_actor(a.node), "consent-withdrawn", None)
    assert (await cluster.sync(a, b)).errors == []
    assert c.has(withdrawn)  # C was offline: it still holds the withdrawn lesson
    old_key, node_id = a.node.identity.public_key, a.node_id
    await cluster.stop(a)
    shutil.rmtree(a.home)  # seized, wiped: no backup

    home = tmp_path / "hub-a-again"
    said: list[str] = []
    done = await recover_without_backup(
        home, node_id=node_id, recovery=RECOVERY, peers=addresses(b, c),
        session=cluster.session, say=said.append, url=a.url, port=a.port,
    )  # fmt: skip
    assert sorted(done.accepted) == ["Hub B", "Hub C"] and done.refused == {}
    assert done.name == "Hub A"
    new_key = done.statement.key
    assert new_key != old_key
    for peer in (b, c):
        assert current_key(peer.node.db, node_id) == new_key
        assert peer.peer(a).status == "active"  # type: ignore[union-attr]
    assert holds(home, shared.id_hex)
    assert not holds(home, withdrawn.id_hex)
    assert not holds(home, local_only.id_hex)  # never left the node: honestly lost
    recovered = Node(home, passphrase=lambda: "")
    try:
        assert recovered.node_id == node_id and recovered.identity.public_key == new_key
        assert is_tombstoned(recovered.db, withdrawn.id_hex, node_id)
        assert {peer.name for peer in list_peers(recovered.db)} == {"Hub B", "Hub C"}
    finally:
        recovered.close()
    assert any("Fetching your lessons back" in line for line in said)
    assert not c.has(withdrawn)  # the stale copy was refused, and C got the withdrawal

    # The recovered hub serves again: its peers reach it, and what it writes flows on.
    again = await restart(cluster, dataclasses.replace(a, home=home))
    fresh = again.add("Written after the recovery")
    assert (await cluster.sync(b, again)).errors == []
    assert b.has(fresh)


async def test_a_wrong_code_is_refused_and_nothing_changes(
    cluster: Cluster, tmp_path: Path
) -> None:
    a, b, c = await hub_with_peers(cluster)
    assert (await cluster.sync(a, b)).errors == []
    before = current_key(b.node.db, a.node_id)
    events = b.count("events")
    home = tmp_path / "hub-a-again"
    with pytest.raises(RecoveryFailed, match="nothing was changed"):
        await recover_without_backup(
            home, node_id=a.node_id, recovery=SigningIdentity.generate(), peers=addresses(b, c),
            session=cluster.session, say=lambda _: None,
        )  # fmt: skip
    assert not home.exists()
    assert list(tmp_path.glob(".hub-a-again*")) == []  # no half home left behind
    assert current_key(b.node.db, a.node_id) == before
    assert b.count("events") == events
    assert (await cluster.sync(a, b)).errors == []  # the real hub goes on as before


async def test_the_cli_walks_an_operator_through_it(cluster: Cluster, tmp_path: Path) -> None:
    a, b, c = await hub_with_peers(cluster)
    shared = a.add("Shared checklist")
    assert (await cluster.sync(a, b)).errors == []
    node_id = a.node_id
    await cluster.stop(a)
    home = tmp_path / "hub-a-again"
    peers = ("--peer", f"{b.node_id}@{b.url}", "--peer", f"{c.node_id}@{c.url}")

    mistyped = node_id[:-1] + ("X" if node_id[-1] != "X" else "Y")
    typo = await rhizome(home, "key", "recover", "--node-id", mistyped, "--code",
                         recovery_code(RECOVERY), *peers)  # fmt: skip
    assert typo.code != 0 and "mistyped" in typo.stderr and "Traceback" not in typo.stderr
    assert not home.exists()

    wrong = recovery_code(SigningIdentity.generate())
    refused = await rhizome(home, "key", "recover", "--node-id", node_id, "--code", wrong, *peers)
    assert refused.code != 0 and "no peer took the recovery" in refused.stderr
    assert "Traceback" not in refused.stderr and not home.exists()

    ran = await rhizome(
        home, "key", "recover", "--node-id", node_id, "--code", recovery_code(RECOVERY), *peers,
        "--url", a.url, "--port", str(a.port),
    )  # fmt: skip
    assert ran.code == 0, ran.stderr
    assert "Hub B took it: paired again" in ran.stdout
    assert "Recovered Hub A" in ran.stdout and "1 lessons came back" in ran.stdout
    assert holds(home, shared.id_hex)
    verified = await rhizome(home, "verify")
    assert verified.code == 0, verified.stdout + verified.stderr


async def test_a_peer_that_rotated_is_reached_through_its_invite_code(
    cluster: Cluster, tmp_path: Path
) -> None:
    a, b, _ = await hub_with_peers(cluster)
    assert (await cluster.sync(a, b)).errors == []
    give_genesis(b)
    b, _ = await rotated(cluster, b)  # B presents a key that is not its node id now
    node_id = a.node_id
    await cluster.stop(a)
    home = tmp_path / "hub-a-again"
    done = await recover_without_backup(
        home, node_id=node_id, recovery=RECOVERY, peers=[parse_peer_address(cluster.invite(b))],
        session=cluster.session, say=lambda _: None,
    )  # fmt: skip
    assert done.accepted == ["Hub B"], done.refused
    recovered = Node(home, passphrase=lambda: "")
    try:  # B's rotated key is pinned from now on, learnt from its answer
        assert current_key(recovered.db, b.node_id) == b.node.identity.public_key
    finally:
        recovered.close()
