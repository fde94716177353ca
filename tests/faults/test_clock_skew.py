"""Clocks that disagree between two nodes.

Federation requests are signed with the sender's clock and checked against the receiver's
(``crypto.http_signatures.DEFAULT_MAX_SKEW``). Within that tolerance sync and revocation
work in both directions; a clock off by hours gets a clear error naming the clock (not a
strike, not a lost withdrawal), and once the clock is right again everything goes through.
"""

from __future__ import annotations

import random

from crypto.http_signatures import DEFAULT_MAX_SKEW
from federation.propagation import revoke
from tests.integration.conftest import Cluster
from tests.integration.revocation_helpers import ShiftedClock, admin_actor, statuses

HOURS = 3600


async def test_sync_and_revocation_work_within_the_tolerance(
    cluster: Cluster, rng: random.Random
) -> None:
    ahead, behind = ShiftedClock(), ShiftedClock()
    a = await cluster.start("Hub A", clock=ahead)
    b = await cluster.start("Hub B", clock=behind)
    await cluster.pair(a, b)
    skew = rng.randint(DEFAULT_MAX_SKEW // 2, DEFAULT_MAX_SKEW - 30)  # 30 s for the test's run
    ahead.advance(skew / 2)
    behind.advance(-skew / 2)
    record = a.add("Checklist", "Bring water.\n")
    assert (await cluster.sync(b, a)).errors == []
    assert b.has(record)
    revoke(a.node.local_node(), record.id_hex, admin_actor(a.node), "consent-withdrawn", None)
    assert (await cluster.sync(a, b)).errors == []
    assert not b.has(record)
    assert statuses(a, record.id_hex) == {b.node_id: "purged"}


async def test_a_clock_off_by_hours_is_a_clear_error_and_nothing_is_lost(
    cluster: Cluster, rng: random.Random
) -> None:
    clock = ShiftedClock()
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B", clock=clock)
    await cluster.pair(a, b)
    record = a.add("Checklist", "Bring water.\n")
    assert (await cluster.sync(b, a)).errors == []
    strikes = a.count("strikes"), b.count("strikes")

    off = rng.choice((-1, 1)) * rng.randint(1, 12) * HOURS
    clock.advance(off)
    revoke(a.node.local_node(), record.id_hex, admin_actor(a.node), "consent-withdrawn", None)
    for initiator, other in ((a, b), (b, a)):
        report = await cluster.sync(initiator, other)
        assert report.errors, f"{initiator.name}: a sync {off} s off must not pass"
        assert any("clock" in error for error in report.errors), report.errors
    assert b.has(record), "the revocation cannot reach B yet"
    assert a.count("outbox", "peer_id = ?", [b.node_id]) == 1, "and it waits, not lost"
    assert statuses(a, record.id_hex) == {b.node_id: "pending"}

    clock.advance(-off)  # the operator fixes B's clock
    assert (await cluster.sync(a, b)).errors == []
    assert not b.has(record)
    assert statuses(a, record.id_hex) == {b.node_id: "purged"}
    assert (a.count("strikes"), b.count("strikes")) == strikes, "a wrong clock is no strike"
