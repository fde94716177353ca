"""The replay memory of federation requests, kept in the database (issue 11, item 7).

It honours the same contract as the in-memory ``ReplayGuard`` (tests/crypto), and more: a
node opened again on the same home still refuses what it accepted before.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crypto.http_signatures import SignatureRejected, sign_request, verify_request
from federation.replay_memory import PRUNE_EVERY, StoredReplayGuard
from node.node import Node
from tests.conftest import START, FakeClock

SIGNATURE = b"\x01" * 64


def test_a_signature_is_accepted_once(node: Node) -> None:
    guard = StoredReplayGuard(node.db)
    guard.check_and_remember(SIGNATURE, START, START)
    with pytest.raises(SignatureRejected) as refused:
        guard.check_and_remember(SIGNATURE, START, START + 1)
    assert refused.value.reason == "replayed"
    guard.check_and_remember(b"\x02" * 64, START, START + 1)
    assert guard.count() == 2


def test_the_memory_survives_the_node_being_opened_again(home: Path, clock: FakeClock) -> None:
    first = Node(home, clock=clock)
    body = b"\x80"
    headers = sign_request(
        first.identity, "POST", "/federation/v1/outbox", body, created=START,
        recipient=first.node_id,
    )  # fmt: skip

    def verify(node: Node) -> str:
        return verify_request(
            "POST", "/federation/v1/outbox", headers, body, now=START + 2,
            replay_guard=StoredReplayGuard(node.db), recipient=node.node_id,
        )  # fmt: skip

    assert verify(first) == first.node_id
    first.close()
    again = Node(home, clock=clock)
    try:
        with pytest.raises(SignatureRejected, match="replayed"):
            verify(again)
    finally:
        again.close()


def test_old_entries_are_pruned_and_the_size_is_bounded(node: Node) -> None:
    guard = StoredReplayGuard(node.db, window=300, max_entries=PRUNE_EVERY // 2)
    for n in range(PRUNE_EVERY - 1):
        guard.check_and_remember(n.to_bytes(64, "big"), START + n, START + n)
    assert guard.count() == PRUNE_EVERY - 1
    guard.check_and_remember(b"\xff" * 64, START + PRUNE_EVERY, START + PRUNE_EVERY)  # prunes
    rows = [int(row[0]) for row in node.db.execute("SELECT created FROM seen_signatures")]
    assert len(rows) == PRUNE_EVERY // 2
    assert min(rows) >= START + PRUNE_EVERY - 300  # the newest kept, nothing past the window


def test_a_window_shorter_than_the_accepted_skew_is_refused(node: Node) -> None:
    with pytest.raises(ValueError, match="exceeds"):
        verify_request(
            "POST", "/x", {}, b"", now=START, replay_guard=StoredReplayGuard(node.db, window=10),
            recipient=node.node_id,
        )  # fmt: skip
    with pytest.raises(ValueError):
        StoredReplayGuard(node.db, max_entries=0)
