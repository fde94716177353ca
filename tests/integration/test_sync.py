"""Syncing real nodes over HTTP: both ways, idempotent, consent-scoped, resumable.

Every test runs real servers on 127.0.0.1. The only stand-in is a ``PeerClient`` subclass
in the interruption tests, which drops the connection at a chosen moment (the transport).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from archive.signed_record import SignedRecord, open_record
from federation import endpoints
from federation.client import PeerClient
from federation.endpoints import Endpoint, wire
from federation.errors import PeerRefused, PeerUnreachable
from federation.local import LocalNode
from federation.peers import change_peer_status
from federation.sync import sync_with_peer
from tests.integration.conftest import Cluster, RunningNode, files_containing


async def paired(cluster: Cluster) -> tuple[RunningNode, RunningNode]:
    a = await cluster.start("Hub A", "East Africa")
    b = await cluster.start("Hub B", "West Africa")
    await cluster.pair(a, b)
    return a, b


def assert_clean(report: Any, received: int, sent: int) -> None:
    assert report.errors == []
    assert (report.received, report.sent, report.rejected) == (received, sent, 0)


# ---- both ways, once ----------------------------------------------------------------------


async def test_one_exchange_moves_records_both_ways(cluster: Cluster) -> None:
    a, b = await paired(cluster)
    from_a = [a.add("From A one"), a.add("From A two")]
    from_b = b.add("From B")

    report = await cluster.sync(b, a)

    assert_clean(report, received=2, sent=1)
    assert all(b.has(record) for record in from_a)
    assert a.has(from_b)
    assert b.row(from_a[0])["received_from"] == a.node_id
    assert a.row(from_b)["received_from"] == b.node_id
    assert a.count("deliveries", "peer_id = ? AND direction = 'sent'", [b.node_id]) == 2
    assert a.count("deliveries", "peer_id = ? AND direction = 'received'", [b.node_id]) == 1
    seen = b.peer(a)
    assert seen is not None and seen.last_sync is not None and seen.last_error is None


async def test_a_second_sync_moves_nothing(cluster: Cluster) -> None:
    a, b = await paired(cluster)
    a.add_many(5, "From A")
    b.add_many(3, "From B")
    assert_clean(await cluster.sync(b, a), received=5, sent=3)
    records_before = (a.count("records"), b.count("records"))

    assert_clean(await cluster.sync(b, a), received=0, sent=0)
    assert_clean(await cluster.sync(a, b), received=0, sent=0)

    assert (a.count("records"), b.count("records")) == records_before == (8, 8)


async def test_a_peer_may_sync_again_and_again(cluster: Cluster) -> None:
    """Operators run `rhizome sync` whenever they like, and news makes nodes pull at once:
    a finished exchange must not count against the next one."""
    a, b = await paired(cluster)
    for round_number in range(4):
        record = a.add(f"News {round_number}")

        assert_clean(await cluster.sync(b, a), received=1, sent=0)

        assert b.has(record)


# ---- what may leave, and to whom ----------------------------------------------------------


async def test_a_peer_scoped_record_reaches_only_the_named_peer(cluster: Cluster) -> None:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    c = await cluster.start("Hub C")
    await cluster.pair(a, b)
    await cluster.pair(a, c)
    for_b = a.add("For B only", scope="peers", peers=[b.node_id])
    for_all = a.add("For every peer")

    for initiator, other in ((b, a), (c, a), (a, b), (a, c)):
        assert (await cluster.sync(initiator, other)).errors == []

    assert b.has(for_b) and b.has(for_all)
    assert c.has(for_all)
    assert not c.has(for_b)
    # Not even its id reached C (reconciliation only offers what C may have).
    assert files_containing(c.home, for_b.record_id) == []
    assert files_containing(c.home, for_b.id_hex.encode()) == []


async def test_local_only_records_never_leave(cluster: Cluster) -> None:
    a, b = await paired(cluster)
    canaries = {
        "scope local": "canary-7f3e1c-scope-local",
        "notice only": "canary-2b9d44-notice-only",
        "no consent": "canary-c01a5e-no-consent",
    }
    withheld = [
        a.add(f"Title {canaries['scope local']}", f"{canaries['scope local']}\n", scope="local"),
        a.add("Notice", f"Body {canaries['notice only']}\n", basis="notice"),
        a.add("Nothing recorded", f"Body {canaries['no consent']}\n", basis="none"),
    ]
    shared = a.add("Shared", "Everyone may read this.\n")

    assert_clean(await cluster.sync(b, a), received=1, sent=0)
    assert_clean(await cluster.sync(a, b), received=0, sent=0)

    assert b.has(shared)
    for record in withheld:
        assert not b.has(record)
        assert files_containing(b.home, record.record_id) == []
        assert files_containing(b.home, record.id_hex.encode()) == []
    for canary in canaries.values():
        assert files_containing(a.home, canary.encode()), "the search must see A's own copy"
        assert files_containing(b.home, canary.encode()) == []


async def test_high_sensitivity_records_stay_home(cluster: Cluster) -> None:
    a, b = await paired(cluster)
    high = a.add("Safe houses", "canary-5e6f-high\n", sensitivity="high")
    low = a.add("Route notes", sensitivity="low")

    assert_clean(await cluster.sync(b, a), received=1, sent=0)
    assert_clean(await cluster.sync(a, b), received=0, sent=0)

    assert b.has(low)
    assert not b.has(high)
    assert files_containing(b.home, b"canary-5e6f-high") == []


# ---- suspended and removed peers ----------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "needle"),
    [("suspend", "has suspended you"), ("remove", "does not know you as a peer")],
)
async def test_a_peer_we_stopped_trusting_is_refused(
    cluster: Cluster, event: str, needle: str
) -> None:
    a, b = await paired(cluster)
    from_a, from_b = a.add("From A"), b.add("From B")
    change_peer_status(a.node.db, b.node_id, event)

    report = await cluster.sync(b, a)

    assert report.received == report.sent == 0
    assert len(report.errors) == 1
    assert "403" in report.errors[0] and needle in report.errors[0]
    assert not b.has(from_a) and not a.has(from_b)
    seen = b.peer(a)
    assert seen is not None and seen.last_error == report.errors[0]
    with pytest.raises(PeerRefused) as refused:
        await cluster.client(b).call(
            endpoints.FETCH,
            {"ids": [from_a.record_id]},
            recipient=a.node_id,
            base_url=a.url,
        )  # fmt: skip
    assert (refused.value.status, refused.value.code) == (403, "not_a_peer")
    assert await cluster.healthy(a)


async def test_syncing_with_a_peer_we_suspended_moves_nothing_and_blames_no_one(
    cluster: Cluster,
) -> None:
    """Our own suspension must stop our own sync too, not punish the peer for answering."""
    a, b = await paired(cluster)
    from_a, from_b = a.add("From A"), b.add("From B")
    change_peer_status(a.node.db, b.node_id, "suspend")

    await cluster.sync(a, b)

    assert not b.has(from_a) and not a.has(from_b)
    suspended = a.peer(b)
    assert suspended is not None and suspended.strikes == 0
    assert a.count("strikes") == 0


# ---- reshare along a chain ----------------------------------------------------------------


async def test_reshare_carries_a_record_along_a_chain_with_its_origin(cluster: Cluster) -> None:
    a = await cluster.start("Hub A", "East Africa")
    b = await cluster.start("Hub B", "West Africa")
    c = await cluster.start("Hub C", "South Asia")
    await cluster.pair(a, b)
    await cluster.pair(b, c)  # A and C never meet
    may_pass = a.add("Pass it on", reshare=True)
    stays = a.add("For B only to keep", reshare=False)

    assert_clean(await cluster.sync(b, a), received=2, sent=0)
    assert_clean(await cluster.sync(c, b), received=1, sent=0)
    assert_clean(await cluster.sync(b, c), received=0, sent=0)

    assert c.has(may_pass) and not c.has(stays)
    row = c.row(may_pass)
    assert row["origin"] == a.node_id
    assert row["received_from"] == b.node_id
    reopened = open_record(bytes(row["envelope"]))
    assert reopened.lesson.origin_id == a.node_id and reopened.id_hex == may_pass.id_hex
    assert files_containing(c.home, stays.record_id) == []


# ---- interruption and resume --------------------------------------------------------------


class DroppingClient(PeerClient):
    """A transport that loses the connection after ``fetches`` fetch answers (None: never),
    and remembers every id it asked for."""

    def __init__(self, local: LocalNode, session: Any, fetches: int | None = None) -> None:
        super().__init__(local, session)
        self.fetches_left = fetches
        self.asked: list[bytes] = []
        self.dropped = asyncio.Event()

    async def call(
        self, endpoint: Endpoint, values: dict[str, Any], **options: Any
    ) -> dict[str, Any]:
        if endpoint == endpoints.FETCH:
            if self.fetches_left == 0:
                self.dropped.set()
                await self.on_drop(options["base_url"])
            if self.fetches_left is not None:
                self.fetches_left -= 1
            self.asked += values["ids"]
        return await super().call(endpoint, values, **options)

    async def on_drop(self, base_url: str) -> None:
        raise PeerUnreachable(f"{base_url}: no answer (ConnectionResetError)")


class HangingClient(DroppingClient):
    """Instead of failing, the connection stalls until the sync is cancelled."""

    async def on_drop(self, base_url: str) -> None:
        await asyncio.Event().wait()


async def big_pair(cluster: Cluster) -> tuple[RunningNode, RunningNode, list[SignedRecord]]:
    a, b = await paired(cluster)
    records = a.add_many(600, "Drill")
    return a, b, records


async def resume_and_check(
    cluster: Cluster, a: RunningNode, b: RunningNode, records: list[SignedRecord]
) -> None:
    """After one batch (250) arrived: the next sync brings exactly the other 350."""
    assert b.count("records") == 250
    already = {row[0] for row in b.node.db.execute("SELECT id FROM records")}
    peer = b.peer(a)
    assert peer is not None and peer.status == "active"
    resumed = DroppingClient(b.node.local_node(), cluster.session)

    report = await sync_with_peer(resumed, peer)

    assert_clean(report, received=350, sent=0)
    assert len(resumed.asked) == 350
    assert not {raw.hex() for raw in resumed.asked} & already
    assert all(b.has(record) for record in records)


async def test_an_interrupted_sync_keeps_its_batches_and_resumes(cluster: Cluster) -> None:
    a, b, records = await big_pair(cluster)
    peer = b.peer(a)
    assert peer is not None
    dropping = DroppingClient(b.node.local_node(), cluster.session, fetches=1)

    report = await sync_with_peer(dropping, peer)

    assert dropping.dropped.is_set()
    assert report.received == 250
    assert len(report.errors) == 1 and "no answer" in report.errors[0]
    seen = b.peer(a)
    assert seen is not None and seen.last_error == report.errors[0]
    await resume_and_check(cluster, a, b, records)


async def test_a_cancelled_sync_keeps_its_batches_and_resumes(cluster: Cluster) -> None:
    a, b, records = await big_pair(cluster)
    peer = b.peer(a)
    assert peer is not None
    hanging = HangingClient(b.node.local_node(), cluster.session, fetches=1)
    task = asyncio.create_task(sync_with_peer(hanging, peer))
    await asyncio.wait_for(hanging.dropped.wait(), timeout=10)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert not b.node.db.conn.in_transaction
    await resume_and_check(cluster, a, b, records)


# ---- bodies in pieces, large records ------------------------------------------------------


async def test_sync_over_a_slow_link_moves_every_record(cluster: Cluster, slow_link: Any) -> None:
    """Bodies of a few hundred kilobytes reach each side in many small reads."""
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    link = await slow_link(a.port)
    await cluster.join(b, cluster.invite(a, url=link.url))  # B reaches A through the link
    seen = b.peer(a)
    assert seen is not None and seen.url == link.url
    a.add_many(150, "From A", padding=2000)
    b.add_many(150, "From B", padding=2000)

    assert_clean(await cluster.sync(b, a), received=150, sent=150)
    assert a.count("records") == b.count("records") == 300


LARGE_BODY = 250_000  # under the 256 KiB lesson body limit
LARGE_COUNT = 72  # together over federation.wire.MAX_BODY_BYTES (16 MiB)


async def test_large_lessons_are_fetched_however_many_fill_a_batch(cluster: Cluster) -> None:
    assert LARGE_BODY * LARGE_COUNT > wire.MAX_BODY_BYTES
    a, b = await paired(cluster)
    a.add_many(LARGE_COUNT, "Long module", padding=LARGE_BODY)

    assert_clean(await cluster.sync(b, a), received=LARGE_COUNT, sent=0)


async def test_large_lessons_are_pushed_however_many_fill_a_batch(cluster: Cluster) -> None:
    a, b = await paired(cluster)
    b.add_many(LARGE_COUNT, "Long module", padding=LARGE_BODY)

    assert_clean(await cluster.sync(b, a), received=0, sent=LARGE_COUNT)


async def test_reconcile_refuses_a_peer_it_does_not_know(cluster: Cluster) -> None:
    """A node that was never paired learns nothing, not even that records exist."""
    a = await cluster.start("Hub A")
    stranger = await cluster.start("Hub X")
    a.add("Shared with peers")

    with pytest.raises(PeerRefused) as refused:
        await cluster.client(stranger).call(
            endpoints.RECONCILE,
            {"session": "s1", "msg": b"\x61"},
            recipient=a.node_id,
            base_url=a.url,
        )  # fmt: skip
    assert (refused.value.status, refused.value.code) == (403, "not_a_peer")
    assert stranger.count("records") == 0
