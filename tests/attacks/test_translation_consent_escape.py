"""Attack: launder a lesson through a translation, out of its consent and past its withdrawal.

Nairobi shares a lesson with Lima that must not be passed on (``reshare: false``). Lima
"translates" it: a lesson of Lima's own, pre-filled with the original text, ``translation_of``
the original, with wide terms of its own. Lima then syncs with Cusco, a hub Nairobi never
agreed to. Later Nairobi withdraws its lessons; Lima, Cusco (and Nairobi itself, which got
Lima's translation back) must drop the translations too. Finally a hostile Cusco pushes the
old translation again, and a fresh one of the withdrawn lesson, to Lima.

What must hold: a translation of another origin's record inherits that record's consent (it
can only narrow it) and travels only where the original may; when the original is revoked,
every holder purges the translations of it made by any origin and its receipt covers them
(the origin's receipts say "purged" only when that is true, for every hop); a translation
arriving after the withdrawal is refused like a stale copy, and its sender gets the
revocation.
"""

from __future__ import annotations

import dataclasses

from archive.signed_record import SignedRecord, sign_lesson
from federation import endpoints
from federation.peers import Peer
from federation.propagation import revoke
from federation.sharing import Offer
from tests.integration.conftest import Cluster, RunningNode
from tests.integration.revocation_helpers import admin_actor, canary, files_with, statuses


def translate(translator: RunningNode, original: SignedRecord) -> SignedRecord:
    """The translator's own lesson, pre-filled with the original's text, wide open."""
    lesson = dataclasses.replace(
        translator.lesson("Traducción", original.lesson.body, reshare=True),
        language="es",
        translation_of=original.record_id,
    )
    return translator.node.writer.add_lesson(lesson)


def offered(holder: RunningNode, to: RunningNode) -> set[str]:
    peer = holder.peer(to)
    assert peer is not None
    items = Offer.of(holder.node.local_node()).offer_items(peer)
    return {record_id.hex() for _, record_id in items}


async def synced(cluster: Cluster, initiator: RunningNode, other: RunningNode) -> None:
    report = await cluster.sync(initiator, other)
    assert report.errors == [], report.errors


async def test_a_translation_inherits_its_originals_consent_and_withdrawal(
    cluster: Cluster,
) -> None:
    nairobi = await cluster.start("Nairobi Hub")
    lima = await cluster.start("Lima Hub", "Andes")
    cusco = await cluster.start("Cusco Hub", "Andes")
    await cluster.pair(nairobi, lima)
    await cluster.pair(lima, cusco)
    secret, open_word = canary(), canary()
    kept_home = nairobi.add("Only for Lima", f"Names: {secret}.\n", reshare=False)
    reshareable = nairobi.add("For everyone", f"Routes: {open_word}.\n", reshare=True)
    await synced(cluster, lima, nairobi)
    assert lima.has(kept_home) and lima.has(reshareable)

    escaped = translate(lima, kept_home)
    allowed = translate(lima, reshareable)

    # The translation of the no-reshare lesson does not reach Cusco; the other one does.
    assert escaped.id_hex not in offered(lima, cusco)
    explained = Offer.of(lima.node.local_node()).explain(escaped.id_hex, peer_of(lima, cusco))
    assert explained is not None and "original:no_reshare" in explained.codes
    await synced(cluster, cusco, lima)
    assert not cusco.has(escaped) and not cusco.has(kept_home)
    assert cusco.has(allowed) and cusco.has(reshareable)
    # Nairobi, the original's origin, may have the translation back.
    await synced(cluster, nairobi, lima)
    assert nairobi.has(escaped) and nairobi.has(allowed)

    # Nairobi withdraws both originals: every translation of them goes too, everywhere.
    admin = admin_actor(nairobi.node)
    for original in (kept_home, reshareable):
        revoke(nairobi.node.local_node(), original.id_hex, admin, "safety", None)
    await synced(cluster, lima, nairobi)  # Lima purges, forwards to Cusco, answers
    await synced(cluster, cusco, lima)  # Cusco purges, answers Lima
    await synced(cluster, lima, nairobi)  # Lima relays Cusco's receipt to Nairobi
    for hub in (nairobi, lima, cusco):
        for record in (kept_home, reshareable, escaped, allowed):
            assert not hub.has(record), (hub.name, record.lesson.title)
        assert files_with(hub.home, secret) == [] and files_with(hub.home, open_word) == []
    assert statuses(nairobi, kept_home.id_hex) == {lima.node_id: "purged"}
    assert statuses(nairobi, reshareable.id_hex) == {
        lima.node_id: "purged",
        cusco.node_id: "purged",
    }
    purged_at_lima = lima.node.db.execute(
        "SELECT json_extract(detail, '$.dependents') FROM events WHERE kind = 'record.purged'"
    ).fetchall()
    assert sorted(row[0] for row in purged_at_lima) == [1, 1]

    # A translation arriving after the withdrawal is refused like a stale copy.
    fresh = sign_lesson(
        cusco.node.identity,
        dataclasses.replace(
            cusco.lesson("Tradução", f"Names: {secret}.\n"), translation_of=kept_home.record_id
        ),
    )
    peer = peer_of(cusco, lima)
    answer = await cluster.client(cusco).call(
        endpoints.PUSH,
        {"records": [escaped.envelope, allowed.envelope, fresh.envelope]},
        recipient=peer.node_id,
        base_url=peer.url,
    )  # fmt: skip
    assert (answer["stored"], answer["rejected"]) == (0, 3)
    assert len(answer["revocations"]) == 2  # the sender learns what withdrew them
    assert not any(lima.has(record) for record in (escaped, allowed, fresh))
    assert files_with(lima.home, secret) == []


def peer_of(here: RunningNode, there: RunningNode) -> Peer:
    peer = here.peer(there)
    assert peer is not None
    return peer
