"""What ``serve``'s log tells an operator about peers: a pairing by invite at the inviting
hub, and withdrawals received at a holder (ids and counts, never what a lesson says)."""

from __future__ import annotations

import logging

import pytest

from tests.integration.conftest import Cluster
from tests.integration.test_revocation import (  # noqa: F401 -- net is a fixture
    add,
    all_purged,
    net,
    revoke_at,
    start,
)


def logged(caplog: pytest.LogCaptureFixture, message: str) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.getMessage() == message]


async def test_pairing_and_received_withdrawals_are_logged(
    net: Cluster, caplog: pytest.LogCaptureFixture  # noqa: F811
) -> None:
    caplog.set_level(logging.INFO, logger="rhizome.federation")
    a, b = await start(net, "Hub A", "Hub B")
    await net.pair(a, b)  # B joins with A's invite: A, the inviter, logs it
    assert [record.__dict__["peer"] for record in logged(caplog, "paired by invite")] == [
        b.node_id
    ]
    record = add(a, "Buddy pairs", "Whisper the meeting point.\n")
    assert (await net.sync(b, a)).errors == []
    revoke_at(a, record)
    await all_purged(a, record, [b])
    received = logged(caplog, "withdrawals received")
    assert received, "B did not log the withdrawal it received"
    assert {entry.__dict__["peer"] for entry in received} == {a.node_id}
    assert sum(entry.__dict__["purged"] for entry in received) >= 1
    text = "\n".join(entry.getMessage() + str(entry.__dict__) for entry in caplog.records)
    assert "Whisper" not in text and "Buddy pairs" not in text  # never the lesson itself
