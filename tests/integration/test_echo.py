"""The signed echo between real nodes on 127.0.0.1: a peer tries the URL it stored for the
asker and signs what it saw (federation/echo.py); ``rhizome doctor`` shows it.

A reaches B both ways; then B's stored URL of A is pointed at a closed port (as when A's
advertised address is wrong or firewalled): B says so, signed. One echo per asker a minute,
and only active peers may ask.
"""

from __future__ import annotations

import pytest

from federation import echo as echo_module
from federation.echo import ECHO_EVERY, ask_echo
from federation.errors import PeerRefused
from node.doctor import FAIL, OK, echo_findings
from tests.integration.conftest import Cluster, RunningNode, free_port
from tests.integration.revocation_helpers import ShiftedClock


async def paired(cluster: Cluster, clock: ShiftedClock | None = None) -> tuple[RunningNode, ...]:
    clock = clock or ShiftedClock()
    a = await cluster.start("Hub A", "East Africa", clock=clock)
    b = await cluster.start("Hub B", "West Africa", clock=clock)
    await cluster.pair(a, b)
    return a, b


def point_at_closed_port(holder: RunningNode, other: RunningNode) -> str:
    """``holder`` now knows ``other`` at an address where nothing listens."""
    closed = f"http://127.0.0.1:{free_port()}"
    holder.node.db.execute("UPDATE peers SET url = ? WHERE node_id = ?", [closed, other.node_id])
    holder.node.db.conn.commit()
    return closed


async def test_a_peer_that_reaches_us_says_so_signed(cluster: Cluster) -> None:
    clock = ShiftedClock()
    a, b = await paired(cluster, clock)
    peer = a.peer(b)
    assert peer is not None

    statement = await ask_echo(cluster.client(a), peer)

    assert (statement.echoer, statement.asker) == (b.node_id, a.node_id)
    assert statement.url == a.url and statement.reached is True
    assert abs(statement.at - a.node.now()) < 60
    clock.advance(ECHO_EVERY + 1)  # one echo a minute
    [finding] = await echo_findings(a.node.local_node(), [peer])
    assert finding.result == OK
    assert finding.detail.startswith(f"Hub B reached you at {a.url}: yes")


async def test_a_peer_that_cannot_reach_us_says_why(cluster: Cluster) -> None:
    a, b = await paired(cluster)
    closed = point_at_closed_port(b, a)
    peer = a.peer(b)
    assert peer is not None

    [finding] = await echo_findings(a.node.local_node(), [peer])

    assert finding.result == FAIL, finding
    assert finding.check == "echo from Hub B"
    assert finding.detail.startswith(f"Hub B reached you at {closed}: no (")
    assert "nothing answers at this address" in finding.detail
    assert "[node] url" in finding.remedy


async def test_one_echo_per_asker_per_minute(cluster: Cluster) -> None:
    clock = ShiftedClock()
    a, b = await paired(cluster, clock)
    peer = a.peer(b)
    assert peer is not None
    assert (await ask_echo(cluster.client(a), peer)).reached

    with pytest.raises(PeerRefused) as refused:
        await ask_echo(cluster.client(a), peer)
    assert refused.value.status == 429
    assert "one echo a minute" in str(refused.value)
    [finding] = await echo_findings(a.node.local_node(), [peer])
    assert finding.result == "warn" and "could not ask Hub B" in finding.detail

    clock.advance(ECHO_EVERY + 1)
    assert (await ask_echo(cluster.client(a), peer)).reached
    assert await cluster.healthy(b)


async def test_a_stranger_gets_no_echo(cluster: Cluster) -> None:
    a, b = await paired(cluster)
    stranger = await cluster.start("Hub C", "South Asia")
    peer_as_seen_by_a = a.peer(b)
    assert peer_as_seen_by_a is not None

    with pytest.raises(PeerRefused) as refused:
        await ask_echo(cluster.client(stranger), peer_as_seen_by_a)

    assert (refused.value.status, refused.value.code) == (403, "not_a_peer")
    assert await cluster.healthy(b)


def test_the_statement_context_is_its_own() -> None:
    assert echo_module.ECHO_CONTEXT == b"rhizome/echo/v1"
