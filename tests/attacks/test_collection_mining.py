"""Attack: mine a shared collection for the lessons a hub withheld, or smuggle names in an
evaluation.

Nairobi builds a collection for a cohort (shared with its peers) out of a public lesson, a
lesson for the federation and a story whose consent keeps it at home. Lima, a paired peer,
syncs for real over TLS and then searches everything it holds (database, WAL, every file of
its home) for the withheld story: its id, as hex or raw bytes, and its text. Then Lima, now
hostile, signs an evaluation whose numbers do not add up and one that lists participants by
name, and pushes them to Nairobi.

What must hold: the collection arrives, with the withheld story shown as a gap explained by
its consent scope, and no byte of the story, nor its id, is anywhere on Lima (the collection
names its lessons by commitment only); the forged evaluations are refused whole by the same
rules as a typed one, nothing of them is stored, and Nairobi keeps serving.
"""

from __future__ import annotations

import dataclasses

from archive.details import Evaluation, IncidentCount
from archive.record import Lesson, lesson_to_wire
from archive.signed_record import sign_lesson
from crypto.canonical import pack
from crypto.envelope import seal
from crypto.signing import RECORD_CONTEXT
from federation.receiving import Receiver
from node.actions.collections import CreateCollection, create_collection, show_collection
from tests.integration.conftest import Cluster, RunningNode, files_containing


def lesson(node: RunningNode, title: str, scope: str, body: str) -> Lesson:
    return dataclasses.replace(node.lesson(title, body, scope=scope), kind="story")


async def test_a_peer_finds_no_trace_of_a_withheld_lesson_in_a_collection(
    cluster: Cluster,
) -> None:
    nairobi = await cluster.start("Nairobi Hub")
    lima = await cluster.start("Lima Hub", "Andes")
    await cluster.pair(nairobi, lima)
    public = nairobi.node.writer.add_lesson(lesson(nairobi, "Observing", "public", "Water.\n"))
    shared = nairobi.node.writer.add_lesson(lesson(nairobi, "Pairs", "federation", "Pairs.\n"))
    secret_text = "Achieng hid the banner under the stage zqvxsecret\n"
    withheld = nairobi.node.writer.add_lesson(lesson(nairobi, "At home", "local", secret_text))
    asked = CreateCollection(
        nairobi.node.member("admin"), "Legal observer track", "Nairobi 2027", "",
        (public.id_hex, shared.id_hex, withheld.id_hex), "federation",
    )  # fmt: skip
    collection = create_collection(nairobi.node, asked)

    await cluster.sync(lima, nairobi)

    view = show_collection(lima.node, collection)
    assert [e.lesson.id for e in view.entries if e.lesson] == [public.id_hex, shared.id_hex]
    assert [gap.gap for gap in view.gaps] == [
        "consent scope local: it never leaves the hub where it was written"
    ]
    lima.node.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for needle in (withheld.record_id, withheld.id_hex.encode(), b"zqvxsecret"):
        assert files_containing(lima.home, needle) == [], needle


async def test_forged_evaluations_are_refused_whole(cluster: Cluster) -> None:
    nairobi = await cluster.start("Nairobi Hub")
    lima = await cluster.start("Lima Hub", "Andes")
    await cluster.pair(nairobi, lima)
    base = dataclasses.replace(
        lima.lesson("Our evaluation", "Numbers.\n"), kind="evaluation",
        details=Evaluation("Lima 2027", 0, participants=10, completed=10),
    )  # fmt: skip
    too_many = dataclasses.replace(base, details=Evaluation("Lima 2027", 0, 10, 11))
    named = dataclasses.replace(
        base, details=Evaluation("Lima 2027", 0, 10, 9, incidents=(IncidentCount("Juma", 1),))
    )
    # Signed by Lima's own key, bypassing its own checks: what a compromised peer can send.
    forged = [
        seal(lima.node.identity, RECORD_CONTEXT, pack(lesson_to_wire(lesson))).raw
        for lesson in (too_many, named)
    ]
    before = nairobi.counts()
    peer = nairobi.peer(lima)
    assert peer is not None
    result = Receiver.of(nairobi.node.local_node()).receive(forged, peer)
    assert not result.stored and len(result.rejected) == 2
    reasons = " ".join(reason for _, reason in result.rejected)
    assert "evaluation.completed" in reasons and "evaluation.incidents.category" in reasons
    assert {k: v for k, v in nairobi.counts().items() if k not in ("strikes", "events")} == {
        k: v for k, v in before.items() if k not in ("strikes", "events")
    }
    good = sign_lesson(lima.node.identity, base)
    assert Receiver.of(nairobi.node.local_node()).receive([good.envelope], peer).stored
    assert await cluster.healthy(nairobi)
