"""A hub declares what it uses lessons for; its peers learn it, signed, and decide by it.

Real nodes over real TLS (in-process servers): the purposes each side declared travel in the
pairing messages and decide the first sync; a change travels at the start of the next sync,
re-keys the offer set the other side keeps for it, and the next sync offers exactly what the
decision allows. ``rhizome peer purposes`` no longer overrides a declaring peer.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from archive.signed_record import SignedRecord
from federation.peers import Peer, set_peer_purposes
from federation.purposes import PurposesDeclaredByPeer, declare_own_purposes, declared_by_peer
from federation.sharing import Offer, kept_offer_storage
from tests.integration.conftest import Cluster, RunningNode


def declare(hub: RunningNode, *purposes: str) -> None:
    """As `rhizome purposes set` does, on the hub's own database."""
    node = hub.node
    declare_own_purposes(node.db, node.identity, node.node_id, purposes, node.now())


def add_for(hub: RunningNode, title: str, *purposes: str) -> SignedRecord:
    lesson = hub.lesson(title)
    lesson = replace(lesson, consent=replace(lesson.consent, purposes=purposes))
    return hub.node.writer.add_lesson(lesson)


def peer_of(holder: RunningNode, other: RunningNode) -> Peer:
    found = holder.peer(other)
    assert found is not None
    return found


def offered_now(holder: RunningNode, other: RunningNode) -> set[str]:
    """The ids the kept offer set of ``holder`` for ``other`` holds now (what the next
    sync reconciles), built or patched as a sync would."""
    storage = kept_offer_storage(holder.node.local_node(), peer_of(holder, other))
    return {storage.item_at(i)[1].hex() for i in range(len(storage))}


def allowed_now(holder: RunningNode, other: RunningNode, records: list[SignedRecord]) -> set[str]:
    """The same records, decided one by one from scratch; those ``other`` holds already
    stay in the set (reconciliation must not take them for news)."""
    offer, peer = Offer.of(holder.node.local_node()), peer_of(holder, other)
    decided = {r.id_hex: offer.explain(r.id_hex, peer) for r in records}
    allowed = {record_id for record_id, decided in decided.items() if decided and decided.allowed}
    return allowed | {r.id_hex for r in records if other.has(r)}


async def test_purposes_declared_at_pairing_decide_the_first_sync(cluster: Cluster) -> None:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    declare(a, "research")
    declare(b, "training", "press")
    await cluster.pair(a, b)  # A invites, B joins: each message carries its sender's declaration
    assert peer_of(a, b).purposes == ("press", "training")
    assert peer_of(b, a).purposes == ("research",)
    assert declared_by_peer(a.node.db, b.node_id) is not None
    training = add_for(a, "Training only", "training")
    both = add_for(a, "Training and press", "training", "press")
    any_use = add_for(a, "No purposes named")
    report = await cluster.sync(b, a)
    assert report.errors == []
    assert b.has(both) and b.has(any_use) and not b.has(training)
    explained = Offer.of(a.node.local_node()).explain(training.id_hex, peer_of(a, b))
    assert explained is not None and not explained.allowed
    assert "Hub B declared it uses lessons for press, training; consent allows only training, " \
        "not press" in [reason.text for reason in explained.denials]


async def test_a_change_reaches_the_peer_and_the_next_sync_offers_what_it_allows(
    cluster: Cluster,
) -> None:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    declare(b, "training", "press")
    await cluster.pair(a, b)
    records = [
        add_for(a, "Training only", "training"),
        add_for(a, "Training and research", "training", "research"),
        add_for(a, "No purposes named"),
    ]
    training, research, any_use = records
    assert (await cluster.sync(b, a)).errors == []
    assert offered_now(a, b) == allowed_now(a, b, records) == {any_use.id_hex}
    assert not b.has(training) and not b.has(research)

    declare(b, "training")  # narrower: more lessons may go to B
    assert (await cluster.sync(b, a)).errors == []  # told first, then reconciled
    assert peer_of(a, b).purposes == ("training",)
    assert b.has(training) and b.has(research)
    assert offered_now(a, b) == allowed_now(a, b, records) == set(r.id_hex for r in records)

    declare(b, "training", "press")  # wider again: only lessons that allow press may go
    later = add_for(a, "Training, written later", "training")
    assert (await cluster.sync(b, a)).errors == []
    assert peer_of(a, b).purposes == ("press", "training")
    assert not b.has(later)
    records.append(later)
    assert offered_now(a, b) == allowed_now(a, b, records)
    assert later.id_hex not in offered_now(a, b)  # held ones stay, the new one is withheld
    # Told once: the next sync sends no declaration again (A notes no new one).
    noted = a.count("events", "kind = 'peer.purposes'")
    assert noted == 3  # at pairing, then after each of the two changes
    assert (await cluster.sync(b, a)).errors == []
    assert a.count("events", "kind = 'peer.purposes'") == noted
    assert peer_of(a, b).purposes == ("press", "training")


async def test_a_declaring_peer_is_not_overridden_by_hand(cluster: Cluster) -> None:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    c = await cluster.start("Hub C")
    declare(b, "research")
    await cluster.pair(a, b)
    await cluster.pair(a, c)  # C never declared: an operator may record its purposes here
    with pytest.raises(PurposesDeclaredByPeer, match="Hub B declared its purposes itself"):
        set_peer_purposes(a.node.db, b.node_id, ["training"])
    assert peer_of(a, b).purposes == ("research",)
    assert set_peer_purposes(a.node.db, c.node_id, ["training"]).purposes == ("training",)
