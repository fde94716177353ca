"""A sync whose own database refuses writes still ends in a report, never an exception.

The database is made read-only for real (``PRAGMA query_only`` on the node's own
connection and on those its worker threads open): the sync's error path cannot even note
the failure, and must say why the exchange failed all the same, logging that the note could
not be written.
"""

from __future__ import annotations

import logging

import pytest
import sqlite_utils

from federation.sync import sync_with_peer
from tests.integration.conftest import Cluster, RunningNode


async def paired(cluster: Cluster) -> tuple[RunningNode, RunningNode]:
    a = await cluster.start("Hub A", "East Africa")
    b = await cluster.start("Hub B", "West Africa")
    await cluster.pair(a, b)
    return a, b


def refuse_writes(running: RunningNode) -> None:
    """The node's own connection and every connection its worker threads open refuse
    writes (sync stores and notes in worker threads, each on a connection of its own)."""
    running.node.db.execute("PRAGMA query_only = ON")
    opened = running.node.open_connection

    def read_only() -> sqlite_utils.Database:
        db = opened()
        db.execute("PRAGMA query_only = ON")
        return db

    running.node.open_connection = read_only  # type: ignore[method-assign]


async def test_an_unreachable_peer_is_reported_when_the_database_refuses_to_note_it(
    cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    a, b = await paired(cluster)
    peer = a.peer(b)
    assert peer is not None
    await cluster.stop(b)
    history_before = a.count("peer_exchanges")
    refuse_writes(a)

    with caplog.at_level(logging.WARNING, logger="rhizome.federation"):
        report = await sync_with_peer(cluster.client(a), peer)

    assert len(report.errors) == 1
    assert "nothing answers at this address" in report.errors[0]  # the original error
    assert "could not note the sync" in caplog.text
    assert "readonly" in caplog.text
    assert a.count("peer_exchanges") == history_before  # nothing was written


async def test_a_database_refusing_writes_mid_sync_is_reported(
    cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    a, b = await paired(cluster)
    b.add("From B")
    refuse_writes(a)

    with caplog.at_level(logging.WARNING, logger="rhizome.federation"):
        report = await cluster.sync(a, b)

    assert report.errors and "readonly" in report.errors[0]
    assert report.received == 0
    assert "could not note the sync" in caplog.text
    # The node keeps serving, and syncs again once its database accepts writes.
    a.node.db.execute("PRAGMA query_only = OFF")
    del a.node.open_connection  # the node's own method again: connections that write
    assert await cluster.healthy(a)
    again = await cluster.sync(a, b)
    assert again.errors == [] and again.received == 1
