"""Collections: built by curators, versioned, shared under consent, gaps explained.

Three real hubs as in the bundle tests (Nairobi trusts Lima and Quito); records travel in a
real offline bundle, through the receiving node's real inbound checks. What must hold: a
collection never carries a lesson (nor its id) that a peer may not have; the peer sees
each gap with its reason; the origin can say which lessons a peer will miss and why; every
change is a new signed version; bad input stores nothing.
"""

from __future__ import annotations

import dataclasses

import pytest

from archive.details import Collection, item_ref
from archive.errors import UnknownRecord
from archive.queries import load_record
from archive.record import Consent
from archive.signed_record import SignedRecord
from crypto.errors import RhizomeError
from federation.bundles import import_bundle
from governance.members import Member
from governance.roles import NotAllowed
from node.actions.collections import (
    ChangeCollection,
    CollectionError,
    CreateCollection,
    change_collection,
    create_collection,
    gaps_for_peer,
    list_collections,
    show_collection,
)
from node.actions.lessons import RevokeLesson, revoke_lesson
from node.i18n import language
from node.node import Node
from tests.federation.test_bundles import bundle_for
from tests.federation.test_bundles import hubs as bundle_hubs
from tests.federation.test_sharing import FEDERATION, add, count

hubs = bundle_hubs  # the fixture: Nairobi trusts Lima and Quito, nothing synced yet
PUBLIC = dataclasses.replace(FEDERATION, scope="public")
LOCAL = Consent(basis="consent", scope="local")


def admin(node: Node) -> Member:
    return node.member("admin")


def three_lessons(node: Node) -> list[SignedRecord]:
    return [
        add(node, "Observing a march", consent=PUBLIC),
        add(node, "Buddy pairs", consent=FEDERATION),
        add(node, "A story that stays home", consent=LOCAL),
    ]


def make_collection(node: Node, lessons: list[SignedRecord], scope: str = "federation") -> str:
    ids = tuple(record.id_hex[:8] for record in lessons)
    asked = CreateCollection(admin(node), "Legal observer track", "Nairobi 2027",
                             "Read these *first*.", ids, scope)  # fmt: skip
    return create_collection(node, asked)


def test_a_collection_lists_its_lessons_in_order(hubs: dict[str, Node]) -> None:
    nairobi = hubs["nairobi"]
    lessons = three_lessons(nairobi)
    view = show_collection(nairobi, make_collection(nairobi, lessons))
    assert [entry.lesson.id for entry in view.entries if entry.lesson] == [
        record.id_hex for record in lessons
    ]
    assert view.own and not view.gaps
    assert view.collection.cohort == "Nairobi 2027"
    assert view.record.lesson.body == "Read these *first*.\n"


def test_a_peer_gets_the_collection_but_never_a_withheld_lesson_or_its_id(
    hubs: dict[str, Node],
) -> None:
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    public, federation, local = three_lessons(nairobi)
    collection_id = make_collection(nairobi, [public, federation, local])
    data = bundle_for(nairobi, lima)
    assert local.record_id not in data and local.id_hex.encode() not in data
    envelope = load_record(nairobi.db, collection_id).envelope
    assert local.record_id not in envelope  # the collection names it by commitment only
    assert item_ref(local.record_id) in envelope
    import_bundle(lima.local_node(), data)

    view = show_collection(lima, collection_id)
    assert not view.own
    present = [entry.lesson.id for entry in view.entries if entry.lesson]
    assert present == [public.id_hex, federation.id_hex]
    (gap,) = view.gaps
    assert gap.position == 3
    assert gap.gap is not None and "consent scope local" in gap.gap
    assert view.gap_summary() == [(gap.gap, 1)]
    assert count(lima.db, "records") == 3  # two lessons and the collection, not the third


def test_the_origin_says_which_lessons_a_peer_will_miss_and_why(hubs: dict[str, Node]) -> None:
    nairobi = hubs["nairobi"]
    public, federation, local = three_lessons(nairobi)
    collection_id = make_collection(nairobi, [public, federation, local])
    gaps = gaps_for_peer(nairobi, collection_id, "Lima Hub")
    assert [gap.entry.position for gap in gaps] == [3]
    assert any("local" in reason for reason in gaps[0].reasons)
    assert "consent scope is local: it never leaves this node" in gaps[0].said
    with language("es"):  # what `collection show --peer` prints; the English stays for JSON
        (spanish,) = gaps_for_peer(nairobi, collection_id, "Lima Hub")
    assert "el alcance del consentimiento es local: nunca sale de este nodo" in spanish.said
    assert spanish.reasons == gaps[0].reasons


def test_a_local_collection_does_not_leave_at_all(hubs: dict[str, Node]) -> None:
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    lessons = three_lessons(nairobi)
    collection_id = make_collection(nairobi, lessons, scope="local")
    import_bundle(lima.local_node(), bundle_for(nairobi, lima))
    with pytest.raises(UnknownRecord):
        show_collection(lima, collection_id)


def test_changes_are_new_signed_versions_and_the_newest_is_shown(hubs: dict[str, Node]) -> None:
    nairobi = hubs["nairobi"]
    public, federation, local = three_lessons(nairobi)
    first = make_collection(nairobi, [public])
    second = change_collection(
        nairobi,
        ChangeCollection(admin(nairobi), first, add=(local.id_hex, federation.id_hex), position=1),
    )
    third = change_collection(
        nairobi, ChangeCollection(admin(nairobi), first, remove=(local.id_hex,))
    )
    assert len({first, second, third}) == 3
    assert load_record(nairobi.db, third).lesson.supersedes == bytes.fromhex(second)
    view = show_collection(nairobi, first)  # any version's id names the collection
    assert view.record.id_hex == third
    assert [e.lesson.id for e in view.entries if e.lesson] == [federation.id_hex, public.id_hex]
    assert [v.record.id_hex for v in list_collections(nairobi)] == [third]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"add": ("ffffffff",)}, "no record"),
        ({"add": ("zz",)}, "not a record id"),
        ({"remove": ("LESSON",)}, "not in the collection"),
        ({"add": ("PUBLIC",)}, "appears twice"),
        ({"add": ("COLLECTION",)}, "a collection holds lessons"),
    ],
)
def test_a_bad_change_is_refused_and_stores_nothing(
    hubs: dict[str, Node], change: dict[str, tuple[str, ...]], message: str
) -> None:
    nairobi = hubs["nairobi"]
    public, federation, local = three_lessons(nairobi)
    collection_id = make_collection(nairobi, [public, federation])
    names = {"LESSON": local.id_hex, "PUBLIC": public.id_hex, "COLLECTION": collection_id}
    asked = {key: tuple(names.get(v, v) for v in values) for key, values in change.items()}
    before = count(nairobi.db, "records"), count(nairobi.db, "events")
    with pytest.raises(RhizomeError, match=message):
        change_collection(nairobi, ChangeCollection(admin(nairobi), collection_id, **asked))
    assert (count(nairobi.db, "records"), count(nairobi.db, "events")) == before


def test_only_curators_and_admins_build_collections(hubs: dict[str, Node]) -> None:
    nairobi = hubs["nairobi"]
    lessons = three_lessons(nairobi)
    author = dataclasses.replace(admin(nairobi), name="ana", roles=("author",))
    before = count(nairobi.db, "records")
    with pytest.raises(NotAllowed, match="curator"):
        create_collection(nairobi, CreateCollection(author, "X", "Y", "", (lessons[0].id_hex,)))
    assert count(nairobi.db, "records") == before


def test_a_peer_cannot_change_another_hubs_collection(hubs: dict[str, Node]) -> None:
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    public, federation, _ = three_lessons(nairobi)
    collection_id = make_collection(nairobi, [public])
    import_bundle(lima.local_node(), bundle_for(nairobi, lima))
    before = count(lima.db, "records")
    with pytest.raises(CollectionError, match="only the hub that made"):
        change_collection(
            lima, ChangeCollection(admin(lima), collection_id, add=(federation.id_hex,))
        )
    assert count(lima.db, "records") == before


def test_a_collection_record_holds_its_details(hubs: dict[str, Node]) -> None:
    nairobi = hubs["nairobi"]
    lessons = three_lessons(nairobi)
    record = load_record(nairobi.db, make_collection(nairobi, lessons))
    assert record.lesson.kind == "collection"
    assert isinstance(record.lesson.details, Collection)
    assert [item.scope for item in record.lesson.details.items] == ["public", "federation", "local"]


def test_a_withdrawn_lesson_is_a_gap_then_leaves_at_the_next_version(
    hubs: dict[str, Node],
) -> None:
    nairobi = hubs["nairobi"]
    public, federation, local = three_lessons(nairobi)
    collection_id = make_collection(nairobi, [public, federation])
    asked = RevokeLesson(admin(nairobi), federation.id_hex, "consent-withdrawn")
    revoke_lesson(nairobi, asked)
    view = show_collection(nairobi, collection_id)
    (gap,) = view.gaps
    assert gap.position == 2 and gap.gap is not None and "withdrawn" in gap.gap
    newer = change_collection(
        nairobi, ChangeCollection(admin(nairobi), collection_id, add=(local.id_hex,))
    )
    after = show_collection(nairobi, newer)
    assert not after.gaps
    assert [e.lesson.id for e in after.entries if e.lesson] == [public.id_hex, local.id_hex]
