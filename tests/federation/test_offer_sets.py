"""Offer sets kept between syncs are always the set a scan from scratch would build.

A kept offer set (federation/offer_sets.py) is patched from the change feed instead of
rebuilt: these tests drive a real node home through any sequence of what changes an offer
(a lesson added, perhaps as a version or a translation; a record received from a peer; a
withdrawal; a policy edit; an approval; a peer now holding a record; time passing beyond a
consent's expiry) and check after every step, for two peers, that the kept set equals
``Offer.offer_items`` computed from scratch. ``Storage.patched`` is checked against a storage
sealed from the same items.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from contextlib import suppress

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.errors import InvalidLesson
from archive.record import Consent
from archive.signed_record import SignedRecord
from crypto.signing import SigningIdentity
from federation.negentropy import Storage
from federation.negentropy.fingerprint import fingerprint_of_ids
from federation.offer_sets import OfferSets
from federation.peers import Peer, get_peer, record_deliveries, save_peer
from federation.receiving import Receiver
from federation.sharing import Offer
from governance.members import Member
from node.actions.lessons import ApproveLesson, RevokeLesson, approve_lesson, revoke_lesson
from node.actions.members import AddMember, add_member
from node.node import Node
from tests.conftest import SEED_A, SEED_B, FakeClock, HomeFactory
from tests.federation.test_sharing import lesson_of, signed_by

SEED_C = bytes(range(64, 96))
FEDERATION = Consent(basis="consent", scope="federation")
OUTBOUND_TAGS = "tags_deny = []\n# Regions"


# --- Storage.patched -------------------------------------------------------------------

items_strategy = st.sets(
    st.tuples(st.integers(0, 6), st.binary(min_size=32, max_size=32)), max_size=24
)


@given(before=items_strategy, removed=items_strategy, added=items_strategy, picks=st.data())
def test_a_patched_storage_equals_one_sealed_from_its_items(
    before: set[tuple[int, bytes]],
    removed: set[tuple[int, bytes]],
    added: set[tuple[int, bytes]],
    picks: st.DataObject,
) -> None:
    removed |= set(picks.draw(st.lists(st.sampled_from(sorted(before)))) if before else [])
    storage = Storage.from_sorted(sorted(before))

    patched = storage.patched(removed, added)

    expected = sorted((before - removed) | added)
    assert [patched.item_at(i) for i in range(len(patched))] == expected
    for begin in range(len(expected) + 1):
        ids = b"".join(id_ for _, id_ in expected[begin:])
        assert patched.fingerprint(begin, len(expected)) == fingerprint_of_ids(ids)
    assert [storage.item_at(i) for i in range(len(storage))] == sorted(before)  # untouched


# --- Kept offer sets against a scan from scratch ------------------------------------------


@pytest.fixture
def hubs(make_home: HomeFactory, clock: FakeClock) -> Iterator[dict[str, Node]]:
    homes = {
        "nairobi": make_home("Nairobi Hub", "East Africa", identity=_identity(SEED_A)),
        "lima": make_home("Lima Hub", "Andes", identity=_identity(SEED_B), port=8471),
        "quito": make_home("Quito Hub", "Andes", identity=_identity(SEED_C), port=8472),
    }
    nodes = {name: Node(home, clock=clock) for name, home in homes.items()}
    now = int(clock())
    for other in ("lima", "quito"):
        for here, there in ((nodes["nairobi"], nodes[other]), (nodes[other], nodes["nairobi"])):
            config = there.config
            save_peer(here.db, there.node_id, config.name, config.region, config.url, now)
    yield nodes
    for node in nodes.values():
        node.close()


def _identity(seed: bytes) -> SigningIdentity:
    return SigningIdentity.from_seed(seed)


class World:
    """Nairobi's archive, changed step by step; Lima and Quito are its peers."""

    def __init__(self, hubs: dict[str, Node], clock: FakeClock) -> None:
        self.hubs = hubs
        self.node = hubs["nairobi"]
        self.clock = clock
        self.own: list[SignedRecord] = []
        self.held: list[SignedRecord] = []
        admin = self.node.member("admin")
        found = self.node.db.execute("SELECT 1 FROM members WHERE name = 'chidi'").fetchone()
        if found is None:
            add_member(self.node, AddMember(admin, "chidi", ("curator",)))
        self.curator: Member = self.node.member("chidi")
        self.count = 0

    def peer(self, name: str) -> Peer:
        peer = get_peer(self.node.db, self.hubs[name].node_id)
        assert peer is not None
        return peer

    def consent(self, choice: int) -> Consent:
        now = int(self.clock())
        return [
            FEDERATION,
            dataclasses.replace(FEDERATION, scope="peers", peers=(self.hubs["lima"].node_id,)),
            dataclasses.replace(FEDERATION, scope="local"),
            dataclasses.replace(FEDERATION, expires=now + 30),
            dataclasses.replace(FEDERATION, reshare=True),
        ][choice]

    def add(self, choice: int, sensitivity: str, tagged: bool, link: int | None) -> None:
        self.count += 1
        changes: dict[str, object] = {}
        own = [r for r in self.own if self._holds(r)]
        pool = own + [r for r in self.held if self._holds(r)]
        if link is not None and own and link % 2 == 0:
            changes["supersedes"] = own[link % len(own)].record_id
        elif link is not None and pool:
            changes["translation_of"] = pool[link % len(pool)].record_id
        lesson = lesson_of(
            self.node, f"Lesson {self.count}", consent=self.consent(choice),
            sensitivity=sensitivity, tags=("legal",) if tagged else (), **changes,
        )  # fmt: skip
        with suppress(InvalidLesson):  # a version rule refused it: nothing was stored
            self.own.append(self.node.writer.add_lesson(lesson))

    def receive(self, choice: int) -> None:
        self.count += 1
        record = signed_by(
            self.hubs["lima"], f"From Lima {self.count}", consent=self.consent(choice)
        )
        result = Receiver.of(self.node.local_node()).receive([record.envelope], self.peer("lima"))
        if result.stored or result.quarantined:
            self.held.append(record)

    def revoke(self, pick: int) -> None:
        stored = [r for r in self.own if self._holds(r)]
        if stored:
            target = stored[pick % len(stored)]
            admin = self.node.member("admin")
            revoke_lesson(self.node, RevokeLesson(admin, target.id_hex, "consent-withdrawn"))

    def edit_policy(self) -> None:
        path = self.node.paths.policy
        text = path.read_text(encoding="utf-8")
        denying = 'tags_deny = ["legal"]\n# Regions'
        edited = (
            text.replace(denying, OUTBOUND_TAGS)
            if denying in text
            else text.replace(OUTBOUND_TAGS, denying)
        )
        path.write_text(edited, encoding="utf-8")
        stat = path.stat()  # a coarse file-system clock must not hide the edit
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))

    def approve(self, pick: int) -> None:
        stored = [r for r in self.own if self._holds(r)]
        if stored:
            target = stored[pick % len(stored)]
            approve_lesson(self.node, ApproveLesson(self.curator, target.id_hex))

    def deliver(self, pick: int, to: str) -> None:
        stored = [r for r in self.own + self.held if self._holds(r)]
        if stored:
            target = stored[pick % len(stored)]
            record_deliveries(self.node.db, self.hubs[to].node_id, [target.id_hex], "sent", 0)

    def _holds(self, record: SignedRecord) -> bool:
        row = self.node.db.execute("SELECT 1 FROM records WHERE id = ?", [record.id_hex])
        return row.fetchone() is not None


steps = st.one_of(
    st.tuples(
        st.just("add"),
        st.integers(0, 4),
        st.sampled_from(["low", "medium"]),
        st.booleans(),
        st.none() | st.integers(0, 50),
    ),
    st.tuples(st.just("receive"), st.integers(0, 4)),
    st.tuples(st.just("revoke"), st.integers(0, 50)),
    st.tuples(st.just("policy")),
    st.tuples(st.just("approve"), st.integers(0, 50)),
    st.tuples(st.just("deliver"), st.integers(0, 50), st.sampled_from(["lima", "quito"])),
    st.tuples(st.just("time"), st.integers(0, 40)),
)


def apply(world: World, step: tuple[object, ...]) -> None:
    kind, *args = step
    if kind == "add":
        world.add(*args)  # type: ignore[arg-type]
    elif kind == "receive":
        world.receive(*args)  # type: ignore[arg-type]
    elif kind == "revoke":
        world.revoke(*args)  # type: ignore[arg-type]
    elif kind == "policy":
        world.edit_policy()
    elif kind == "approve":
        world.approve(*args)  # type: ignore[arg-type]
    elif kind == "deliver":
        world.deliver(*args)  # type: ignore[arg-type]
    else:
        world.clock.advance(*args)  # type: ignore[arg-type]


def kept_items(offer_sets: OfferSets, node: Node, peer: Peer) -> list[tuple[int, bytes]]:
    storage = offer_sets.storage_for(Offer.of(node.local_node()), peer, node.db)
    return [storage.item_at(i) for i in range(len(storage))]


@settings(
    max_examples=25,
    stateful_step_count=10,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    deadline=None,
)
@given(sequence=st.lists(steps, min_size=1, max_size=10))
def test_a_kept_offer_set_always_equals_one_built_from_scratch(
    hubs: dict[str, Node], clock: FakeClock, sequence: list[tuple[object, ...]]
) -> None:
    world = World(hubs, clock)  # the archive grows across examples: more to patch
    offer_sets = OfferSets()
    for name in ("lima", "quito"):
        kept_items(offer_sets, world.node, world.peer(name))  # built once, then kept
    for step in sequence:
        apply(world, step)
        for name in ("lima", "quito"):
            peer = world.peer(name)
            scratch = Offer.of(world.node.local_node()).offer_items(peer)
            assert kept_items(offer_sets, world.node, peer) == scratch, (step, name)
    assert offer_sets.stats.builds >= 2


def test_an_unchanged_archive_reuses_the_kept_set(hubs: dict[str, Node], clock: FakeClock) -> None:
    world = World(hubs, clock)
    world.add(0, "low", False, None)
    offer_sets = OfferSets()
    lima = world.peer("lima")
    first = offer_sets.storage_for(Offer.of(world.node.local_node()), lima, world.node.db)

    again = offer_sets.storage_for(Offer.of(world.node.local_node()), lima, world.node.db)

    assert again is first and offer_sets.stats.reused == 1 and offer_sets.stats.builds == 1
    world.add(0, "low", False, None)
    patched = offer_sets.storage_for(Offer.of(world.node.local_node()), lima, world.node.db)
    assert len(patched) == len(first) + 1 and offer_sets.stats.patches == 1


def test_kept_sets_stay_within_their_byte_budget(hubs: dict[str, Node], clock: FakeClock) -> None:
    world = World(hubs, clock)
    for _ in range(3):
        world.add(0, "low", False, None)
    offer_sets = OfferSets(budget_bytes=1)  # room for one set only: the newest stays
    for name in ("lima", "quito", "lima"):
        offer_sets.storage_for(Offer.of(world.node.local_node()), world.peer(name), world.node.db)

    assert offer_sets.stats.builds == 3 and offer_sets.stats.evicted == 2
    assert (
        offer_sets.nbytes == len(kept_items(offer_sets, world.node, world.peer("lima"))) * 72 + 32
    )
