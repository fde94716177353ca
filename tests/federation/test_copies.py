"""Tombstones in reconciliation, on real node homes without HTTP (issue 11, item 8).

The answer to a tombstone query carries every revocation that covers an asked id; only the
answerer's own are queued and kept as evidence. The asker leaves out, without a strike, a
revocation that names a record it holds from another origin: a third node can make an
honest node hold such a tombstone, and must not make honest nodes strike each other.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crypto.signing import SigningIdentity
from federation.copies import answer_tombstone_query, covering_revocations
from federation.propagation import accept_receipts, accept_revocation, revoke
from federation.revocation import issue_receipt, issue_revocation
from node.node import Node
from tests.conftest import SEED_A, SEED_B, FakeClock, HomeFactory
from tests.federation.test_revocation import RESHAREABLE, admin_of, outbox, send
from tests.federation.test_sharing import SEED_C, add, pair, peer_of


@pytest.fixture
def hubs(make_home: HomeFactory, clock: FakeClock) -> Iterator[dict[str, Node]]:
    """A, B and C, each paired with the other two."""
    seeds = {"a": SEED_A, "b": SEED_B, "c": SEED_C}
    nodes = {
        name: Node(
            make_home(f"Hub {name.upper()}", identity=SigningIdentity.from_seed(seed),
                      port=8470 + n),
            clock=clock,
        )
        for n, (name, seed) in enumerate(seeds.items())
    }  # fmt: skip
    pair(nodes["a"], nodes["b"])
    pair(nodes["b"], nodes["c"])
    pair(nodes["a"], nodes["c"])
    yield nodes
    for node in nodes.values():
        node.close()


def copies_seen(node: Node) -> list[tuple[str, str]]:
    rows = node.db.execute("SELECT holder, record_id FROM copies_seen ORDER BY holder")
    return [(str(holder), str(record_id)) for holder, record_id in rows]


def test_the_origin_answers_with_its_revocation_keeps_the_evidence_and_queues_it(
    hubs: dict[str, Node],
) -> None:
    a, b = hubs["a"], hubs["b"]
    record = add(a, "Gone", consent=RESHAREABLE)
    send(a, b, record)
    revocation = revoke(a.local_node(), record.id_hex, admin_of(a), "safety", None)
    accept_revocation(b.local_node(), revocation.envelope, peer_of(b, a))
    a.db.execute("DELETE FROM outbox")  # as if B's receipt had come back

    for _ in range(2):  # every time it is asked
        answer = answer_tombstone_query(a.local_node(), peer_of(a, b), [record.record_id])
        assert answer == [revocation.envelope]
    assert copies_seen(a) == [(b.node_id, record.id_hex)]
    assert outbox(a) == [("revocation", revocation.revocation_id, b.node_id)]
    assert answer_tombstone_query(a.local_node(), peer_of(a, b), [bytes(32)]) == []


def test_another_origins_tombstone_is_answered_but_not_queued_nor_held_against_anyone(
    hubs: dict[str, Node],
) -> None:
    """C signs a revocation naming A's record (it has no right to). B, which never held that
    record, cannot tell and keeps the tombstone. A asks B about its own record."""
    a, b, c = hubs["a"], hubs["b"], hubs["c"]
    record = add(a, "Still A's", consent=RESHAREABLE)
    bogus = issue_revocation(c.identity, admin_of(c), [record.id_hex], "safety", int(c.clock()))
    accept_revocation(b.local_node(), bogus.envelope, peer_of(b, c))

    answer = answer_tombstone_query(b.local_node(), peer_of(b, a), [record.record_id])

    assert answer == [bogus.envelope]
    assert outbox(b) == [] and copies_seen(b) == []
    assert covering_revocations(a.db, answer) == []  # A leaves it out, without a strike
    assert a.db.execute("SELECT count(*) FROM strikes").fetchone()[0] == 0
    assert a.db.execute("SELECT 1 FROM records WHERE id = ?", [record.id_hex]).fetchone()


def test_the_asker_keeps_what_covers_its_copies_and_what_names_nothing_it_holds(
    hubs: dict[str, Node],
) -> None:
    a, b = hubs["a"], hubs["b"]
    record = add(a, "Withdrawn", consent=RESHAREABLE)
    send(a, b, record)
    revocation = revoke(a.local_node(), record.id_hex, admin_of(a), "safety", None)
    other = issue_revocation(a.identity, admin_of(a), ["77" * 32], "error", int(a.clock()))
    assert covering_revocations(b.db, [revocation.envelope, other.envelope, b"junk"]) == [
        revocation.envelope,
        other.envelope,
        b"junk",  # left for accept_revocation, which strikes the sender for it
    ]


def test_an_old_receipt_does_not_acknowledge_a_revocation_sent_after_a_copy_was_seen(
    hubs: dict[str, Node], clock: FakeClock
) -> None:
    a, b = hubs["a"], hubs["b"]
    record = add(a, "Seen again", consent=RESHAREABLE)
    send(a, b, record)
    revocation = revoke(a.local_node(), record.id_hex, admin_of(a), "safety", None)
    old = accept_revocation(b.local_node(), revocation.envelope, peer_of(b, a))
    assert accept_receipts(a.local_node(), [old.envelope], peer_of(a, b)) == 1
    assert outbox(a) == []
    answer_tombstone_query(a.local_node(), peer_of(a, b), [record.record_id])  # B holds it again
    waiting_for_b = [("revocation", revocation.revocation_id, b.node_id)]
    assert outbox(a) == waiting_for_b

    accept_receipts(a.local_node(), [old.envelope], peer_of(a, b))  # the old one, replayed

    assert outbox(a) == waiting_for_b
    clock.advance(60)
    newer = issue_receipt(b.identity, revocation.revocation_id, int(clock()), [])
    assert accept_receipts(a.local_node(), [newer.envelope], peer_of(a, b)) == 1
    assert outbox(a) == []
