"""Fake recovery: an attacker tries to take over hub A at its peer B through the route a hub
with no backup uses to come back (``POST /federation/v1/recover``), and to empty B of A's
lessons through ``own-records``.

The attacker knows A's node id and B's address. It tries: a made-up recovery code; a
recovery statement it signed with a key of its own; a stolen copy of A's node key (which
can sign rotations, never a recovery); and asking B for A's records with that stolen key.

What must hold: every attempt is refused with the same words (B does not tell a stranger
whether it peers with A), nothing is stored at B (A's key history, its peer entry and B's
event log are as before), A's key stays current at B, and B keeps serving A.
"""

from __future__ import annotations

import time
from dataclasses import replace

from archive.key_store import current_key, statements_of
from crypto.key_statements import KeyStatement, make_recovery, make_rotation, open_statement
from crypto.signing import SigningIdentity
from federation import endpoints, wire
from tests.integration.conftest import Cluster, RunningNode
from tests.integration.key_helpers import give_genesis
from tests.integration.test_malicious_peer import Hostile

ATTACKER = SigningIdentity.from_seed(bytes(range(40, 72)))


def recover_body(node_id: str, raws: list[bytes]) -> bytes:
    return wire.encode(endpoints.RECOVER.request, {"node": node_id, "statements": raws})


def state_of(b: RunningNode, a: RunningNode) -> tuple[object, ...]:
    return (
        statements_of(b.node.db, a.node_id), current_key(b.node.db, a.node_id),
        b.peer(a), b.count("events"),
    )  # fmt: skip


async def paired(cluster: Cluster) -> tuple[RunningNode, RunningNode]:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    await cluster.pair(b, a)
    give_genesis(a)
    a.add("A checklist")
    assert (await cluster.sync(a, b)).errors == []
    return a, b


async def test_a_made_up_code_or_a_forged_recovery_takes_nothing_over(cluster: Cluster) -> None:
    a, b = await paired(cluster)
    before = state_of(b, a)
    hostile = Hostile(cluster, b, ATTACKER)

    asked = await hostile.send(endpoints.RECOVER.path, recover_body(a.node_id, []))
    assert asked.status == 403 and b"recovery_refused" in asked.body

    # A recovery "signed by the recovery key" that is only the attacker's own key.
    [genesis] = [open_statement(raw) for raw in statements_of(b.node.db, a.node_id)]
    forged = make_recovery(
        ATTACKER, _as_if_recovery_key(genesis, ATTACKER), ATTACKER.public_key, int(time.time())
    )
    sent = await hostile.send(
        endpoints.RECOVER.path, recover_body(a.node_id, [genesis.raw, forged.raw])
    )
    assert sent.status in (400, 403), sent
    # An unknown node id gets the same words as a wrong code.
    stranger = await hostile.send(endpoints.RECOVER.path, recover_body(ATTACKER.node_id, []))
    assert stranger.status == 403 and stranger.body == asked.body

    assert state_of(b, a) == before
    assert (await cluster.sync(a, b)).errors == []  # the real A goes on as before
    assert await cluster.healthy(b)


async def test_a_stolen_node_key_cannot_recover_nor_empty_a_peer(cluster: Cluster) -> None:
    a, b = await paired(cluster)
    before = state_of(b, a)
    stolen = a.node.identity
    [genesis] = [open_statement(raw) for raw in statements_of(b.node.db, a.node_id)]
    rotation = make_rotation(stolen, genesis, ATTACKER.public_key, int(time.time()))
    thief = SigningIdentity.from_seed(ATTACKER.seed, stolen.node_key)
    sent = await Hostile(cluster, b, thief).send(
        endpoints.RECOVER.path, recover_body(a.node_id, [genesis.raw, rotation.raw])
    )
    assert sent.status == 403 and b"recovery_refused" in sent.body
    assert state_of(b, a) == before  # not even the rotation was stored by this route

    # With A's current (stolen) key, its own records are not handed out: A never recovered.
    body = wire.encode(endpoints.OWN_RECORDS.request, {"after": ""})
    asked = await Hostile(cluster, b, stolen).send(endpoints.OWN_RECORDS.path, body)
    assert asked.status == 403 and b"recover" in asked.body
    assert await cluster.healthy(b)


def _as_if_recovery_key(genesis: KeyStatement, key: SigningIdentity) -> KeyStatement:
    """The genesis as the attacker would like it: naming its key as the recovery key (only
    to build the statement; B checks it against the real genesis)."""
    return replace(genesis, recovery=key.public_key)
