"""``rhizome status``: the node's health for an operator, as text and as JSON."""

from __future__ import annotations

import json
from pathlib import Path

from crypto.signing import SigningIdentity
from federation.peers import record_deliveries, save_peer
from node.node import Node
from tests.conftest import START, HomeFactory, write_lesson
from tests.node.conftest import Invoke, assert_clean_exit, assert_one_line_error


def test_status_of_a_fresh_home(invoke: Invoke, home: Path) -> None:
    result = invoke(home, "status")
    assert_clean_exit(result)
    assert "Served:           no (start it with `rhizome serve`)" in result.output
    assert "Node key:         NOT sealed" in result.output
    assert "Peers:            none yet" in result.output
    assert "the node key is not sealed with a passphrase" in result.output


def test_status_of_a_sealed_home_needs_its_passphrase(
    invoke: Invoke, make_home: HomeFactory
) -> None:
    """Its database is encrypted: even the counts need the passphrase."""
    home = make_home(passphrase="correct horse battery staple")
    assert_one_line_error(invoke(home, "status", "--json"), "RHIZOME_PASSPHRASE")
    env = {"RHIZOME_PASSPHRASE": "correct horse battery staple"}
    result = invoke(home, "status", "--json", env=env)
    assert_clean_exit(result)
    found = json.loads(result.output)
    assert found["key_sealed"] is True
    assert found["warnings"] == []
    assert found["served_by"] is None
    assert found["schema"]["version"] == found["schema"]["latest"]
    assert found["disk_free_bytes"] > 0


def test_withdrawals_waiting_and_receipts_missing(
    invoke: Invoke, home: Path, tmp_path: Path
) -> None:
    lima = SigningIdentity.generate().node_id
    path = write_lesson(tmp_path, "a.md", {"title": "Buddy pairs", "kind": "checklist"}, "Go.\n")
    node = Node(home)
    try:
        record_id = node.add_lesson_file(path).id_hex
        save_peer(node.db, lima, "Lima Hub", "Andes", "http://127.0.0.1:9", START)
        record_deliveries(node.db, lima, [record_id], "sent", START)  # Lima holds a copy
    finally:
        node.close()
    assert_clean_exit(invoke(home, "revoke", record_id, "--reason", "consent-withdrawn"))

    found = json.loads(invoke(home, "status", "--json").output)
    assert found["withdrawals_waiting"] == 1
    assert found["receipts_missing"] == 1
    (peer,) = found["peers"]
    assert peer["name"] == "Lima Hub" and peer["reachable"] == "unknown"
    assert peer["withdrawals_waiting"] == 1 and peer["receipts_missing"] == 1
    assert "1 withdrawal still to deliver" in found["warnings"]

    text = invoke(home, "status").output
    assert "Lima Hub (Andes) [active], no exchange yet" in text
    assert "1 withdrawal to deliver, 1 purge receipt missing" in text
