"""What a node offers a peer, and what it takes in from one, on real node homes.

``offer_items`` is the set a node reconciles with a peer: exactly the records the outbound
decision allows for that peer, plus those the peer already holds. ``receive_records`` is the
one way in: verify, decide, store, all in one transaction; a peer that sends a bad record or
one it had no right to send gets a strike (issue 3, "Sync engine").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgpack
import pytest
import sqlite_utils

from archive.db import transaction
from archive.record import Consent, Lesson, Subject, encode_lesson
from archive.signed_record import SignedRecord, sign_lesson
from archive.store import has_record, insert_record
from crypto.envelope import seal
from crypto.signing import RECORD_CONTEXT, SigningIdentity
from federation import sharing
from federation.peers import Peer, get_peer, record_deliveries, save_peer, set_status
from federation.sharing import ReceiveResult, Sharing
from node.node import Node
from tests.conftest import SEED_A, SEED_B, START, FakeClock, HomeFactory, write_lesson

SEED_C = bytes(range(64, 96))
FEDERATION = Consent(basis="consent", scope="federation")


# --- Three hubs on real homes -----------------------------------------------------------


@pytest.fixture
def hubs(make_home: HomeFactory, clock: FakeClock) -> Iterator[dict[str, Node]]:
    """Nairobi, Lima and Quito, each a real node home; Nairobi trusts the other two and
    each of them trusts Nairobi (Lima and Quito do not know each other)."""
    homes = {
        "nairobi": make_home("Nairobi Hub", "East Africa", identity=_identity(SEED_A)),
        "lima": make_home("Lima Hub", "Andes", identity=_identity(SEED_B), port=8471),
        "quito": make_home("Quito Hub", "Andes", identity=_identity(SEED_C), port=8472),
    }
    nodes = {name: Node(home, clock=clock) for name, home in homes.items()}
    pair(nodes["nairobi"], nodes["lima"])
    pair(nodes["nairobi"], nodes["quito"])
    yield nodes
    for node in nodes.values():
        node.close()


def _identity(seed: bytes) -> SigningIdentity:
    return SigningIdentity.from_seed(seed)


def pair(a: Node, b: Node) -> None:
    """What a finished pairing leaves behind: each lists the other as an active peer."""
    now = int(a.clock())
    for here, there in ((a, b), (b, a)):
        save_peer(
            here.db, there.node_id, there.config.name, there.config.region, there.config.url, now
        )


def peer_of(here: Node, there: Node) -> Peer:
    """How ``here`` knows ``there``."""
    peer = get_peer(here.db, there.node_id)
    assert peer is not None
    return peer


def lesson_of(node: Node, title: str, *, created: int | None = None, **changes: Any) -> Lesson:
    lesson = Lesson(
        kind="checklist",
        title=title,
        body=f"What we learned: {title}.\n",
        language="en",
        region=node.config.region,
        created=int(node.clock()) if created is None else created,
        origin=node.public_key,
        author="admin",
        consent=FEDERATION,
    )
    return dataclasses.replace(lesson, **changes)


def add(node: Node, title: str, **changes: Any) -> SignedRecord:
    """A lesson written on ``node`` by its own author."""
    return node.writer.add_lesson(lesson_of(node, title, **changes))


def signed_by(origin: Node, title: str, **changes: Any) -> SignedRecord:
    """A record as ``origin`` signs it, not stored anywhere yet."""
    return sign_lesson(origin.identity, lesson_of(origin, title, **changes))


def hold(node: Node, record: SignedRecord, received_from: Node) -> None:
    """Put a record in ``node``'s archive as if it had arrived from ``received_from``."""
    with transaction(node.db):
        insert_record(node.db, record, received_from.node_id, int(node.clock()))
        record_deliveries(node.db, received_from.node_id, [record.id_hex], "received", 0)


def sharing_of(node: Node) -> Sharing:
    """One evaluation on ``node``: its archive, key, policy.toml and clock, as sync uses."""
    return Sharing.of(node.local_node())


def offered_ids(node: Node, to: Node) -> set[str]:
    items = sharing_of(node).offer_items(peer_of(node, to))
    return {record_id.hex() for _, record_id in items}


def count(db: sqlite_utils.Database, table: str) -> int:
    value: int = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return value


def strikes(here: Node, sender: Node) -> list[tuple[str, str | None]]:
    rows = here.db.execute(
        "SELECT reason, record_id FROM strikes WHERE peer_id = ? ORDER BY id", [sender.node_id]
    ).fetchall()
    assert peer_of(here, sender).strikes == len(rows)
    return [(str(reason), record_id) for reason, record_id in rows]


def receive(here: Node, sender: Node, *envelopes: bytes) -> ReceiveResult:
    return sharing_of(here).receive(list(envelopes), peer_of(here, sender))


# --- offer_items ------------------------------------------------------------------------


def test_offer_items_is_what_the_decision_allows_plus_what_the_peer_holds(
    hubs: dict[str, Node], clock: FakeClock
) -> None:
    nairobi, lima, quito = hubs["nairobi"], hubs["lima"], hubs["quito"]
    offered = {
        "federation": add(nairobi, "Open to all peers"),
        "public": add(nairobi, "Public", consent=dataclasses.replace(FEDERATION, scope="public")),
        "names lima": add(
            nairobi, "For Lima", consent=Consent("consent", "peers", peers=(lima.node_id,))
        ),
        "sent before it expired": add(
            nairobi,
            "Sent, then expired",
            consent=dataclasses.replace(FEDERATION, expires=START + 5),
        ),
        "quito's, reshareable": signed_by(
            quito, "Pass it on", consent=dataclasses.replace(FEDERATION, reshare=True)
        ),
        "lima's own": signed_by(
            lima, "From Lima", consent=Consent("consent", "peers", peers=(nairobi.node_id,))
        ),
        "lima sent it": signed_by(quito, "Lima passed this on", created=START - 10),
    }
    withheld = {
        "local": add(nairobi, "Stays home", consent=Consent("consent", "local")),
        "no consent": add(nairobi, "Only a notice", consent=Consent("notice", "federation")),
        "default consent": add(nairobi, "Nobody asked", consent=Consent()),
        "names quito": add(
            nairobi, "For Quito", consent=Consent("consent", "peers", peers=(quito.node_id,))
        ),
        "high": add(nairobi, "Names and places", sensitivity="high"),
        "medium, unapproved": add(nairobi, "Needs a curator", sensitivity="medium"),
        "expired": add(
            nairobi, "Expired", consent=dataclasses.replace(FEDERATION, expires=START + 5)
        ),
        "region denied": add(
            nairobi,
            "Not the Andes",
            consent=dataclasses.replace(FEDERATION, regions_deny=("Andes",)),
        ),
        "region not allowed": add(
            nairobi,
            "East Africa only",
            consent=dataclasses.replace(FEDERATION, regions_allow=("East Africa",)),
        ),
        "withdrawn": add(
            nairobi,
            "A participant withdrew",
            consent=dataclasses.replace(
                FEDERATION, subjects=(Subject("Amani", True, withdrawn=True),)
            ),
        ),
        "quito's, not reshareable": signed_by(quito, "Only for Nairobi"),
    }
    hold(nairobi, offered["quito's, reshareable"], quito)
    hold(nairobi, withheld["quito's, not reshareable"], quito)
    hold(nairobi, offered["lima's own"], lima)
    hold(nairobi, offered["lima sent it"], lima)
    with transaction(nairobi.db):
        record_deliveries(
            nairobi.db, lima.node_id, [offered["sent before it expired"].id_hex], "sent", START
        )
    clock.advance(10)

    assert offered_ids(nairobi, lima) == {record.id_hex for record in offered.values()}
    assert not offered_ids(nairobi, lima) & {record.id_hex for record in withheld.values()}


def test_offer_items_matches_the_outbound_decision_for_records_the_peer_lacks(
    hubs: dict[str, Node],
) -> None:
    nairobi, lima, quito = hubs["nairobi"], hubs["lima"], hubs["quito"]
    for scope in ("local", "peers", "federation", "public"):
        for sensitivity in ("low", "medium", "high"):
            add(nairobi, f"{scope} {sensitivity}", sensitivity=sensitivity,
                consent=Consent("consent", scope, peers=(lima.node_id,)))  # fmt: skip
    hold(nairobi, signed_by(quito, "Quito's", consent=FEDERATION), quito)
    evaluation, peer = sharing_of(nairobi), peer_of(nairobi, lima)
    ids = [str(row[0]) for row in nairobi.db.execute("SELECT id FROM records")]
    allowed = set()
    for record_id in ids:
        decision = evaluation.explain(record_id, peer)
        assert decision is not None
        if decision.allowed:
            allowed.add(record_id)
    assert len(allowed) == 3  # peers, federation, public; low only (medium needs a curator)
    assert offered_ids(nairobi, lima) == allowed


def test_offer_items_are_sorted_by_created_then_id(hubs: dict[str, Node]) -> None:
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    for n, created in enumerate([START + 5, START, START + 5, START - 3, START, START + 5]):
        add(nairobi, f"Lesson {n}", created=created)
    items = sharing_of(nairobi).offer_items(peer_of(nairobi, lima))
    assert len(items) == 6
    assert items == sorted(items)
    assert all(isinstance(created, int) and len(record_id) == 32 for created, record_id in items)


def test_offer_items_for_a_suspended_peer_holds_only_what_it_already_has(
    hubs: dict[str, Node],
) -> None:
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    add(nairobi, "Open to all peers")
    theirs = signed_by(lima, "From Lima")
    hold(nairobi, theirs, lima)
    set_status(nairobi.db, lima.node_id, "suspended")
    assert offered_ids(nairobi, lima) == {theirs.id_hex}


def test_there_is_no_decision_for_a_record_we_do_not_hold(hubs: dict[str, Node]) -> None:
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    assert sharing_of(nairobi).explain("00" * 32, peer_of(nairobi, lima)) is None


def test_a_lesson_naming_its_peer_by_name_is_offered_to_that_peer(
    hubs: dict[str, Node], tmp_path: Path
) -> None:
    """docs/reference/lesson-format.md: ``peers`` lists "the peers `scope: peers` allows, by
    name or node id" (issue 4: "ids or names as `peer list` shows them")."""
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    front = {
        "title": "For the Lima hub",
        "kind": "checklist",
        "consent": {"scope": "peers", "peers": [peer_of(nairobi, lima).name]},
    }
    record = nairobi.add_lesson_file(write_lesson(tmp_path, "for-lima.md", front))
    assert record.id_hex in offered_ids(nairobi, lima)
    assert receive(lima, nairobi, record.envelope).stored == [record.id_hex]


# --- receive_records --------------------------------------------------------------------


def test_allowed_records_are_stored_with_their_sender_and_logged(hubs: dict[str, Node]) -> None:
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    records = [add(nairobi, "First"), add(nairobi, "Second")]
    events_before = count(lima.db, "events")

    result = receive(lima, nairobi, *(record.envelope for record in records))

    assert result.stored == [record.id_hex for record in records]
    assert (result.duplicates, result.rejected) == (0, [])
    for record in records:
        row = lima.db.execute(
            "SELECT envelope, origin, received_from FROM records WHERE id = ?", [record.id_hex]
        ).fetchone()
        assert tuple(row) == (record.envelope, nairobi.node_id, nairobi.node_id)
    assert count(lima.db, "events") == events_before + 2
    kinds = lima.db.execute("SELECT kind FROM events ORDER BY seq DESC LIMIT 2").fetchall()
    assert {kind for (kind,) in kinds} == {"record.received"}
    assert sharing.known_held(lima.db, nairobi.node_id) == {r.id_hex for r in records}
    assert strikes(lima, nairobi) == []


def test_duplicates_are_counted_not_stored_twice(hubs: dict[str, Node]) -> None:
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    record = add(nairobi, "Once only")
    first = receive(lima, nairobi, record.envelope, record.envelope)
    assert (first.stored, first.duplicates) == ([record.id_hex], 1)
    again = receive(lima, nairobi, record.envelope)
    assert (again.stored, again.duplicates, again.rejected) == ([], 1, [])
    assert count(lima.db, "records") == 1
    assert strikes(lima, nairobi) == []


def flip_signature(envelope: bytes) -> bytes:
    version, signer, payload, signature = msgpack.unpackb(envelope)
    damaged = signature[:-1] + bytes([signature[-1] ^ 1])
    return msgpack.packb([version, signer, payload, damaged], use_bin_type=True)


def forged_origin(signer: Node, claimed: Node) -> bytes:
    """A record naming ``claimed`` as its origin but signed by ``signer``."""
    lesson = lesson_of(claimed, "Not really from there")
    return seal(signer.identity, RECORD_CONTEXT, encode_lesson(lesson)).raw


def test_a_bad_record_is_rejected_with_a_strike(hubs: dict[str, Node]) -> None:
    nairobi, lima, quito = hubs["nairobi"], hubs["lima"], hubs["quito"]
    good = add(nairobi, "Good")
    bad = [
        flip_signature(good.envelope),
        good.envelope[:-1],
        b"\x00junk",
        b"",
        forged_origin(nairobi, quito),
    ]
    result = receive(lima, nairobi, *bad)
    assert (result.stored, result.duplicates) == ([], 0)
    assert len(result.rejected) == len(bad)
    assert all(record_id is None for record_id, _ in result.rejected)
    assert all(reason.startswith("bad_record: ") for _, reason in result.rejected)
    assert [reason for reason, _ in strikes(lima, nairobi)] == [r for _, r in result.rejected]
    assert count(lima.db, "records") == 0
    assert count(lima.db, "deliveries") == 0


def test_a_deeply_nested_record_is_rejected_like_any_bad_record(hubs: dict[str, Node]) -> None:
    """msgpack accepts 1,024 levels of nesting; a record of a thousand one-item arrays is junk
    from the peer, to be refused with a strike, not an exception that aborts the batch."""
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    good = add(nairobi, "Good")
    try:
        result = receive(lima, nairobi, good.envelope, b"\x91" * 1000 + b"\xc0")
    except RecursionError:
        pytest.fail("Sharing.receive raised RecursionError on a deeply nested record")
    assert result.stored == [good.id_hex]
    assert len(result.rejected) == 1


def test_a_record_the_sender_had_no_right_to_send_is_rejected_with_a_strike(
    hubs: dict[str, Node],
) -> None:
    nairobi, lima, quito = hubs["nairobi"], hubs["lima"], hubs["quito"]
    local = add(nairobi, "Stays home", consent=Consent("consent", "local"))
    for_quito = add(
        nairobi, "For Quito", consent=Consent("consent", "peers", peers=(quito.node_id,))
    )
    not_reshareable = signed_by(quito, "Only for Nairobi")
    lima_own = signed_by(lima, "Lima's own, which Lima no longer holds")
    expired = add(nairobi, "Expired", consent=dataclasses.replace(FEDERATION, expires=START))

    result = receive(
        lima, nairobi,
        local.envelope, for_quito.envelope, not_reshareable.envelope, lima_own.envelope,
        expired.envelope,
    )  # fmt: skip

    assert result.stored == []
    assert result.rejected == [
        (local.id_hex, "not_allowed: scope_local"),
        (for_quito.id_hex, "not_allowed: not_named_peer"),
        (not_reshareable.id_hex, "not_allowed: no_reshare"),
        (lima_own.id_hex, "not_allowed: own_origin"),
        (expired.id_hex, "not_allowed: consent_expired"),
    ]
    assert strikes(lima, nairobi) == [(reason, rid) for rid, reason in result.rejected]
    assert not any(
        has_record(lima.db, r.id_hex) for r in (local, for_quito, not_reshareable, expired)
    )


def test_a_reshareable_record_comes_in_through_a_third_node_with_its_origin(
    hubs: dict[str, Node],
) -> None:
    nairobi, lima, quito = hubs["nairobi"], hubs["lima"], hubs["quito"]
    record = signed_by(quito, "Pass it on", consent=dataclasses.replace(FEDERATION, reshare=True))
    assert receive(lima, nairobi, record.envelope).stored == [record.id_hex]
    row = lima.db.execute(
        "SELECT origin, received_from FROM records WHERE id = ?", [record.id_hex]
    ).fetchone()
    assert tuple(row) == (quito.node_id, nairobi.node_id)


def test_nothing_is_taken_from_a_suspended_peer(hubs: dict[str, Node]) -> None:
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    record = add(nairobi, "Open to all peers")
    set_status(lima.db, nairobi.node_id, "suspended")
    result = receive(lima, nairobi, record.envelope)
    assert result.rejected == [(record.id_hex, "not_allowed: peer_not_active")]
    assert not has_record(lima.db, record.id_hex)


def test_good_records_are_kept_beside_rejected_ones(hubs: dict[str, Node]) -> None:
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    good = add(nairobi, "Good")
    local = add(nairobi, "Stays home", consent=Consent("consent", "local"))
    result = receive(lima, nairobi, b"junk", good.envelope, local.envelope)
    assert result.stored == [good.id_hex]
    assert len(result.rejected) == 2
    assert len(strikes(lima, nairobi)) == 2


def test_a_batch_is_one_transaction(hubs: dict[str, Node], monkeypatch: pytest.MonkeyPatch) -> None:
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    first, second = add(nairobi, "First"), add(nairobi, "Second")
    calls: list[str | None] = []
    real_append_event = sharing.append_event

    def failing_on_the_second(*args: Any, **kwargs: Any) -> int:
        calls.append(args[3])
        if len(calls) == 2:
            raise OSError("disk full")
        return real_append_event(*args, **kwargs)

    monkeypatch.setattr(sharing, "append_event", failing_on_the_second)
    with pytest.raises(OSError, match="disk full"):
        receive(lima, nairobi, b"junk", first.envelope, second.envelope)
    assert calls == [first.id_hex, second.id_hex]
    for table in ("records", "records_fts", "deliveries", "strikes"):
        assert count(lima.db, table) == 0, table
    assert peer_of(lima, nairobi).strikes == 0
    assert not lima.db.conn.in_transaction
