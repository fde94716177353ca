"""``rhizome policy check`` binds name sections to node ids; ``policy unbind`` forgets one."""

from __future__ import annotations

from pathlib import Path

from crypto.signing import SigningIdentity
from federation.peers import save_peer
from governance.policy_binding import read_bindings
from node.home import HomePaths
from node.node import Node
from tests.conftest import SEED_B
from tests.node.conftest import Invoke, assert_clean_exit, assert_one_line_error, logged_events

MANILA = SigningIdentity.from_seed(SEED_B).node_id


def with_manila(home: Path, section: str = "Manila Hub") -> None:
    node = Node(home)
    try:
        save_peer(node.db, MANILA, "Manila Hub", "Southeast Asia", "http://127.0.0.1:9", 1)
    finally:
        node.close()
    policy = HomePaths(home).policy
    extra = f'\n[peers."{section}"]\nmax_sensitivity = "high"\n'
    policy.write_text(policy.read_text(encoding="utf-8") + extra, encoding="utf-8")


def bindings(home: Path) -> dict[str, str]:
    node = Node(home)
    try:
        return read_bindings(node.db)
    finally:
        node.close()


def test_check_binds_a_name_once_shows_the_id_and_logs_it(invoke: Invoke, home: Path) -> None:
    with_manila(home)
    first = invoke(home, "policy", "check")
    assert_clean_exit(first)
    assert f'Bound [peers."Manila Hub"] to Manila Hub, node {MANILA}' in first.output
    assert f'a node id as the key is safest: [peers."{MANILA}"]' in first.output
    assert bindings(home) == {"manila hub": MANILA}
    assert ("policy.bound", MANILA) in [event[1:] for event in logged_events(home)]
    again = invoke(home, "policy", "check")
    assert_clean_exit(again)
    assert "Bound" not in again.output  # bound once; later checks only remind of the id


def test_unbind_forgets_and_the_next_check_binds_anew(invoke: Invoke, home: Path) -> None:
    with_manila(home)
    assert_clean_exit(invoke(home, "policy", "check"))
    unbound = invoke(home, "policy", "unbind", "manila hub")
    assert_clean_exit(unbound)
    assert "gets nothing until" in unbound.output
    assert bindings(home) == {}
    assert ("policy.unbound", MANILA) in [event[1:] for event in logged_events(home)]
    assert_one_line_error(invoke(home, "policy", "unbind", "Manila Hub"), "is not bound")


def test_a_section_for_no_peer_exits_1(invoke: Invoke, home: Path) -> None:
    with_manila(home, section="Manilla Hub")
    assert_one_line_error(
        invoke(home, "policy", "check"), '[peers."Manilla Hub"] names no peer of this node'
    )
    assert bindings(home) == {}


def test_a_node_id_section_needs_no_binding(invoke: Invoke, home: Path) -> None:
    with_manila(home, section=MANILA.lower())
    checked = invoke(home, "policy", "check")
    assert_clean_exit(checked)
    assert "Bound" not in checked.output and "Tip" not in checked.output
