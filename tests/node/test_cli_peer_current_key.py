"""`rhizome peer list` names a peer by its node id (its first key) and, once it rotated its
key, the key that signs for it now and when it changed (issue 15)."""

from __future__ import annotations

from pathlib import Path

from archive.key_store import save_key_history
from crypto.key_statements import make_genesis, make_rotation
from crypto.signing import SigningIdentity
from federation.peers import save_peer
from node.node import Node
from tests.conftest import START
from tests.node.conftest import Invoke, assert_clean_exit


def test_peer_list_shows_a_rotated_peers_current_key(invoke: Invoke, home: Path) -> None:
    first, second, recovery, stays = (SigningIdentity.generate() for _ in range(4))
    node = Node(home)
    try:
        save_peer(node.db, first.node_id, "Lima Hub", "Andes", "https://lima.example", START)
        save_peer(node.db, stays.node_id, "Quito Hub", "Andes", "https://quito.example", START)
        genesis = make_genesis(first, recovery.public_key, START)
        rotation = make_rotation(first, genesis, second.public_key, START + 60)
        save_key_history(node.db, first.node_id, [genesis.raw, rotation.raw], START + 90)
    finally:
        node.close()

    result = invoke(home, "peer", "list")

    assert_clean_exit(result)
    lima, quito = result.stdout.split("Quito Hub")
    assert first.node_id in lima and f"current key {second.key_id} (rotated " in lima
    assert "current key" not in quito  # it never rotated: its id is its key
