"""Echo statements and bundles after a key rotation (issue 15): they are checked against the
key history, not the first key. A bundle signed by the key that was current when it was made
imports; one signed by a key retired by then, or by a key the importer has not learnt yet,
is refused with a clear error and nothing stored. An echo is about now: only the echoing
peer's current key counts."""

from __future__ import annotations

import os
import time
from dataclasses import replace

import pytest

from crypto.signing import SigningIdentity
from federation.bundles import BadBundle, export_bundle, import_bundle
from federation.echo import EchoStatement, InvalidEcho, ask_echo, open_statement, sign_statement
from tests.integration.conftest import Cluster, RunningNode
from tests.integration.key_helpers import give_genesis, restart, rotated, statements_at
from tests.integration.test_relayed_rotation import chain


def bundle(
    sender: RunningNode, receiver: RunningNode, thief: SigningIdentity | None = None
) -> bytes:
    """What ``rhizome bundle export`` writes: signed by the sender's key, or by ``thief`` (a
    copy of a retired key) a minute later."""
    local = sender.node.local_node()
    if thief is not None:
        local = replace(local, identity=thief, clock=lambda: time.time() + 60)
    peer = sender.peer(receiver)
    assert peer is not None
    return export_bundle(local, peer, None).data


async def test_a_bundle_made_after_a_rotation_imports_where_the_rotation_is_known(
    cluster: Cluster,
) -> None:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    await cluster.pair(a, b)
    give_genesis(a)
    made_before = bundle(a, b)  # signed by the first key, before the rotation
    old = SigningIdentity.from_seed(a.node.identity.seed)
    a, _ = await rotated(cluster, a)
    lesson = a.add("Carried by hand")
    assert (await cluster.sync(a, b)).errors == []  # B learns the rotation (and the lesson)
    assert b.has(lesson)
    fresh = a.add("Carried by hand, later")

    report = import_bundle(b.node.local_node(), bundle(a, b))
    assert report.stored == 1 and b.has(fresh)
    # Made before the rotation, by the key that was current then: still good.
    assert import_bundle(b.node.local_node(), made_before).rejected == 0

    # A thief's bundle, signed by the retired key after the rotation: refused, nothing stored.
    before = b.counts()
    a.add("Not carried")
    with pytest.raises(BadBundle, match="retired by the time it was made"):
        import_bundle(b.node.local_node(), bundle(a, b, thief=old))
    assert b.counts() == before


async def test_a_bundle_from_a_rotated_hub_tells_a_peer_that_missed_it_what_to_do(
    cluster: Cluster,
) -> None:
    a = await cluster.start("Hub A")
    c = await cluster.start("Hub C")
    await cluster.pair(a, c)
    give_genesis(a)
    a, _ = await rotated(cluster, a)  # C was offline: it knows only A's first key
    a.add("Carried by hand")
    data = bundle(a, c)
    before = c.counts()

    with pytest.raises(BadBundle) as refused:
        import_bundle(c.node.local_node(), data)

    message = str(refused.value)
    assert "a key of it this hub has not learnt yet" in message
    assert "learn its key history first" in message
    assert c.counts() == before and statements_at(c, a) == 0
    assert (await cluster.sync(a, c)).errors == []  # A's next sync teaches C the history
    assert import_bundle(c.node.local_node(), data).rejected == 0  # the same file imports


async def test_a_bundle_is_sealed_to_the_key_its_recipient_holds_now(cluster: Cluster) -> None:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    await cluster.pair(a, b)
    give_genesis(b)
    b, _ = await rotated(cluster, b)
    assert (await cluster.sync(b, a)).errors == []  # A learns B's new key
    lesson = a.add("For the rotated hub")

    report = import_bundle(b.node.local_node(), bundle(a, b))

    assert report.stored == 1 and b.has(lesson)


async def test_an_echo_is_checked_against_the_echoing_peers_current_key(
    cluster: Cluster,
) -> None:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    await cluster.pair(a, b)
    give_genesis(b)
    old = SigningIdentity.from_seed(b.node.identity.seed)
    b, _ = await rotated(cluster, b)
    assert (await cluster.sync(b, a)).errors == []
    b = await restart(cluster, b)  # a fresh echo allowance
    peer = a.peer(b)
    assert peer is not None

    echo = await ask_echo(cluster.client(a), peer)
    assert echo.reached and echo.echoer == b.node_id

    # A statement by B's retired key (a thief's copy) is not believed, even word for word.
    nonce = os.urandom(16)
    statement = EchoStatement(b.node_id, a.node_id, peer.url, True, "yes", 1, nonce)
    forged = sign_statement(replace(b.node.local_node(), identity=old), statement)
    current = b.node.identity.public_key
    with pytest.raises(InvalidEcho, match="current key"):
        open_statement(forged, echoer=b.node_id, asker=a.node_id, nonce=nonce, key=current)
    genuine = sign_statement(b.node.local_node(), statement)
    assert open_statement(genuine, echoer=b.node_id, asker=a.node_id, nonce=nonce, key=current)


async def test_a_bundle_relaying_a_rotated_hubs_record_holds_it_until_the_history_is_known(
    cluster: Cluster,
) -> None:
    a, b, c = await chain(cluster)  # A - B - C: A and C never meet
    a, _ = await rotated(cluster, a)
    lesson = a.add("After the rotation", reshare=True)
    assert (await cluster.sync(a, b)).errors == [] and b.has(lesson)
    data = bundle(b, c)  # B carries A's record to C by hand

    report = import_bundle(c.node.local_node(), data)

    assert (report.held, report.stored, report.rejected) == (1, 0, 0)
    assert not c.has(lesson) and c.count("strikes") == 0  # B did nothing wrong
    assert (await cluster.sync(c, b)).errors == []  # C learns A's history from B (and the record)
    assert statements_at(c, a) == 2 and c.has(lesson)
    assert import_bundle(c.node.local_node(), data).held == 0
