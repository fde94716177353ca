"""Attack: get a lesson under the wide terms of an old version after its origin narrowed them.

Nairobi wrote v1 of a lesson for every trusted peer, reshare allowed; Lima got it. Then the
participants asked for less, and Nairobi published v2: only Lima may hold it, and no one may
pass it on. Quito pairs with Nairobi afterwards and syncs, fetches v1 by id, and asks for a
bundle; Cusco, paired only with Lima, syncs with Lima (v1 still says "reshare").

What must hold: a record's effective consent is the narrowest along its version chain, so
v1 never leaves under wider terms than v2, on any path (sync offers, fetch, push, bundles),
at the origin and at a holder that learned of v2; ``policy explain`` says in words that a
later version narrowed consent.
"""

from __future__ import annotations

import dataclasses
import json

from archive.record import Consent
from archive.signed_record import SignedRecord
from federation import endpoints
from federation.bundles import export_bundle
from federation.sharing import Offer
from tests.integration.conftest import Cluster, RunningNode
from tests.node.conftest import Invoke

NARROWED = "narrowed consent"


def narrow(origin: RunningNode, v1: SignedRecord, only: RunningNode) -> SignedRecord:
    lesson = dataclasses.replace(
        origin.lesson("Kettling, revised", "Where the lines formed.\n"),
        supersedes=v1.record_id,
        consent=Consent("consent", "peers", peers=(only.node_id,), reshare=False),
    )
    return origin.node.writer.add_lesson(lesson)


def offered(holder: RunningNode, to: RunningNode) -> set[str]:
    peer = holder.peer(to)
    assert peer is not None
    items = Offer.of(holder.node.local_node()).offer_items(peer)
    return {record_id.hex() for _, record_id in items}


async def test_a_superseded_version_never_leaves_under_wider_terms(
    cluster: Cluster, invoke: Invoke
) -> None:
    nairobi = await cluster.start("Nairobi Hub")
    lima = await cluster.start("Lima Hub", "Andes")
    await cluster.pair(nairobi, lima)
    v1 = nairobi.add("Kettling", "Where the lines formed.\n", reshare=True)
    assert (await cluster.sync(lima, nairobi)).errors == []
    assert lima.has(v1)  # the control: v1's own terms let it go

    v2 = narrow(nairobi, v1, only=lima)
    assert (await cluster.sync(lima, nairobi)).errors == []
    assert lima.has(v2)

    # A hub that pairs later gets neither version, by sync, by fetch or in a bundle.
    quito = await cluster.start("Quito Hub", "Andes")
    await cluster.pair(nairobi, quito)
    assert v1.id_hex not in offered(nairobi, quito)
    assert (await cluster.sync(quito, nairobi)).errors == []
    assert not quito.has(v1) and not quito.has(v2)
    peer = quito.peer(nairobi)
    assert peer is not None
    answer = await cluster.client(quito).call(
        endpoints.FETCH,
        {"ids": [v1.record_id]},
        recipient=peer.node_id,
        base_url=peer.url,
    )  # fmt: skip
    assert answer["records"] == []
    for_quito = nairobi.peer(quito)
    assert for_quito is not None
    bundle = export_bundle(nairobi.node.local_node(), for_quito, None)
    assert bundle.contents.records == [] and bundle.sent_ids == []
    # Nairobi pushing to Quito (Nairobi starts the exchange) moves nothing either.
    report = await cluster.sync(nairobi, quito)
    assert report.errors == [] and report.sent == 0
    assert quito.count("records") == 0

    # Lima holds v2 now: its onward sharing of v1 follows v2's terms (no reshare).
    cusco = await cluster.start("Cusco Hub", "Andes")
    await cluster.pair(lima, cusco)
    assert offered(lima, cusco) == set()
    assert (await cluster.sync(cusco, lima)).errors == []
    assert cusco.count("records") == 0

    # policy explain names the later version, in words, at the origin and at the holder.
    for hub, peer_name in ((nairobi, "Quito Hub"), (lima, "Cusco Hub")):
        result = invoke(hub.home, "policy", "explain", v1.id_hex, peer_name, "--json")
        assert result.exit_code == 0, result.output
        explained = json.loads(result.stdout)
        assert explained["decision"] == "deny"
        narrowing = [r for r in explained["reasons"] if r["code"].startswith("later:")]
        assert narrowing and all(not r["allows"] for r in narrowing), explained
        assert all(r["text"].startswith("a later version (") for r in narrowing)
        assert all(NARROWED in r["text"] for r in narrowing)
