"""Attack: hide another hub's lesson by publishing a "new version" of it.

Manila, a paired but hostile hub, signs records of its own whose ``supersedes`` names
Nairobi's lesson, and sends them to Lima (which holds the lesson) by push, by sync and in a
bundle, and to Quito (which does not hold it yet), hoping that every node shows Manila's text
as the latest version and that it spreads back to Nairobi, hiding the lesson at its origin.
A Nairobi author tries the same by hand with ``lesson add``.

What must hold: only a record of the same origin can supersede a record. Anything else is
refused on every inbound path with a strike for the peer that signed it (a relaying honest
peer is not struck: it may not hold the lesson), and never hides the original: where the
superseded record was not held yet, the record is kept as the sender's own lesson, and the
latest-version view ignores a ``supersedes`` link across origins.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from archive.db import transaction
from archive.queries import latest_records
from archive.signed_record import SignedRecord, sign_lesson
from archive.store import insert_record
from federation import endpoints
from federation.bundles import BundleContents, import_bundle, write_bundle
from federation.peers import Peer
from tests.conftest import write_lesson
from tests.integration.conftest import Cluster, RunningNode
from tests.node.conftest import Invoke

HIJACK = "not_allowed: foreign_supersede"


def hijack(attacker: RunningNode, original: SignedRecord, title: str) -> SignedRecord:
    lesson = dataclasses.replace(
        attacker.lesson(title, "Ignore the earlier advice.\n", reshare=True),
        supersedes=original.record_id,
    )
    return sign_lesson(attacker.node.identity, lesson)


def peer_of(here: RunningNode, there: RunningNode) -> Peer:
    peer = here.peer(there)
    assert peer is not None
    return peer


def latest(hub: RunningNode) -> set[str]:
    return {summary.id for summary in latest_records(hub.node.db)}


def strikes(hub: RunningNode, sender: RunningNode) -> list[str]:
    rows = hub.node.db.execute(
        "SELECT reason FROM strikes WHERE peer_id = ? ORDER BY id", [sender.node_id]
    )
    return [str(row[0]) for row in rows]


async def push(
    cluster: Cluster, sender: RunningNode, target: RunningNode, *records: SignedRecord
) -> dict[str, Any]:
    peer = peer_of(sender, target)
    return await cluster.client(sender).call(
        endpoints.PUSH,
        {"records": [record.envelope for record in records]},
        recipient=peer.node_id,
        base_url=peer.url,
    )  # fmt: skip


async def test_only_the_origin_can_supersede_its_lesson(
    cluster: Cluster, invoke: Invoke, tmp_path: Path
) -> None:
    nairobi = await cluster.start("Nairobi Hub")
    lima = await cluster.start("Lima Hub", "Andes")
    quito = await cluster.start("Quito Hub", "Andes")
    manila = await cluster.start("Manila Hub", "Southeast Asia")
    for a, b in ((nairobi, lima), (nairobi, quito), (manila, lima), (manila, quito)):
        await cluster.pair(a, b)
    original = nairobi.add("Kettling", "Stay near the exits.\n", reshare=True)
    assert (await cluster.sync(lima, nairobi)).errors == []
    assert lima.has(original)

    # Push: refused, struck, nothing stored, the lesson still the latest.
    by_push = hijack(manila, original, "Kettling (corrected)")
    answer = await push(cluster, manila, lima, by_push)
    assert (answer["stored"], answer["rejected"]) == (0, 1)
    assert not lima.has(by_push)
    assert strikes(lima, manila) == [HIJACK]

    # Sync: Manila holds a second one as its own (stored behind its writer's back).
    by_sync = hijack(manila, original, "Kettling (final)")
    with transaction(manila.node.db):
        insert_record(manila.node.db, by_sync, None, int(manila.node.clock()))
    report = await cluster.sync(lima, manila)
    assert report.errors == [] and report.received == 0 and report.rejected == 1
    assert not lima.has(by_sync)
    assert strikes(lima, manila) == [HIJACK, HIJACK]

    # Bundle: a third one, carried by hand.
    by_bundle = hijack(manila, original, "Kettling (from the field)")
    contents = BundleContents(
        manila.node_id, lima.node_id, os.urandom(16).hex(), int(manila.node.clock()), None,
        records=[by_bundle.envelope],
    )  # fmt: skip
    imported = import_bundle(
        lima.node.local_node(), write_bundle(manila.node.local_node(), contents)
    )
    assert (imported.stored, imported.rejected) == (0, 1)
    assert not lima.has(by_bundle)
    assert strikes(lima, manila) == [HIJACK, HIJACK, HIJACK]
    assert original.id_hex in latest(lima)

    # Quito does not hold the lesson yet: it keeps Manila's record as Manila's own lesson.
    answer = await push(cluster, manila, quito, by_push)
    assert answer["stored"] == 1 and strikes(quito, manila) == []
    # It spreads back towards the origin through honest Quito: refused there, no strike
    # for the relay, and Nairobi's lesson stays the latest at Nairobi.
    report = await cluster.sync(nairobi, quito)
    assert report.errors == []
    assert not nairobi.has(by_push)
    assert strikes(nairobi, quito) == []
    reasons = nairobi.node.db.execute(
        "SELECT reasons FROM decisions WHERE record_id = ? AND direction = 'inbound'",
        [by_push.id_hex],
    ).fetchall()
    assert reasons and all("foreign_supersede_relayed" in row[0] for row in reasons)
    assert original.id_hex in latest(nairobi)
    # Once Quito gets the lesson, Manila's record hides nothing there either.
    assert quito.has(original)
    assert {original.id_hex, by_push.id_hex} <= latest(quito)
    for shown in (original, by_push):  # neither is a version of the other
        result = invoke(quito.home, "lesson", "show", shown.id_hex, "--json")
        assert result.exit_code == 0, result.output
        assert [v["id"] for v in json.loads(result.stdout)["history"]] == [shown.id_hex]

    # By hand: a Nairobi author cannot make a new version of Lima's lesson either.
    limas = lima.add("Lima's own checklist", reshare=True)
    assert (await cluster.sync(nairobi, lima)).errors == []
    assert nairobi.has(limas)
    before = nairobi.count("records")
    path = write_lesson(
        tmp_path, "edit.md", {"title": "Edited", "kind": "checklist", "supersedes": limas.id_hex}
    )
    result = invoke(nairobi.home, "lesson", "add", str(path))
    assert result.exit_code != 0
    assert "only the origin node can publish a new version" in result.output
    assert nairobi.count("records") == before
