"""A peer's standing: every edge of the table, every edge that is not in it, and the
directory (``federation.peers``) moving peers only along the table."""

from __future__ import annotations

import itertools

import pytest

from federation.peer_state import (
    ACTIVE,
    DEPART,
    EVENTS,
    FORK,
    FORKED,
    GONE,
    PAIR,
    REMOVE,
    REMOVED,
    RESUME,
    STATES,
    SUSPEND,
    SUSPENDED,
    TRANSITIONS,
    UNPAIRED,
    PeerStateError,
    next_state,
)
from federation.peers import PEER_STATUSES, change_peer_status, get_peer, save_peer
from node.node import Node
from tests.conftest import START

LEGAL = {
    (UNPAIRED, PAIR): ACTIVE,
    (ACTIVE, PAIR): ACTIVE,
    (SUSPENDED, PAIR): ACTIVE,
    (REMOVED, PAIR): ACTIVE,
    (ACTIVE, SUSPEND): SUSPENDED,
    (SUSPENDED, SUSPEND): SUSPENDED,
    (SUSPENDED, RESUME): ACTIVE,
    (ACTIVE, RESUME): ACTIVE,
    (ACTIVE, REMOVE): REMOVED,
    (SUSPENDED, REMOVE): REMOVED,
    (ACTIVE, DEPART): GONE,
    (SUSPENDED, DEPART): GONE,
    (GONE, DEPART): GONE,
    (GONE, PAIR): ACTIVE,
    (GONE, REMOVE): REMOVED,
    (ACTIVE, FORK): FORKED,
    (SUSPENDED, FORK): FORKED,
    (FORKED, FORK): FORKED,
    (FORKED, RESUME): ACTIVE,
    (FORKED, PAIR): ACTIVE,
    (FORKED, REMOVE): REMOVED,
}
ILLEGAL = [pair for pair in itertools.product(STATES, EVENTS) if pair not in LEGAL]
LIMA = "RK44D5U-JEUR7EB-2YNVG7M-INJ6IR6-3CFBAEF-OSQCHQ6-NYM542O-O236UAI"


def test_the_table_is_exactly_the_documented_one() -> None:
    assert TRANSITIONS == LEGAL
    assert ILLEGAL == [
        (UNPAIRED, SUSPEND), (UNPAIRED, RESUME), (UNPAIRED, REMOVE), (UNPAIRED, DEPART),
        (UNPAIRED, FORK),
        (REMOVED, SUSPEND), (REMOVED, RESUME), (REMOVED, REMOVE), (REMOVED, DEPART),
        (REMOVED, FORK),
        (GONE, SUSPEND), (GONE, RESUME), (GONE, FORK),
        (FORKED, SUSPEND), (FORKED, DEPART),
    ]  # fmt: skip
    assert set(PEER_STATUSES) == set(STATES) - {UNPAIRED}  # what the peers table stores


@pytest.mark.parametrize(("edge", "target"), sorted(LEGAL.items()))
def test_every_legal_edge(edge: tuple[str, str], target: str) -> None:
    assert next_state(*edge) == target


@pytest.mark.parametrize("edge", ILLEGAL)
def test_every_other_edge_raises_an_error_naming_the_state(edge: tuple[str, str]) -> None:
    state, event = edge
    with pytest.raises(PeerStateError) as refused:
        next_state(state, event)
    assert (refused.value.state, refused.value.event) == (state, event)
    assert refused.value.http_status == 409 and refused.value.code == "peer_state"
    words = {
        REMOVED: "this peer was removed: pair with it again",
        UNPAIRED: "pair with it first",
        GONE: "this peer said it was wiped (gone): pair with it again",
        FORKED: "its key history forked",
    }
    assert str(refused.value).startswith(f"cannot {event}: ")
    assert words[state] in str(refused.value)


def test_only_pairing_brings_a_removed_peer_back() -> None:
    assert [event for (state, event) in LEGAL if state == REMOVED] == [PAIR]


@pytest.mark.parametrize("state", ["blocked", "", "ACTIVE"])
def test_an_unknown_state_is_refused_too(state: str) -> None:
    with pytest.raises(PeerStateError, match=f"a peer that is {state} cannot resume"):
        next_state(state, RESUME)


def _status(node: Node) -> str | None:
    peer = get_peer(node.db, LIMA)
    return None if peer is None else peer.status


def test_the_directory_moves_a_peer_along_the_table(node: Node) -> None:
    save_peer(node.db, LIMA, "Lima Hub", "Andes", "http://127.0.0.1:9", START)
    assert _status(node) == ACTIVE
    walk = [(SUSPEND, SUSPENDED), (SUSPEND, SUSPENDED), (RESUME, ACTIVE), (RESUME, ACTIVE)]
    for event, status in [*walk, (REMOVE, REMOVED)]:
        assert change_peer_status(node.db, LIMA, event) == status
        assert _status(node) == status


@pytest.mark.parametrize("event", [SUSPEND, RESUME, REMOVE])
def test_a_removed_peer_changes_only_by_pairing_again(node: Node, event: str) -> None:
    save_peer(node.db, LIMA, "Lima Hub", "Andes", "http://127.0.0.1:9", START)
    change_peer_status(node.db, LIMA, REMOVE)
    with pytest.raises(PeerStateError, match="this peer was removed: pair with it again"):
        change_peer_status(node.db, LIMA, event)
    assert _status(node) == REMOVED
    save_peer(node.db, LIMA, "Another Name", "Elsewhere", "http://127.0.0.1:10", START + 5)
    again = get_peer(node.db, LIMA)
    assert again is not None and again.status == ACTIVE
    assert (again.name, again.region, again.url) == ("Lima Hub", "Andes", "http://127.0.0.1:10")


def test_pairing_again_makes_a_suspended_peer_active(node: Node) -> None:
    save_peer(node.db, LIMA, "Lima Hub", "Andes", "http://127.0.0.1:9", START)
    change_peer_status(node.db, LIMA, SUSPEND)
    save_peer(node.db, LIMA, "Lima Hub", "Andes", "http://127.0.0.1:9", START)
    assert _status(node) == ACTIVE


@pytest.mark.parametrize("event", [SUSPEND, RESUME, REMOVE])
def test_a_node_never_paired_has_no_status_to_change(node: Node, event: str) -> None:
    with pytest.raises(PeerStateError, match="not a peer: pair with it first"):
        change_peer_status(node.db, LIMA, event)
    assert _status(node) is None
