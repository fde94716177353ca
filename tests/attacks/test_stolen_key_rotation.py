"""Stolen node key: a thief who copied A's key rotates A to a key of its own, tells B, and
pushes a lesson as A. A's operator then recovers with the recovery key (printed at init).

What must hold: while the thief holds the only current key, B believes it (nothing can tell
them apart); once A's recovery reaches B within 72 hours of B first seeing the thief's
rotation, the recovery wins: A's new key is current at B, the thief's rotation is kept as
overridden evidence, what the thief signed (and what A's old key signed after the moment the
operator gave) goes into quarantine, a lesson from before that moment stays, and the thief's
key signs nothing more at B. A recovery that comes later than the window does not win: B
keeps both as a fork and stops syncing with A until its operator decides.
"""

from __future__ import annotations

import time
from dataclasses import replace

from archive.key_store import current_key, fork_of, statements_of
from archive.quarantine_flag import is_quarantined
from archive.signed_record import sign_lesson
from crypto.http_signatures import sign_request
from crypto.key_history import RECOVERY_WINDOW
from crypto.key_statements import make_rotation, open_statement
from crypto.signing import SigningIdentity
from federation import endpoints, wire
from tests.conftest import FakeClock
from tests.integration.conftest import Cluster, RunningNode
from tests.integration.key_helpers import give_genesis, history_at, recovered
from tests.integration.test_malicious_peer import Hostile

THIEF = SigningIdentity.from_seed(bytes(range(200, 232)))


async def steal_and_rotate(cluster: Cluster, a: RunningNode, b: RunningNode) -> SigningIdentity:
    """The thief: A's key copied, a rotation to its own key signed with it, handed to B, and
    a lesson pushed to B as A. Returns the thief's key, speaking for A."""
    stolen = a.node.identity
    [genesis] = [open_statement(raw) for raw in statements_of(a.node.db, a.node_id)]
    rotation = make_rotation(stolen, genesis, THIEF.public_key, a.node.now())
    thief = SigningIdentity.from_seed(THIEF.seed, stolen.node_key)
    hostile = Hostile(cluster, b, thief)
    body = wire.encode(endpoints.KEY_HISTORY.request, {"statements": [genesis.raw, rotation.raw]})
    answer = await hostile.send(endpoints.KEY_HISTORY.path, body, created=a.node.now())
    assert answer.status == 200, answer
    lesson = replace(a.lesson("Meet at the old warehouse"), created=a.node.now())
    evil = sign_lesson(thief, lesson)
    pushed = await hostile.send(
        endpoints.PUSH.path, wire.encode(wire.RECORDS, {"records": [evil.envelope]}),
        created=a.node.now(),
    )  # fmt: skip
    assert pushed.status == 200, pushed
    assert b.has(evil)
    return thief


async def test_recovery_inside_the_window_overrides_the_thief(cluster: Cluster) -> None:
    clock = FakeClock(time.time())
    a = await cluster.start("Hub A", clock=clock)
    b = await cluster.start("Hub B", clock=clock)
    await cluster.pair(b, a)
    give_genesis(a)
    early = a.add("Written before the theft")
    assert (await cluster.sync(a, b)).errors == []
    clock.advance(3600)
    stolen_at = a.node.now()
    thief = await steal_and_rotate(cluster, a, b)
    assert current_key(b.node.db, a.node_id) == THIEF.public_key  # B cannot tell, yet
    evil_ids = [row[0] for row in b.node.db.execute(
        "SELECT id FROM records WHERE origin = ? AND id != ?", [a.node_id, early.id_hex]
    )]  # fmt: skip

    clock.advance(RECOVERY_WINDOW - 3600)  # inside the window, by B's clock
    a, change = await recovered(cluster, a, since=stolen_at - 60, clock=clock)
    report = await cluster.sync(a, b)
    assert report.errors == []
    history = history_at(b, a)
    assert history.current_key == change.statement.key
    assert [s.key for s in history.overridden] == [THIEF.public_key]
    assert fork_of(b.node.db, a.node_id) is None
    assert all(is_quarantined(b.node.db, record_id) for record_id in evil_ids) and evil_ids
    assert not is_quarantined(b.node.db, early.id_hex)
    assert b.peer(a).status == "active"  # type: ignore[union-attr]

    # The thief's key speaks for no one at B any more.
    url = b.url + endpoints.NOTIFY.path
    body = wire.encode(endpoints.NOTIFY.request, {})
    headers = sign_request(thief, "POST", url, body, created=b.node.now(), recipient=b.node_id)
    async with cluster.session.post(
        url, data=body, headers={**headers, "Content-Type": "application/msgpack"}
    ) as answer:
        assert answer.status in (401, 403)
    assert (await cluster.sync(b, a)).errors == []


async def test_recovery_after_the_window_is_a_fork(cluster: Cluster) -> None:
    clock = FakeClock(time.time())
    a = await cluster.start("Hub A", clock=clock)
    b = await cluster.start("Hub B", clock=clock)
    await cluster.pair(b, a)
    give_genesis(a)
    assert (await cluster.sync(a, b)).errors == []
    stolen_at = a.node.now()
    await steal_and_rotate(cluster, a, b)

    clock.advance(RECOVERY_WINDOW + 3600)  # the owner noticed too late
    a, _ = await recovered(cluster, a, since=stolen_at, clock=clock)
    report = await cluster.sync(a, b)
    assert report.errors, "a recovery after the window must not be taken silently"
    assert b.peer(a).status == "forked"  # type: ignore[union-attr]
    evidence = fork_of(b.node.db, a.node_id)
    assert evidence is not None
    stored = {open_statement(raw).id_hex for raw in statements_of(b.node.db, a.node_id)}
    assert {evidence[0], evidence[1]} <= stored  # both signed statements kept
    assert (await cluster.sync(b, a)).errors  # nothing more moves until an operator decides
    assert await cluster.healthy(b)
