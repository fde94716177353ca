"""The acknowledged outbox on real node homes, without HTTP (issue 11, item 6).

An item is handed out any number of times; only the peer's signed acknowledgement removes
it: its purge receipt for a revocation, its signed ack for receipts. Acks are bound to the
node that signed them and to the node they are meant for; duplicates and replays change
nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crypto.signing import SigningIdentity
from federation.acks import InvalidAck, issue_ack, open_ack
from federation.outbox import (
    acknowledge,
    acknowledge_signed,
    hand_out,
    outgoing_for,
    peers_with_outbox,
    waiting,
)
from federation.outbox_state import FIRST_RETRY_SECONDS
from federation.propagation import accept_receipts, accept_revocation, revoke, take_receipts
from node.node import Node
from tests.conftest import SEED_A, SEED_B, FakeClock, HomeFactory
from tests.federation.test_revocation import RESHAREABLE, admin_of, outbox, send
from tests.federation.test_sharing import SEED_C, add, pair, peer_of


@pytest.fixture
def chain(make_home: HomeFactory, clock: FakeClock) -> Iterator[dict[str, Node]]:
    """A, B and C on real homes: A and B are peers, B and C are peers."""
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
    yield nodes
    for node in nodes.values():
        node.close()


def revoked_for_b(chain: dict[str, Node]) -> tuple[Node, Node, str]:
    """A revoked a record B holds: one revocation waits for B in A's outbox."""
    a, b = chain["a"], chain["b"]
    record = add(a, "Meeting points", consent=RESHAREABLE)
    send(a, b, record)
    revocation = revoke(a.local_node(), record.id_hex, admin_of(a), "safety", None)
    assert outbox(a) == [("revocation", revocation.revocation_id, b.node_id)]
    return a, b, revocation.revocation_id


def test_handing_out_counts_attempts_and_keeps_the_item_until_the_backoff_ends(
    chain: dict[str, Node], clock: FakeClock
) -> None:
    a, b, revocation_id = revoked_for_b(chain)
    now = int(clock())
    item = ("revocation", revocation_id)

    hand_out(a.db, b.node_id, [item], now)

    shown = waiting(a.db, *item, b.node_id)
    assert shown is not None and (shown.state, shown.attempts) == ("sent", 1)
    assert shown.next_attempt_at == now + FIRST_RETRY_SECONDS
    assert not outgoing_for(a.db, b.node_id, now=now)  # not due: waits for the ack
    assert outgoing_for(a.db, b.node_id).revocations  # still there
    assert peers_with_outbox(a.db, now) == [] and peers_with_outbox(a.db) == [b.node_id]
    clock.advance(FIRST_RETRY_SECONDS)
    assert outgoing_for(a.db, b.node_id, now=int(clock())).revocations
    hand_out(a.db, b.node_id, [item], int(clock()))
    assert waiting(a.db, *item, b.node_id).attempts == 2  # type: ignore[union-attr]


def test_a_revocation_leaves_only_with_the_holders_receipt(
    chain: dict[str, Node],
) -> None:
    a, b, revocation_id = revoked_for_b(chain)
    hand_out(a.db, b.node_id, [("revocation", revocation_id)], int(a.clock()))
    from_b = accept_revocation(b.local_node(), a.db.execute(
        "SELECT envelope FROM revocations").fetchone()[0], peer_of(b, a))  # fmt: skip

    assert accept_receipts(a.local_node(), [from_b.envelope], peer_of(a, b)) == 1
    assert outbox(a) == []
    # The same receipt again (a duplicate, a replay) is processed and changes nothing.
    assert take_receipts(a.local_node(), [from_b.envelope], peer_of(a, b)) == (
        0,
        [from_b.receipt_id],
    )
    assert outbox(a) == []


def test_a_receipt_of_another_holder_does_not_acknowledge_bs_item(
    chain: dict[str, Node],
) -> None:
    a, b, c = chain["a"], chain["b"], chain["c"]
    record = add(a, "Two holders", consent=RESHAREABLE)
    send(a, b, record)
    send(b, c, record)
    revocation = revoke(a.local_node(), record.id_hex, admin_of(a), "safety", None)
    from_c = accept_revocation(c.local_node(), revocation.envelope, peer_of(c, b))

    accept_receipts(a.local_node(), [from_c.envelope], peer_of(a, b))  # relayed by B

    assert outbox(a) == [("revocation", revocation.revocation_id, b.node_id)]


def test_receipts_leave_only_with_a_signed_ack_from_that_peer(chain: dict[str, Node]) -> None:
    a, b, c = chain["a"], chain["b"], chain["c"]
    record = add(a, "Relay me", consent=RESHAREABLE)
    send(a, b, record)
    send(b, c, record)
    revocation = revoke(a.local_node(), record.id_hex, admin_of(a), "safety", None)
    accept_revocation(b.local_node(), revocation.envelope, peer_of(b, a))
    from_c = accept_revocation(c.local_node(), revocation.envelope, peer_of(c, b))
    accept_receipts(b.local_node(), [from_c.envelope], peer_of(b, c))
    relayed = ("receipt", from_c.receipt_id, a.node_id)
    assert relayed in outbox(b)
    now = int(a.clock())

    by_c = issue_ack(c.identity, b.node_id, [from_c.receipt_id], now).envelope
    with pytest.raises(InvalidAck, match="another node than the peer"):
        acknowledge_signed(b.db, by_c, a.node_id, b.node_id)  # C cannot ack for A
    for_c = issue_ack(a.identity, c.node_id, [from_c.receipt_id], now).envelope
    with pytest.raises(InvalidAck, match="meant for another node"):
        acknowledge_signed(b.db, for_c, a.node_id, b.node_id)  # A's ack for C, replayed to B
    tampered = bytearray(issue_ack(a.identity, b.node_id, [from_c.receipt_id], now).envelope)
    tampered[-1] ^= 1
    with pytest.raises(InvalidAck):
        acknowledge_signed(b.db, bytes(tampered), a.node_id, b.node_id)
    assert relayed in outbox(b)

    good = issue_ack(a.identity, b.node_id, [from_c.receipt_id], now).envelope
    assert acknowledge_signed(b.db, good, a.node_id, b.node_id) == 1
    assert relayed not in outbox(b)
    assert acknowledge_signed(b.db, good, a.node_id, b.node_id) == 0  # replayed: nothing


def test_an_ack_names_each_id_once_and_round_trips(chain: dict[str, Node]) -> None:
    a, b = chain["a"], chain["b"]
    ids = ["aa" * 32, "bb" * 32, "aa" * 32]
    ack = issue_ack(a.identity, b.node_id, ids, 7)
    opened = open_ack(ack.envelope, a.node_id, b.node_id)
    assert opened.receipt_ids == ("aa" * 32, "bb" * 32)
    assert (opened.acker, opened.recipient, opened.acked_at) == (a.node_id, b.node_id, 7)
    with pytest.raises(InvalidAck):
        open_ack(b"\x93\x01\x02\x03", a.node_id, b.node_id)


def test_acknowledging_what_is_not_waiting_changes_nothing(chain: dict[str, Node]) -> None:
    a, b, revocation_id = revoked_for_b(chain)
    assert acknowledge(a.db, b.node_id, "receipt", [revocation_id]) == 0
    assert acknowledge(a.db, chain["c"].node_id, "revocation", [revocation_id]) == 0
    assert outbox(a) == [("revocation", revocation_id, b.node_id)]
