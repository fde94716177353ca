"""A record relayed after its origin rotated (issue 15): A rotates, B learns it, C gets A's
new record through B before C knows A's rotation. C holds the record (not stored, B not
struck), learns A's key history from B, and takes the record. The attack side (a relay that
hides behind this) is tests/attacks/test_forged_relayed_key.py."""

from __future__ import annotations

from tests.integration.conftest import Cluster, RunningNode
from tests.integration.key_helpers import give_genesis, history_at, rotated, statements_at


async def chain(cluster: Cluster) -> tuple[RunningNode, RunningNode, RunningNode]:
    """A - B - C: A and C never meet; A has a key history and shares with reshare."""
    a = await cluster.start("Hub A", "East Africa")
    b = await cluster.start("Hub B", "West Africa")
    c = await cluster.start("Hub C", "South Asia")
    await cluster.pair(a, b)
    await cluster.pair(b, c)
    give_genesis(a)
    return a, b, c


async def test_a_record_relayed_after_its_origin_rotated_is_learnt_not_struck(
    cluster: Cluster,
) -> None:
    a, b, c = await chain(cluster)
    before = a.add("Before the rotation", reshare=True)
    assert (await cluster.sync(b, a)).errors == []
    assert (await cluster.sync(c, b)).errors == []
    assert c.has(before)

    a, change = await rotated(cluster, a)
    after = a.add("After the rotation", reshare=True)
    assert (await cluster.sync(a, b)).errors == []  # B learns the rotation, then the record
    assert b.has(after) and statements_at(c, a) == 0  # C knows nothing of it yet

    report = await cluster.sync(c, b)

    assert report.errors == [] and report.rejected == 0 and report.received == 1
    assert c.has(after)
    assert c.count("strikes") == 0 and c.peer(b).strikes == 0  # type: ignore[union-attr]
    assert history_at(c, a).current_key == change.statement.key  # learnt from the relay
    assert c.row(after)["quarantined"] == 0
