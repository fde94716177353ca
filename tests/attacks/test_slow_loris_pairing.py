"""Strangers hold the pairing route with slow connections so no real hub can pair.

The attacker opens connections to ``/federation/v1/pair`` and dribbles them: a body a byte at
a time, or the request head itself a byte at a time; one attacker even holds a real invite
and dribbles from several connections. What must hold: a stranger without a live invite is
refused before its body is read and never holds a pairing slot; a slow head is cut off by
the head deadline; an invite holder gets one slot per address and per invite and is cut off
by the short pairing body deadline; and meanwhile a real hub pairs at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator

import pytest

from federation.invites import decode_invite
from federation.pairing import INVITE_HEADER
from node.web import edge
from tests.attacks.raw_http import LOOPBACK, read_answer, request_head
from tests.integration.conftest import Cluster, RunningNode
from tests.tls_helpers import any_node_tls

PAIR = "/federation/v1/pair"


@contextlib.asynccontextmanager
async def dribbling(
    port: int, headers: dict[str, str], *, address: str = "127.0.0.2", head_too: bool = False
) -> AsyncIterator[asyncio.Task[tuple[int, dict[str, str], bytes]]]:
    """A connection that sends a pairing request one byte every 0.1 s (only the body, or the
    head too); yields the task that reads the server's answer."""
    reader, writer = await asyncio.open_connection(
        LOOPBACK, port, ssl=any_node_tls(), local_addr=(address, 0)
    )
    head = request_head(
        port, "POST", PAIR,
        {"Content-Type": "application/msgpack", "Content-Length": "1000", **headers},
    )  # fmt: skip

    async def dribble() -> None:
        if not head_too:
            writer.write(head)
        for byte in (head if head_too else b"") + bytes(1000):
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.1)

    sending = asyncio.create_task(dribble())
    answer = asyncio.create_task(read_answer(reader))
    try:
        yield answer
    finally:
        for task in (sending, answer):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError, OSError, EOFError):
                await task
        writer.transport.abort()


async def pair_while(cluster: Cluster, inviter: RunningNode, joiner: RunningNode) -> None:
    async with asyncio.timeout(10):
        peer = await cluster.pair(inviter, joiner)
    assert peer.status == "active" and inviter.peer(joiner) is not None


async def test_strangers_without_an_invite_never_hold_a_slot(cluster: Cluster) -> None:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    no_invite: dict[str, str] = {}
    forged = {INVITE_HEADER: os.urandom(32).hex()}
    async with contextlib.AsyncExitStack() as stack:
        answers = [
            await stack.enter_async_context(
                dribbling(a.port, no_invite if n % 2 else forged, address=f"127.0.0.{2 + n}")
            )
            for n in range(8)
        ]
        async with asyncio.timeout(10):
            refused = await asyncio.gather(*answers)

        await pair_while(cluster, a, b)

    assert [status for status, _, _ in refused] == [403] * 8
    assert all(b'"invalid_invite"' in body for _, _, body in refused)


async def test_a_slow_head_is_cut_off(cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(edge, "HEAD_DEADLINE", 1.0)  # the real one is 20 s; same mechanism
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    async with contextlib.AsyncExitStack() as stack:
        answers = [
            await stack.enter_async_context(dribbling(a.port, {}, head_too=True)) for _ in range(8)
        ]
        await pair_while(cluster, a, b)
        async with asyncio.timeout(10):
            cut = await asyncio.gather(*answers, return_exceptions=True)

    # The server hung up without an answer: the head never completed.
    assert all(isinstance(outcome, asyncio.IncompleteReadError) for outcome in cut), cut


async def test_an_invite_holder_gets_one_slot_and_a_short_deadline(cluster: Cluster) -> None:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    stolen = {INVITE_HEADER: decode_invite(cluster.invite(a)).invite_id.hex()}
    async with contextlib.AsyncExitStack() as stack:
        answers = [await stack.enter_async_context(dribbling(a.port, stolen)) for _ in range(4)]
        await asyncio.sleep(0.5)  # let every head arrive; the holder keeps dribbling

        await pair_while(cluster, a, b)  # another invite, another address: not blocked

        still_dribbling = [answer for answer in answers if not answer.done()]
        async with asyncio.timeout(10):
            outcomes = await asyncio.gather(*answers)

    assert len(still_dribbling) == 1  # B paired while the holder had its slot
    assert sorted(status for status, _, _ in outcomes) == [429, 429, 429, 503]
    assert b'"deadline_exceeded"' in max(outcomes)[2]
    assert a.count("peers") == 1  # only B
