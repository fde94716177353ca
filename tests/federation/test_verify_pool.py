"""Records opened on the second core are held to every check of the writer's own path.

The verifier process (federation/verify_pool.py) verifies and decodes a fetched batch while
the writer thread stores the one before. It has no database, so whether the signing key
spoke for the origin stays the writer's question: a record the process opened is still
refused, with a strike, when the key history says no. These tests run the real process.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

from archive.key_store import record_key_check
from archive.signed_record import open_record
from crypto.errors import RhizomeError
from federation import verify_pool
from federation.receiving import Receiver
from federation.verify_pool import MIN_POOL_BATCH, WHERE, Opened, open_elsewhere
from node.node import Node
from tests.federation.test_sharing import (
    add,
    count,
    flip_signature,
    forged_origin,
    hubs,
    peer_of,
    strikes,
)

__all__ = ["hubs"]  # the fixture, shared with test_sharing


def writer_words(here: Node, raw: bytes) -> str:
    """What the writer thread's own path says of a bad envelope."""
    try:
        open_record(raw, WHERE, record_key_check(here.db))
    except RhizomeError as error:
        return f"bad_record: {error}"
    raise AssertionError("the envelope opened")


async def test_a_record_the_process_opened_is_still_refused_when_its_key_is_not_the_origins(
    hubs: dict[str, Node],
) -> None:
    nairobi, lima, quito = hubs["nairobi"], hubs["lima"], hubs["quito"]
    good = [add(nairobi, f"Good {n}").envelope for n in range(MIN_POOL_BATCH)]
    forged = forged_origin(nairobi, quito)  # signed by Nairobi, naming Quito as its origin
    damaged = flip_signature(good[0])
    batch = [*good, forged, damaged, b"\x00junk"]

    opened = await open_elsewhere(batch)

    assert opened is not None  # the process opened them
    assert isinstance(opened[len(good)], Opened)  # it cannot know whose key that is
    assert all(isinstance(verdict, str) for verdict in opened[-2:])
    receiver = Receiver.of(lima.local_node())
    # First the key history of a third node's record is unknown: held, nothing stored.
    held = receiver.receive([forged], peer_of(lima, nairobi), opened=opened[len(good):][:1])
    assert held.held == [(quito.public_key, forged)] and held.stored == held.rejected == []
    # Once the sync has learnt what histories it could, the key still does not speak for it.
    receiver = dataclasses.replace(receiver, hold_unknown_keys=False)
    result = receiver.receive(batch, peer_of(lima, nairobi), opened=opened)
    assert len(result.stored) == len(good)
    assert result.rejected == [(None, writer_words(lima, raw)) for raw in batch[len(good):]]
    assert "not signed by the node it names" in result.rejected[0][1]
    assert [reason for reason, _ in strikes(lima, nairobi)] == [r for _, r in result.rejected]
    assert count(lima.db, "records") == len(good)


async def test_a_few_records_are_opened_by_the_writer_itself(hubs: dict[str, Node]) -> None:
    few = [add(hubs["nairobi"], f"Lesson {n}").envelope for n in range(MIN_POOL_BATCH - 1)]
    assert await open_elsewhere(few) is None


def test_verdicts_that_do_not_match_the_batch_are_not_used(hubs: dict[str, Node]) -> None:
    """Verdicts for another batch (one fewer) are ignored: the writer opens every envelope
    itself, so a bad one is refused whatever the verdicts said."""
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    good = add(nairobi, "Good")
    damaged = flip_signature(good.envelope)
    wrong = verify_pool.open_batch([good.envelope])  # one verdict for two envelopes
    receiver = Receiver.of(lima.local_node())
    result = receiver.receive([damaged, good.envelope], peer_of(lima, nairobi), opened=wrong)
    assert result.stored == [good.id_hex]
    assert result.rejected == [(None, writer_words(lima, damaged))]


async def test_a_verifier_that_died_is_replaced_and_the_writer_opens_that_batch(
    hubs: dict[str, Node],
) -> None:
    batch = [add(hubs["nairobi"], f"Lesson {n}").envelope for n in range(MIN_POOL_BATCH)]
    assert await open_elsewhere(batch) is not None
    pool = verify_pool._verifiers()
    for process in list(pool._processes.values()):  # killed, as the OOM killer would
        process.kill()
        process.join()

    assert await open_elsewhere(batch) is None  # that batch: the writer's
    again = await open_elsewhere(batch)  # the next: a new process
    assert again is not None and all(isinstance(verdict, Opened) for verdict in again)
    assert verify_pool._verifiers() is not pool


NODE_WITH_A_VERIFIER = """
import asyncio, os, sys, time
from federation import verify_pool
verdicts = asyncio.run(verify_pool.open_elsewhere([b"not a record"] * verify_pool.MIN_POOL_BATCH))
assert verdicts is not None and all(isinstance(v, str) for v in verdicts)
print(" ".join(str(pid) for pid in verify_pool._pool._processes), flush=True)
time.sleep(600)
"""


def test_a_verifier_exits_when_its_node_is_killed(tmp_path: Path) -> None:
    # A node killed with kill -9 cannot stop its pool; its verifier must not live on (it
    # would keep the node's standard output open and hold memory for nothing).
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    node = subprocess.Popen(
        [sys.executable, "-c", NODE_WITH_A_VERIFIER],
        stdout=subprocess.PIPE, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert node.stdout is not None
    verifiers = [int(pid) for pid in node.stdout.readline().split()]
    assert len(verifiers) == verify_pool.VERIFIERS
    node.kill()
    node.wait(timeout=30)
    # Every writer of the node's standard output is gone once it reads to its end.
    rest, _ = node.communicate(timeout=30)
    assert rest == b""
    assert [pid for pid in verifiers if _running(pid)] == []


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting for whoever adopted it to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"
