"""Attack: lose the answer that carries the holder's purge receipts, on the wire.

The attacker (or a network that fails at the wrong moment) sits on the path between an
origin and a holder of its lessons, both serving TLS. The origin withdraws several lessons
and hands the holder the revocations; the holder purges and answers with its signed
receipts; the answer is dropped after the holder handled the request. The other way round,
the holder pulls the revocations, purges, and sends its receipts; the origin's answer to
them is dropped.

What must hold: nothing is lost for good. The holder purged once; on the next exchange the
origin gets (or the holder sends again) the very same receipts, the holder treats the
repeated revocation as done, and the origin ends with a signed receipt for every lesson,
every holder shown "purged", and every outbox empty.
"""

from __future__ import annotations

from federation import endpoints
from federation.outbox_state import FIRST_RETRY_SECONDS
from federation.propagation import revoke
from node.tls import server_context
from tests.integration.conftest import Cluster, RunningNode
from tests.integration.revocation_helpers import (
    ShiftedClock,
    admin_actor,
    canary,
    files_with,
    statuses,
)
from tests.wire.paths import pair_through, start_tls
from tests.wire.relay import OpenRelay, Relay, attacker_client_context

LESSONS = 3


async def lossy_path(relays: OpenRelay, target: RunningNode) -> Relay:
    """A path to ``target`` that loses the answers the test chooses. To choose, it must see
    into the stream, so it presents the hub's own certificate (the test holds the hub's
    key; an attacker without it could only cut connections blindly, which loses no more)."""
    return await relays(
        target.port,
        scheme="https",
        client_tls=server_context(target.home, target.node.identity),
        upstream_tls=attacker_client_context(),
    )


async def holder_of_revoked_lessons(
    cluster: Cluster, relays: OpenRelay, clock: ShiftedClock
) -> tuple[RunningNode, RunningNode, Relay, Relay, list[str], str]:
    """Origin A and holder B, paired through relays; B holds three lessons of A that A has
    just revoked. Returns A, B, the relays to A and to B, the record ids and a canary word."""
    a = await start_tls(cluster, "Hub A", clock=clock)
    b = await start_tls(cluster, "Hub B", clock=clock)
    to_a = await lossy_path(relays, a)
    to_b = await lossy_path(relays, b)
    await pair_through(cluster, a, b, to_a, to_b)
    word = canary()
    records = [a.add(f"Route {n}", f"Ask for {word} at door {n}.\n") for n in range(LESSONS)]
    assert (await cluster.sync(b, a)).errors == []
    assert all(b.has(record) for record in records)
    for record in records:
        revoke(a.node.local_node(), record.id_hex, admin_actor(a.node), "safety", None)
    return a, b, to_a, to_b, [record.id_hex for record in records], word


def receipts_at(running: RunningNode) -> set[str]:
    rows = running.node.db.execute("SELECT receipt_id FROM receipts").fetchall()
    return {str(row[0]) for row in rows}


def purged_everywhere(a: RunningNode, b: RunningNode, record_ids: list[str], word: str) -> None:
    for record_id in record_ids:
        assert statuses(a, record_id) == {b.node_id: "purged"}
        assert b.count("records", "id = ?", [record_id]) == 0
    assert files_with(b.home, word) == []
    assert b.count("events", "kind = 'record.purged'") == LESSONS  # purged once each
    assert a.count("outbox") == 0 and b.count("outbox") == 0


async def test_receipts_lost_on_the_way_back_reach_the_origin_on_the_next_exchange(
    cluster: Cluster, relays: OpenRelay
) -> None:
    clock = ShiftedClock()
    a, b, _, to_b, record_ids, word = await holder_of_revoked_lessons(cluster, relays, clock)
    to_b.drop_answer(endpoints.REVOCATIONS.path)

    report = await cluster.sync(a, b)  # A hands B the revocations; B's receipts are lost

    assert report.errors and to_b.dropped == [endpoints.REVOCATIONS.path]
    assert all(b.count("records", "id = ?", [record_id]) == 0 for record_id in record_ids)
    assert all(statuses(a, record_id) == {b.node_id: "pending"} for record_id in record_ids)
    assert receipts_at(a) == set()
    issued = receipts_at(b)
    assert len(issued) == LESSONS

    clock.advance(FIRST_RETRY_SECONDS)  # due again after the backoff
    assert (await cluster.sync(a, b)).errors == []

    assert receipts_at(a) == issued  # the very receipts B signed the first time
    purged_everywhere(a, b, record_ids, word)


async def test_an_ack_lost_on_the_way_back_loses_nothing_the_origin_stored_the_receipts(
    cluster: Cluster, relays: OpenRelay
) -> None:
    clock = ShiftedClock()
    a, b, to_a, _, record_ids, word = await holder_of_revoked_lessons(cluster, relays, clock)
    to_a.drop_answer(endpoints.RECEIPTS.path)

    report = await cluster.sync(b, a)  # B pulls, purges, sends receipts; A's ack is lost

    assert report.errors and to_a.dropped == [endpoints.RECEIPTS.path]
    issued = receipts_at(b)
    assert len(issued) == LESSONS and receipts_at(a) == issued  # A stored them, and with
    purged_everywhere(a, b, record_ids, word)  # them its revocations left its outbox

    clock.advance(FIRST_RETRY_SECONDS)
    assert (await cluster.sync(b, a)).errors == []  # the next exchange has nothing to redo

    assert receipts_at(a) == issued
    purged_everywhere(a, b, record_ids, word)
