"""Consent revocation between real nodes on 127.0.0.1 (issue 5).

Every node serves ``create_app(node, background_sync=True)``, as ``rhizome serve`` does, so
the outbox loop delivers revocations and receipts and the expiry loop withdraws what ran
out: after the revocation nobody calls ``sync`` by hand unless the test says so. Purge is
tested the hard way: a unique canary word in a lesson's body, then every file of every node
home is read as bytes (database, ``-wal``, ``-shm``, keys, everything).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import AsyncIterator

import pytest

from archive.record import Consent, Subject
from archive.signed_record import SignedRecord
from archive.tombstones import is_tombstoned, tombstone_of
from federation import background, endpoints, wire
from federation.local import Clock
from federation.propagation import revoke
from federation.revocation import (
    Revocation,
    issue_revocation,
    open_receipt,
    open_revocation,
)
from governance.decision_log import recent_decisions
from node.home import HomePaths, create_member
from tests.conftest import ManualLoopClock
from tests.integration.conftest import Cluster, RunningNode, bound_socket
from tests.integration.revocation_helpers import (
    REVOCATION_TABLES,
    ShiftedClock,
    admin_actor,
    canary,
    copy_home,
    dead_loops,
    eventually,
    files_with,
    port_socket,
    restart,
    rhizome,
    serve,
    signed_post,
    statuses,
    table_counts,
    verify_problems,
)

RECEIPT_DEADLINE = 5.0


STOP_DEADLINE = 60


@pytest.fixture
async def net(cluster: Cluster) -> AsyncIterator[Cluster]:
    """The cluster, shut down so that one node failing to stop (a background loop that died
    with an error) still lets every other node stop, and the error is reported."""
    yield cluster
    await cluster.session.close()
    errors = []
    for running in list(reversed(cluster.nodes)):
        try:
            # In a task of its own: stopping inline in the fixture's finalizer task could
            # hang after a test restarted a node (pytest-asyncio runs finalizers in a copied
            # context); the node itself stops promptly either way.
            await asyncio.wait_for(asyncio.create_task(cluster.stop(running)), STOP_DEADLINE)
        except Exception as error:  # reported below, after every node is down
            errors.append(f"{running.name}: {error!r}")
    assert not errors, f"nodes did not stop cleanly: {errors}"


async def start(
    net: Cluster,
    *names: str,
    clock: Clock = time.time,
    loop_clock: ManualLoopClock | None = None,
) -> list[RunningNode]:
    """Nodes on fresh homes, each serving with its background sync on (its loops sleeping on
    ``loop_clock`` when given: then they run only when the test turns it)."""
    return [
        await net.start(name, background_sync=True, clock=clock, loop_clock=loop_clock)
        for name in names
    ]


def add(origin: RunningNode, title: str, body: str, *, reshare: bool = True) -> SignedRecord:
    return origin.add(title, body, reshare=reshare)


def revoke_at(
    origin: RunningNode, record: SignedRecord, reason: str = "consent-withdrawn"
) -> Revocation:
    """What ``rhizome revoke`` does, as the admin, on the server's own database connection."""
    return revoke(origin.node.local_node(), record.id_hex, admin_actor(origin.node), reason, None)


async def all_purged(
    origin: RunningNode,
    record: SignedRecord,
    holders: list[RunningNode],
    loop_clock: ManualLoopClock | None = None,
) -> None:
    """Wait for a signed purge receipt from each holder at the origin; fail at once if a
    background loop of any running node died (nothing would deliver anything then)."""
    expected = {holder.node_id: "purged" for holder in holders}

    def done() -> bool:
        for running in (origin, *holders):
            assert not dead_loops(running), f"{running.name}: {dead_loops(running)}"
        return statuses(origin, record.id_hex) == expected

    await eventually(
        done,
        f"purge receipts from {[holder.name for holder in holders]} at {origin.name}",
        RECEIPT_DEADLINE,
        loop_clock=loop_clock,
    )


def assert_gone(running: RunningNode, record: SignedRecord, word: str) -> None:
    assert not running.has(record), f"{running.name} still holds the record"
    assert is_tombstoned(running.node.db, record.id_hex, record.lesson.origin_id), (
        f"{running.name} has no tombstone"
    )
    assert files_with(running.home, word) == [], f"{running.name} still has the canary"


async def chain(net: Cluster) -> tuple[RunningNode, RunningNode, RunningNode]:
    """A→B→C: A and B are peers, B and C are peers; A and C do not know each other."""
    a, b, c = await start(net, "Hub A", "Hub B", "Hub C")
    await net.pair(a, b)
    await net.pair(b, c)
    return a, b, c


async def spread_along(net: Cluster, a: RunningNode, b: RunningNode, c: RunningNode) -> None:
    """B takes A's news, C takes B's (background sync would too; this is deterministic)."""
    assert (await net.sync(b, a)).errors == []
    assert (await net.sync(c, b)).errors == []


# --- The chain ------------------------------------------------------------------------------


async def test_a_revocation_reaches_every_holder_along_a_chain_and_leaves_no_trace(
    net: Cluster,
) -> None:
    a, b, c = await chain(net)
    word = canary()
    record = add(a, "Safe houses in the north", f"Ask for {word} at the door.\n")
    await spread_along(net, a, b, c)
    assert b.has(record) and c.has(record)
    assert c.row(record)["received_from"] == b.node_id  # C got it via B
    for running in (a, b, c):
        assert files_with(running.home, word), f"the canary is not in {running.name}'s files"

    revocation = revoke_at(a, record)

    await all_purged(a, record, [b, c])  # no sync by hand: the outbox loops carry it
    for running in (a, b, c):
        assert_gone(running, record, word)
        assert verify_problems(running) == [], running.name
    received_from = c.node.db.execute(
        "SELECT received_from FROM revocations WHERE revocation_id = ?",
        [revocation.revocation_id],
    ).fetchone()
    assert received_from == (b.node_id,)  # forwarded hop by hop, not from A


# --- A stale copy comes back ------------------------------------------------------------------


@pytest.mark.parametrize("where", ["on a port of its own while B runs", "in B's place"])
async def test_a_stale_copy_of_a_holder_cannot_bring_the_record_back_and_purges_itself(
    net: Cluster, where: str
) -> None:
    """B's home is copied before the revocation and served again after it, either beside the
    real B on a new port or instead of B on its port (a restored backup). It contacts C and
    offers the record: C refuses it (logged: revoked), and the copy purges on that contact."""
    a, b, c = await chain(net)
    word = canary()
    record = add(a, "Names of the organisers", f"Contact {word} first.\n")
    await spread_along(net, a, b, c)
    beside = where == "on a port of its own while B runs"
    stale_home = b.home.parent / "hub-b-stale"
    new_socket = bound_socket() if beside else None
    port = int(new_socket.getsockname()[1]) if new_socket else b.port
    copy_home(b, stale_home, port)  # B's home as it was before the revocation

    revoke_at(a, record)
    await all_purged(a, record, [b, c])
    if not beside:
        await net.stop(b)
    stale = await serve(net, stale_home, new_socket or port_socket(port))
    assert stale.node_id == b.node_id and (stale.port != b.port) == beside
    assert stale.has(record) and files_with(stale.home, word)

    report = await net.sync(stale, c)  # the stale copy makes contact and offers the record

    assert report.errors == []
    assert not c.has(record)
    assert files_with(c.home, word) == []
    refusals = [
        entry
        for entry in recent_decisions(c.node.db, record_id=record.id_hex)
        if entry.direction == "inbound" and entry.peer_id == b.node_id and not entry.allowed
    ]
    assert [entry.reasons for entry in refusals] == [["revoked"]]
    await eventually(
        lambda: (
            not stale.has(record)
            and is_tombstoned(stale.node.db, record.id_hex, record.lesson.origin_id)
        ),
        "the stale copy of B purging the record after its sync with C",
        3.0,
    )
    assert_gone(stale, record, word)
    assert verify_problems(stale) == [] and verify_problems(c) == []


# --- Forged and unauthorized revocations --------------------------------------------------------


async def test_a_revocation_of_a_record_by_a_node_that_is_not_its_origin_is_refused(
    net: Cluster,
) -> None:
    """B holds A's record and tries to withdraw it from C, signing as itself (it has no right)
    and signing as if it were A (a forgery). C refuses both, keeps the record, strikes B."""
    a, b, c = await chain(net)
    record = add(a, "Not B's to withdraw", "Keep this.\n")
    await spread_along(net, a, b, c)
    as_itself = issue_revocation(
        b.node.identity, admin_actor(b.node), [record.id_hex], "safety", int(b.node.clock())
    ).envelope
    genuine_by_a = issue_revocation(
        a.node.identity, admin_actor(a.node), [record.id_hex], "safety", int(a.node.clock())
    ).envelope
    as_a = bytearray(genuine_by_a)
    as_a[-1] ^= 0x01  # what B can do to look like A: change bytes, breaking A's signature
    before = table_counts(c, *REVOCATION_TABLES)

    answer = await net.client(b).call(
        endpoints.REVOCATIONS,
        {"revocations": [as_itself, bytes(as_a)]},
        recipient=c.node_id,
        base_url=c.url,
    )

    assert answer == {"receipts": []}
    assert c.has(record) and not tombstone_of(c.node.db, record.id_hex)
    assert table_counts(c, *REVOCATION_TABLES) == before
    reasons = [row[0] for row in c.node.db.execute("SELECT reason FROM strikes")]
    assert len(reasons) == 2 and all(r.startswith("bad_revocation") for r in reasons), reasons
    assert c.peer(b).strikes == 2  # type: ignore[union-attr]
    assert await net.healthy(c)
    assert a.has(record) and b.has(record)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"\xc1 not msgpack", id="not msgpack"),
        pytest.param(wire.encode(wire.NOTIFY, {}), id="wrong fields"),
        pytest.param(
            b"\x81\xabrevocations\x93\x01\x02\x03", id="revocations that are not byte strings"
        ),
        pytest.param(b"", id="empty"),
    ],
)
async def test_a_garbage_revocations_body_is_a_400_and_changes_nothing(
    net: Cluster, body: bytes
) -> None:
    a, b, c = await chain(net)
    record = add(a, "Still here", "Nothing happens to it.\n")
    await spread_along(net, a, b, c)
    before = table_counts(c, *REVOCATION_TABLES, "strikes")

    status, content_type, answer = await signed_post(net, b, c, endpoints.REVOCATIONS.path, body)

    assert status == 400, answer
    assert content_type == "application/json"
    error = json.loads(answer)["error"]
    assert set(error) == {"status", "code", "message"} and error["status"] == 400
    assert error["code"] and error["message"] and "Traceback" not in error["message"]
    assert table_counts(c, *REVOCATION_TABLES, "strikes") == before
    assert c.has(record)
    assert await net.healthy(c)
    assert (await net.sync(c, b)).errors == []  # and it keeps serving federation too


# --- Offline peers -----------------------------------------------------------------------------


async def test_a_peer_offline_during_the_revocation_gets_it_when_back_and_receipts_say_so(
    net: Cluster,
) -> None:
    """A shared a lesson with B and C directly; C is down when A revokes. ``rhizome receipts``
    shows B purged and C pending; when C is back on its port it purges within seconds."""
    a, b, c = await start(net, "Hub A", "Hub B", "Hub C")
    await net.pair(a, b)
    await net.pair(a, c)
    word = canary()
    record = add(a, "Route of the march", f"Meet at {word}.\n", reshare=False)
    assert (await net.sync(b, a)).errors == [] and (await net.sync(c, a)).errors == []
    c_home, c_port = c.home, c.port
    await net.stop(c)

    revoke_at(a, record)

    await eventually(
        lambda: statuses(a, record.id_hex) == {b.node_id: "purged", c.node_id: "pending"},
        "B's receipt while C is offline",
        RECEIPT_DEADLINE,
    )
    listed = (await rhizome(a.home, "receipts", record.id_hex, "--json")).json()
    assert isinstance(listed, list) and len(listed) == 2
    by_node = {entry["node"]: entry for entry in listed}
    assert set(by_node) == {b.node_id, c.node_id}
    assert all({"node", "status", "at"} <= set(entry) for entry in listed), listed
    assert by_node[b.node_id]["status"] == "purged"
    assert isinstance(by_node[b.node_id]["at"], str) and by_node[b.node_id]["at"].endswith("Z")
    assert by_node[c.node_id]["status"] == "pending"

    c = await restart(net, c_home, c_port)

    await all_purged(a, record, [b, c])
    assert_gone(c, record, word)
    listed = (await rhizome(a.home, "receipts", record.id_hex[:12], "--json")).json()
    assert {entry["node"]: entry["status"] for entry in listed} == {
        b.node_id: "purged",
        c.node_id: "purged",
    }


# --- Cycles ------------------------------------------------------------------------------------


def steer(origin: RunningNode, rules: dict[str, list[str]]) -> None:
    """Per-peer tag denials in the origin's policy.toml: which peer may get which version."""
    policy = HomePaths(origin.home).policy
    sections = "".join(
        f'\n[peers."{peer}"]\ntags_deny = {json.dumps(tags)}\n' for peer, tags in rules.items()
    )
    policy.write_text(policy.read_text(encoding="utf-8") + sections, encoding="utf-8")


async def test_a_cycle_of_reshares_ends(net: Cluster) -> None:
    """A, B and C in a ring, reshare on. Version 1 goes A→B→C, version 2 goes A→C→B, so each
    of B and C forwards the revocation to the other: every node gets it more than once, each
    purges once, and the forwarding stops (three more turns of every loop change nothing)."""
    loop_clock = ManualLoopClock()
    a, b, c = await start(net, "Hub A", "Hub B", "Hub C", loop_clock=loop_clock)
    await net.pair(a, b)
    await net.pair(b, c)
    await net.pair(c, a)
    steer(a, {b.node_id: ["via-c"], c.node_id: ["via-b"]})  # sections follow node ids
    word = canary()
    first = a.node.writer.add_lesson(
        dataclasses.replace(
            a.lesson("Ring lesson", f"Version one: {word}.\n", reshare=True), tags=("via-b",)
        )
    )
    second = a.node.writer.add_lesson(
        dataclasses.replace(
            a.lesson("Ring lesson, revised", f"Version two: {word}.\n", reshare=True),
            tags=("via-c",),
            supersedes=first.record_id,
        )
    )
    for initiator, other in ((b, a), (c, a), (c, b), (b, c)):
        assert (await net.sync(initiator, other)).errors == []
    for holder in (b, c):
        assert holder.has(first) and holder.has(second), holder.name
    assert b.row(first)["received_from"] == a.node_id
    assert b.row(second)["received_from"] == c.node_id
    assert c.row(first)["received_from"] == b.node_id
    assert c.row(second)["received_from"] == a.node_id

    revoke_at(a, first)

    await all_purged(a, first, [b, c], loop_clock)

    def outboxes_empty() -> bool:
        return all(running.count("outbox") == 0 for running in (a, b, c))

    await eventually(
        outboxes_empty, "every outbox empty after the revocation", 5.0, loop_clock=loop_clock
    )
    messages = {running.name: running.count("events") for running in (a, b, c)}
    for _ in range(3):  # every loop of every node runs three more times: a forwarding cycle shows
        await loop_clock.turn(background.OUTBOX_POLL_SECONDS)
    assert outboxes_empty()
    assert {running.name: running.count("events") for running in (a, b, c)} == messages
    assert a.count("events", "kind = 'record.revoked'") == 1
    for holder in (b, c):
        assert holder.count("events", "kind = 'record.purged'") == 1, holder.name
        assert holder.count("revocations") == 1
        assert_gone(holder, first, word)
        assert_gone(holder, second, word)
    assert_gone(a, first, word)
    receipts = [
        open_receipt(bytes(row[0])) for row in a.node.db.execute("SELECT envelope FROM receipts")
    ]
    forwarded = {receipt.holder: set(receipt.forwarded_to) for receipt in receipts}
    assert set(forwarded) == {b.node_id, c.node_id}
    assert forwarded[b.node_id] <= {c.node_id} and forwarded[c.node_id] <= {b.node_id}
    assert forwarded[b.node_id] | forwarded[c.node_id], "nobody forwarded: no cycle was tested"


# --- Consent expiry ----------------------------------------------------------------------------


@pytest.mark.parametrize("whose", ["the record's consent", "one participant's consent"])
async def test_when_consent_expires_the_origin_revokes_by_itself(net: Cluster, whose: str) -> None:
    """The nodes share an injected clock moved an hour on, and their background loops sleep
    on a clock the test turns: one turn of the expiry loop's pause, and the origin withdraws
    the record by itself; no one waits for real time."""
    clock = ShiftedClock()
    loop_clock = ManualLoopClock()
    a, b = await start(net, "Hub A", "Hub B", clock=clock, loop_clock=loop_clock)
    await net.pair(a, b)
    word = canary()
    ends = int(clock()) + 3600
    agreed = Subject("Amani", share=True, recorded=True)
    consent = Consent(basis="consent", scope="federation", reshare=True)
    if whose == "the record's consent":
        consent = dataclasses.replace(consent, expires=ends)
    else:
        consent = dataclasses.replace(
            consent, subjects=(agreed, dataclasses.replace(agreed, expires=ends))
        )
    lesson = dataclasses.replace(
        a.lesson("Until the end of the month", f"{word}\n"), consent=consent
    )
    record = a.node.writer.add_lesson(lesson)
    assert (await net.sync(b, a)).errors == []
    assert b.has(record)

    clock.advance(3601)
    await loop_clock.turn(background.EXPIRY_SECONDS)

    await all_purged(a, record, [b], loop_clock)
    [(envelope,)] = a.node.db.execute("SELECT envelope FROM revocations")
    revocation = open_revocation(bytes(envelope))
    assert (revocation.reason, revocation.member, revocation.record_ids) == (
        "expired",
        "",
        (record.id_hex,),
    )
    assert_gone(a, record, word)
    assert_gone(b, record, word)


# --- The CLI -----------------------------------------------------------------------------------


async def shared_pair(net: Cluster) -> tuple[RunningNode, RunningNode, SignedRecord]:
    a, b = await start(net, "Hub A", "Hub B")
    await net.pair(a, b)
    record = add(a, "Written by the admin", "Shared with B.\n")
    assert (await net.sync(b, a)).errors == []
    assert b.has(record)
    return a, b, record


async def test_rhizome_revoke_by_a_member_who_may_not_is_one_clear_error(net: Cluster) -> None:
    """carol writes and curates, but this lesson is not hers, and she is no steward or admin."""
    a, b, record = await shared_pair(net)
    create_member(
        HomePaths(a.home),
        a.node.db,
        a.node.identity,
        "carol",
        ("curator", "author"),
        None,
        int(a.node.clock()),
    )
    before_a, before_b = (table_counts(n, *REVOCATION_TABLES) for n in (a, b))

    ran = await rhizome(a.home, "revoke", record.id_hex, "--reason", "safety", member="carol")

    ran.one_error_line("carol")
    assert table_counts(a, *REVOCATION_TABLES) == before_a
    assert table_counts(b, *REVOCATION_TABLES) == before_b
    assert a.has(record) and b.has(record)
    assert not tombstone_of(a.node.db, record.id_hex)


async def test_rhizome_revoke_on_a_node_that_only_holds_the_lesson_is_one_clear_error(
    net: Cluster,
) -> None:
    a, b, record = await shared_pair(net)
    before_a, before_b = (table_counts(n, *REVOCATION_TABLES) for n in (a, b))

    ran = await rhizome(b.home, "revoke", record.id_hex, "--reason", "consent-withdrawn")

    ran.one_error_line("origin")
    assert table_counts(a, *REVOCATION_TABLES) == before_a
    assert table_counts(b, *REVOCATION_TABLES) == before_b
    assert a.has(record) and b.has(record)
    assert not tombstone_of(b.node.db, record.id_hex)
