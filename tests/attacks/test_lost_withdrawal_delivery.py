"""Attack: make a withdrawal's delivery fail after the sender handed it out.

The attacker sits on the path between two paired hubs (or the network simply fails): the
request arrives and is handled, and the answer is dropped. Before the fix, outbox items
(revocations, receipts) were deleted as soon as they were handed out, so a holder whose
``/outbox`` answer was lost never got the revocation, kept the lesson for good, and the
origin showed it "pending" forever.

What must hold: handing an item out only counts an attempt (visible to the operator); the
item stays in the outbox until the holder's signed purge receipt comes back; it is handed
out again, and the holder, seeing a revocation it already processed, treats it as done and
answers with the same receipt. In the end the lesson is purged everywhere, the origin shows
"purged", and every outbox is empty.
"""

from __future__ import annotations

import pytest

from federation import endpoints
from federation.errors import PeerUnreachable
from federation.outbox import waiting
from federation.outbox_state import FIRST_RETRY_SECONDS
from federation.propagation import receipt_status, revoke
from federation.revocation_client import ExchangeReport, push_outbox
from node.serialize import holder_json
from node.tls import server_context
from tests.integration.conftest import Cluster, RunningNode
from tests.integration.revocation_helpers import (
    ShiftedClock,
    admin_actor,
    canary,
    files_with,
    statuses,
)
from tests.wire.relay import OpenRelay, Relay, attacker_client_context


async def answer_dropper(relays: OpenRelay, target: RunningNode, path: str) -> Relay:
    """A path to ``target`` that passes every request on and drops the answer to the next
    request for ``path``, after ``target`` handled it. To see which request it is, it ends
    TLS with the node's own certificate (the test holds the node's key)."""
    relay = await relays(
        target.port,
        scheme="https",
        client_tls=server_context(target.home, target.node.identity),
        upstream_tls=attacker_client_context(),
    )
    relay.drop_answer(path)
    return relay


def route_through(running: RunningNode, peer: RunningNode, url: str) -> None:
    """``running`` reaches ``peer`` at ``url`` from now on (the path an attacker controls)."""
    with running.node.db.conn:
        running.node.db.execute("UPDATE peers SET url = ? WHERE node_id = ?", [url, peer.node_id])


async def holder_of_a_revoked_lesson(
    cluster: Cluster, clock: ShiftedClock
) -> tuple[RunningNode, RunningNode, str, str, str]:
    """Origin A and holder B (no background loops: every exchange is the test's). B holds a
    lesson with a canary word; A revokes it. Returns A, B, the record, revocation, word."""
    a = await cluster.start("Hub A", clock=clock)
    b = await cluster.start("Hub B", clock=clock)
    await cluster.pair(a, b)
    word = canary()
    record = a.add("Where we meet", f"Ask for {word}.\n")
    assert (await cluster.sync(b, a)).errors == []
    assert b.has(record)
    revocation = revoke(a.node.local_node(), record.id_hex, admin_actor(a.node), "safety", None)
    return a, b, record.id_hex, revocation.revocation_id, word


def still_waiting(a: RunningNode, b: RunningNode, revocation_id: str, attempts: int) -> None:
    """A kept the revocation for B, counted the attempts, and shows them to the operator."""
    item = waiting(a.node.db, "revocation", revocation_id, b.node_id)
    assert item is not None, "the revocation left A's outbox without B's receipt"
    assert (item.state, item.attempts) == ("sent", attempts)
    (holder,) = receipt_status(a.node.db, revocation_record(a, revocation_id))[1]
    shown = holder_json(a.node.db, holder)
    assert (shown["node"], shown["status"], shown["attempts"]) == (b.node_id, "pending", attempts)


def revocation_record(a: RunningNode, revocation_id: str) -> str:
    row = a.node.db.execute(
        "SELECT record_id FROM tombstones WHERE revocation_id = ?", [revocation_id]
    ).fetchone()
    return str(row[0])


def purged_everywhere(a: RunningNode, b: RunningNode, record_id: str, word: str) -> None:
    assert statuses(a, record_id) == {b.node_id: "purged"}
    assert b.count("records", "id = ?", [record_id]) == 0
    assert files_with(b.home, word) == []
    assert a.count("outbox") == 0 and b.count("outbox") == 0


async def test_a_lost_outbox_answer_is_handed_out_again_until_the_holder_purges(
    cluster: Cluster, relays: OpenRelay
) -> None:
    """B pulls its outbox at A through the attacker: A handles the pull, the answer is lost."""
    clock = ShiftedClock()
    a, b, record_id, revocation_id, word = await holder_of_a_revoked_lesson(cluster, clock)
    relay = await answer_dropper(relays, a, endpoints.OUTBOX.path)
    route_through(b, a, relay.url)

    report = await cluster.sync(b, a)

    # A handed the revocation out; B never saw it
    assert report.errors and relay.dropped == [endpoints.OUTBOX.path]
    assert b.count("records", "id = ?", [record_id]) == 1
    still_waiting(a, b, revocation_id, attempts=1)

    route_through(b, a, a.url)  # the path is back
    assert (await cluster.sync(b, a)).errors == []

    purged_everywhere(a, b, record_id, word)


async def test_a_lost_receipt_is_answered_again_and_the_holder_treats_the_duplicate_as_done(
    cluster: Cluster, relays: OpenRelay
) -> None:
    """A pushes the revocation to B through the attacker: B purges and answers with its
    receipt, which is lost. A sends again after the backoff; B answers with the same receipt."""
    clock = ShiftedClock()
    a, b, record_id, revocation_id, word = await holder_of_a_revoked_lesson(cluster, clock)
    relay = await answer_dropper(relays, b, endpoints.REVOCATIONS.path)
    route_through(a, b, relay.url)
    peer_b = a.peer(b)
    assert peer_b is not None

    with pytest.raises(PeerUnreachable):
        await push_outbox(cluster.client(a), peer_b, ExchangeReport())

    assert relay.dropped == [endpoints.REVOCATIONS.path]
    assert b.count("records", "id = ?", [record_id]) == 0  # B purged...
    still_waiting(a, b, revocation_id, attempts=1)  # ...but A does not know it
    first_receipt = b.node.db.execute("SELECT receipt_id FROM receipts").fetchone()
    # Not due again before the backoff: an unanswered peer is not hammered.
    assert await push_outbox(cluster.client(a), peer_b, ExchangeReport()) == 0

    clock.advance(FIRST_RETRY_SECONDS)
    route_through(a, b, b.url)
    report = ExchangeReport()
    assert await push_outbox(cluster.client(a), a.peer(b), report) == 1  # type: ignore[arg-type]

    assert report.receipts_received == 1
    assert b.node.db.execute("SELECT receipt_id FROM receipts").fetchone() == first_receipt
    assert b.count("events", "kind = 'record.purged'") == 1  # purged once, answered twice
    purged_everywhere(a, b, record_id, word)
