"""What a node offers a peer, and what it takes in from one, on real node homes.

``offer_items`` is the set a node reconciles with a peer: exactly the records the outbound
decision allows for that peer, plus those the peer already holds. ``receive_records`` is the
one way in: verify, decide, store, all in one transaction; a peer that sends a bad record or
one it had no right to send gets a strike (issue 3, "Sync engine"), while a record our own
policy, our region or the time refuses costs it nothing. Every refusal is remembered under
the policy's hash, so a sync does not fetch it again until the policy changes.
"""

from __future__ import annotations

import dataclasses
import os
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
from federation import receiving, sharing
from federation.peers import Peer, change_peer_status, get_peer, record_deliveries, save_peer
from federation.receiving import Receiver, ReceiveResult
from federation.sharing import Offer
from governance.decision_log import denial_states, recent_decisions, refused_under
from governance.decisions import STRIKE_CODES
from governance.quarantine import accept_quarantined
from node.node import Node
from tests.conftest import SEED_A, SEED_B, START, FakeClock, HomeFactory, write_lesson

SEED_C = bytes(range(64, 96))
FEDERATION = Consent(basis="consent", scope="federation")
WITHDRAWN = dataclasses.replace(FEDERATION, subjects=(Subject("Amani", True, withdrawn=True),))
# Lines of the default policy.toml, as ``init`` writes it.
INBOUND_DENIES_NOTHING = "# Kinds and tags we never take in.\nkinds_deny = []\ntags_deny = []\n"
INBOUND_DENIES_CASE_STUDIES_AND_LEGAL = (
    '# Kinds and tags we never take in.\nkinds_deny = ["case_study"]\ntags_deny = ["legal"]\n'
)
OUTBOUND_TAGS_DENY = "tags_deny = []\n# Regions"


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


def offer_of(node: Node) -> Offer:
    """One evaluation on ``node``: its archive, key, policy.toml and clock, as sync uses."""
    return Offer.of(node.local_node())


def offered_ids(node: Node, to: Node) -> set[str]:
    items = offer_of(node).offer_items(peer_of(node, to))
    return {record_id.hex() for _, record_id in items}


def change_policy(node: Node, old: str, new: str) -> str:
    """Edit ``node``'s policy.toml as an operator would; the hash of the policy now in force."""
    path = node.paths.policy
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    before = node.policy().hash
    path.write_text(text.replace(old, new), encoding="utf-8")
    stat = path.stat()  # a coarse file-system clock must not hide the edit from the node
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    after = node.policy().hash
    assert after != before
    assert offer_of(node).policy.hash == after
    return after


def count(db: sqlite_utils.Database, table: str) -> int:
    value: int = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return value


def strikes(here: Node, sender: Node) -> list[tuple[str, str | None]]:
    rows = here.db.execute(
        "SELECT reason, record_id FROM strikes WHERE peer_id = ? ORDER BY id", [sender.node_id]
    ).fetchall()
    assert peer_of(here, sender).strikes == len(rows)
    return [(str(reason), record_id) for reason, record_id in rows]


def receive(here: Node, sender: Node, *envelopes: bytes, hold: bool = True) -> ReceiveResult:
    receiver = dataclasses.replace(Receiver.of(here.local_node()), hold_unknown_keys=hold)
    return receiver.receive(list(envelopes), peer_of(here, sender))


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
    evaluation, peer = offer_of(nairobi), peer_of(nairobi, lima)
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
    items = offer_of(nairobi).offer_items(peer_of(nairobi, lima))
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
    change_peer_status(nairobi.db, lima.node_id, "suspend")
    assert offered_ids(nairobi, lima) == {theirs.id_hex}


def test_there_is_no_decision_for_a_record_we_do_not_hold(hubs: dict[str, Node]) -> None:
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    assert offer_of(nairobi).explain("00" * 32, peer_of(nairobi, lima)) is None


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


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"regions_deny": ("andes",)}, "region_denied"),
        ({"regions_deny": (" ANDES ",)}, "region_denied"),
        ({"regions_allow": ("east africa",)}, "region_not_allowed"),
        ({"regions_allow": ("andes",)}, None),
        ({"regions_deny": ("east africa",)}, None),
    ],
    ids=["deny-lower", "deny-upper-spaced", "allow-other", "allow-lower", "deny-other"],
)
def test_outbound_consent_regions_compare_without_regard_to_case(
    hubs: dict[str, Node], changes: dict[str, Any], code: str | None
) -> None:
    """Regions compare like ``same_region`` both ways: a consent that keeps a record out of
    "andes" keeps it from Lima (region "Andes"), as Lima's own inbound check would."""
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    record = add(nairobi, "Regional", consent=dataclasses.replace(FEDERATION, **changes))
    decision = offer_of(nairobi).explain(record.id_hex, peer_of(nairobi, lima))
    assert decision is not None
    denied = [reason.code for reason in decision.denials]
    assert denied == ([code] if code else [])
    assert (record.id_hex in offered_ids(nairobi, lima)) is (code is None)


# --- envelopes_for ----------------------------------------------------------------------


def test_envelopes_for_stops_before_the_budget_and_says_how_many_ids_it_handled(
    hubs: dict[str, Node],
) -> None:
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    allowed = [add(nairobi, f"Open {n}", body=f"{'notes ' * 40 * (n + 1)}\n") for n in range(4)]
    local = add(nairobi, "Stays home", consent=Consent("consent", "local"))
    unknown = bytes(32)
    first, second, third, fourth = allowed
    asked = [
        first.record_id, unknown, local.record_id,
        second.record_id, third.record_id, fourth.record_id,
    ]  # fmt: skip
    budget = sum(len(record.envelope) for record in allowed[:3])
    evaluation, peer = offer_of(nairobi), peer_of(nairobi, lima)

    found, handled = evaluation.envelopes_for(asked, peer, budget)

    assert found == [(r.id_hex, r.envelope) for r in allowed[:3]]
    assert handled == 5, "the unknown and denied ids count as handled; the fourth is left"
    assert sum(len(envelope) for _, envelope in found) <= budget
    rest, handled_rest = evaluation.envelopes_for(asked[handled:], peer, budget)
    assert (rest, handled_rest) == ([(fourth.id_hex, fourth.envelope)], 1)

    logged = {(d.record_id, d.allowed) for d in recent_decisions(nairobi.db, limit=100)}
    assert (local.id_hex, False) in logged
    assert {(r.id_hex, True) for r in allowed} <= logged
    assert unknown.hex() not in {record_id for record_id, _ in logged}


def test_envelopes_for_reads_the_records_facts_in_one_query(hubs: dict[str, Node]) -> None:
    """A fetch asks for up to 500 records: their facts and envelopes come in one query, and
    their approvals in one more, however many are asked for."""
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    records = [add(nairobi, f"Lesson {n}") for n in range(12)]
    evaluation, peer = offer_of(nairobi), peer_of(nairobi, lima)
    evaluation.envelopes_for([records[0].record_id], peer, 1 << 20)  # fills the archive caches
    statements: list[str] = []
    nairobi.db.conn.set_trace_callback(statements.append)
    try:
        found, handled = evaluation.envelopes_for([r.record_id for r in records], peer, 1 << 20)
    finally:
        nairobi.db.conn.set_trace_callback(None)
    assert handled == len(records) and found
    reads = [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]
    assert len([sql for sql in reads if "FROM records" in sql]) == 1, reads
    assert len([sql for sql in reads if "FROM approvals" in sql]) == 1, reads


def test_envelopes_for_hands_out_one_record_even_over_the_budget(hubs: dict[str, Node]) -> None:
    """Each answer makes progress: a record larger than the budget goes out alone."""
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    first, second = add(nairobi, "First"), add(nairobi, "Second")
    evaluation, peer = offer_of(nairobi), peer_of(nairobi, lima)
    ids = [first.record_id, second.record_id]

    assert evaluation.envelopes_for(ids, peer, 1) == ([(first.id_hex, first.envelope)], 1)
    exact = len(first.envelope) + len(second.envelope)
    found, handled = evaluation.envelopes_for(ids, peer, exact)
    assert (len(found), handled) == (2, 2)
    found, handled = evaluation.envelopes_for(ids, peer, exact - 1)
    assert (len(found), handled) == (1, 1)
    assert evaluation.envelopes_for([], peer, exact) == ([], 0)
    assert evaluation.envelopes_for([bytes(32), bytes(range(32))], peer, 1) == ([], 2)


def test_a_quarantined_record_is_explained_as_quarantined_until_a_curator_accepts_it(
    hubs: dict[str, Node],
) -> None:
    nairobi, lima, quito = hubs["nairobi"], hubs["lima"], hubs["quito"]
    change_policy(nairobi, "quarantine = false", "quarantine = true")
    record = signed_by(quito, "Pass it on", consent=dataclasses.replace(FEDERATION, reshare=True))
    assert receive(nairobi, quito, record.envelope).quarantined == [record.id_hex]
    evaluation, peer = offer_of(nairobi), peer_of(nairobi, lima)

    decision = evaluation.explain(record.id_hex, peer)
    assert decision is not None and not decision.allowed
    assert [reason.code for reason in decision.denials] == ["quarantined"]
    assert evaluation.envelopes_for([record.record_id], peer, 1 << 20) == ([], 1)
    assert record.id_hex not in offered_ids(nairobi, lima)

    accept_quarantined(nairobi.db, nairobi.identity, record.id_hex, "admin", int(nairobi.clock()))
    decision = offer_of(nairobi).explain(record.id_hex, peer)
    assert decision is not None and decision.allowed
    assert record.id_hex in offered_ids(nairobi, lima)


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
    # Once the sync learnt what it could of the origins' key histories (federation/sync.py).
    result = receive(lima, nairobi, *bad, hold=False)
    assert (result.stored, result.duplicates) == ([], 0)
    assert len(result.rejected) == len(bad)
    assert all(record_id is None for record_id, _ in result.rejected)
    assert all(reason.startswith("bad_record: ") for _, reason in result.rejected)
    assert [reason for reason, _ in strikes(lima, nairobi)] == [r for _, r in result.rejected]
    assert count(lima.db, "records") == 0
    assert count(lima.db, "deliveries") == 0


def test_a_record_signed_by_a_key_not_yet_learnt_is_held_not_struck(
    hubs: dict[str, Node],
) -> None:
    """Signed by a key that is on no chain we know of its origin: perhaps a later key we
    have not learnt yet (the origin rotated), so the sender is not struck before we learn."""
    nairobi, lima, quito = hubs["nairobi"], hubs["lima"], hubs["quito"]
    forged = forged_origin(nairobi, quito)
    result = receive(lima, nairobi, forged, flip_signature(add(nairobi, "Good").envelope))
    assert result.held == [(quito.identity.node_key, forged)]
    assert (result.stored, result.quarantined, result.duplicates) == ([], [], 0)
    assert len(result.rejected) == 1  # the broken signature is no key question: struck
    assert len(strikes(lima, nairobi)) == 1
    assert count(lima.db, "records") == 0


def test_a_deeply_nested_record_is_rejected_like_any_bad_record(hubs: dict[str, Node]) -> None:
    """msgpack accepts 1,024 levels of nesting; a record of a thousand one-item arrays is junk
    from the peer, to be refused with a strike, not an exception that aborts the batch."""
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    good = add(nairobi, "Good")
    try:
        result = receive(lima, nairobi, good.envelope, b"\x91" * 1000 + b"\xc0")
    except RecursionError:
        pytest.fail("Receiver.receive raised RecursionError on a deeply nested record")
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
    notice = signed_by(nairobi, "Only a notice", consent=Consent("notice", "federation"))
    withdrawn = signed_by(nairobi, "A participant withdrew", consent=WITHDRAWN)
    quitos = signed_by(quito, "Quito's lesson, held by Lima", consent=FEDERATION)
    hold(lima, quitos, nairobi)
    hijack = signed_by(nairobi, "A new version of Quito's lesson", supersedes=quitos.record_id)
    refused = [local, for_quito, not_reshareable, lima_own, notice, withdrawn, hijack]

    result = receive(lima, nairobi, *(record.envelope for record in refused))

    assert (result.stored, result.quarantined, result.duplicates) == ([], [], 0)
    assert result.rejected == [
        (local.id_hex, "not_allowed: scope_local"),
        (for_quito.id_hex, "not_allowed: not_named_peer"),
        (not_reshareable.id_hex, "not_allowed: no_reshare"),
        (lima_own.id_hex, "not_allowed: own_origin"),
        (notice.id_hex, "not_allowed: no_consent"),
        (withdrawn.id_hex, "not_allowed: subject_withheld"),
        (hijack.id_hex, "not_allowed: foreign_supersede"),
    ]
    assert {reason.removeprefix("not_allowed: ") for _, reason in result.rejected} == STRIKE_CODES
    assert strikes(lima, nairobi) == [(reason, rid) for rid, reason in result.rejected]
    assert not any(has_record(lima.db, record.id_hex) for record in refused)


def test_a_refusal_for_timing_or_our_region_gives_no_strike(
    hubs: dict[str, Node], clock: FakeClock
) -> None:
    """An expiry can pass while a record travels, and the consent's regions are checked
    against *our* region, which the sender may not know: refused, but not the sender's fault.
    Lima is in the Andes; regions compare without regard to case."""
    nairobi, lima = hubs["nairobi"], hubs["lima"]

    def consent(**changes: Any) -> Consent:
        return dataclasses.replace(FEDERATION, **changes)

    refused = {
        "consent_expired": signed_by(nairobi, "Expired", consent=consent(expires=START)),
        "subject_expired": signed_by(
            nairobi,
            "A participant's consent ran out",
            consent=consent(subjects=(Subject("Amani", True, expires=START),)),
        ),
        "region_denied": signed_by(
            nairobi, "Not the Andes", consent=consent(regions_deny=("andes",))
        ),
        "region_not_allowed": signed_by(
            nairobi, "East Africa only", consent=consent(regions_allow=("EAST AFRICA",))
        ),
    }
    taken = [
        signed_by(nairobi, "For the Andes", consent=consent(regions_allow=("ANDES",))),
        signed_by(nairobi, "Not East Africa", consent=consent(regions_deny=("east africa",))),
    ]
    clock.advance(1)

    result = receive(lima, nairobi, *(r.envelope for r in [*refused.values(), *taken]))

    assert result.rejected == [
        (record.id_hex, f"not_allowed: {code}") for code, record in refused.items()
    ]
    assert result.stored == [record.id_hex for record in taken]
    assert not STRIKE_CODES & set(refused)
    assert strikes(lima, nairobi) == []
    assert peer_of(lima, nairobi).strikes == 0
    assert not any(has_record(lima.db, record.id_hex) for record in refused.values())


def test_a_policy_refusal_gives_no_strike_but_a_rule_breaking_one_does(
    hubs: dict[str, Node],
) -> None:
    """Our own ``[inbound]`` kinds_deny and tags_deny are ours: a peer may send what they
    refuse without breaking any rule. A record that breaks a rule still costs a strike, even
    when our policy would have refused it anyway."""
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    change_policy(lima, INBOUND_DENIES_NOTHING, INBOUND_DENIES_CASE_STUDIES_AND_LEGAL)
    by_kind = signed_by(nairobi, "A case study", kind="case_study")
    by_tag = signed_by(nairobi, "Court dates", tags=("legal",))
    by_both = signed_by(nairobi, "A legal case study", kind="case_study", tags=("legal",))
    breaks_the_rules = signed_by(
        nairobi, "Legal, and stays home", tags=("legal",), consent=Consent("consent", "local")
    )
    good = signed_by(nairobi, "Fine to take in", tags=("training",))

    result = receive(
        lima, nairobi, by_kind.envelope, by_tag.envelope, by_both.envelope,
        breaks_the_rules.envelope, good.envelope,
    )  # fmt: skip

    assert result.stored == [good.id_hex]
    assert result.rejected == [
        (by_kind.id_hex, "not_allowed: kind_refused"),
        (by_tag.id_hex, "not_allowed: tag_refused"),
        (by_both.id_hex, "not_allowed: kind_refused,tag_refused"),
        (breaks_the_rules.id_hex, "not_allowed: scope_local,tag_refused"),
    ]
    assert strikes(lima, nairobi) == [
        ("not_allowed: scope_local,tag_refused", breaks_the_rules.id_hex)
    ]


def test_a_refused_record_is_not_fetched_again_until_the_policy_changes(
    hubs: dict[str, Node],
) -> None:
    """Every inbound refusal is remembered as "deny:codes@policy hash", so a sync does not
    fetch the record again (``refused_under``) while the same policy is in force; once the
    policy changes, the record is worth asking for again, and may now come in."""
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    first_hash = change_policy(lima, INBOUND_DENIES_NOTHING, INBOUND_DENIES_CASE_STUDIES_AND_LEGAL)
    by_tag = signed_by(nairobi, "Court dates", tags=("legal",))
    local = signed_by(nairobi, "Stays home", consent=Consent("consent", "local"))
    good = signed_by(nairobi, "Fine to take in")

    first = receive(lima, nairobi, by_tag.envelope, local.envelope, good.envelope)

    assert first.stored == [good.id_hex]
    states = denial_states(lima.db, nairobi.node_id, "inbound")
    assert states == {
        by_tag.id_hex: f"deny:tag_refused@{first_hash}",
        local.id_hex: f"deny:scope_local@{first_hash}",
    }
    assert refused_under(states, by_tag.id_hex, first_hash)
    assert refused_under(states, local.id_hex, first_hash)
    assert not refused_under(states, good.id_hex, first_hash)
    assert not refused_under(states, "00" * 32, first_hash)
    assert denial_states(lima.db, hubs["quito"].node_id, "inbound") == {}, "per peer"
    assert denial_states(lima.db, nairobi.node_id, "outbound") == {}, "per direction"

    # Asked again under the same policy (a stale sync), the answer and the memory stay.
    again = receive(lima, nairobi, by_tag.envelope)
    assert again.rejected == [(by_tag.id_hex, "not_allowed: tag_refused")]
    assert denial_states(lima.db, nairobi.node_id, "inbound") == states

    second_hash = change_policy(lima, INBOUND_DENIES_CASE_STUDIES_AND_LEGAL, INBOUND_DENIES_NOTHING)
    assert not refused_under(states, by_tag.id_hex, second_hash)
    assert not refused_under(states, local.id_hex, second_hash)

    after = receive(lima, nairobi, by_tag.envelope, local.envelope)

    assert after.stored == [by_tag.id_hex]
    assert after.rejected == [(local.id_hex, "not_allowed: scope_local")]
    now_states = denial_states(lima.db, nairobi.node_id, "inbound")
    assert now_states[local.id_hex] == f"deny:scope_local@{second_hash}"
    assert refused_under(now_states, local.id_hex, second_hash)
    assert has_record(lima.db, by_tag.id_hex)


def test_outbound_denials_are_remembered_under_the_policy_hash(hubs: dict[str, Node]) -> None:
    """decision_state outcomes end in "@<policy hash>": a changed policy makes each denial
    new, so it is logged again under the policy that took it."""
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    local = add(nairobi, "Stays home", consent=Consent("consent", "local"))
    allowed = add(nairobi, "Open to all peers")
    first_hash = nairobi.policy().hash

    assert offered_ids(nairobi, lima) == {allowed.id_hex}
    states = denial_states(nairobi.db, lima.node_id, "outbound")
    assert states[local.id_hex] == f"deny:scope_local@{first_hash}"
    assert all(state.endswith("@" + first_hash) for state in states.values())
    logged = count(nairobi.db, "decisions")
    offered_ids(nairobi, lima)
    assert count(nairobi.db, "decisions") == logged, "the same denial is logged once"

    second_hash = change_policy(nairobi, OUTBOUND_TAGS_DENY, 'tags_deny = ["unused"]\n# Regions')
    offered_ids(nairobi, lima)
    states = denial_states(nairobi.db, lima.node_id, "outbound")
    assert states[local.id_hex] == f"deny:scope_local@{second_hash}"
    assert count(nairobi.db, "decisions") == logged + 1
    last = recent_decisions(nairobi.db, limit=1)[0]
    assert (last.record_id, last.direction, last.policy_hash) == (
        local.id_hex, "outbound", second_hash,
    )  # fmt: skip


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
    change_peer_status(lima.db, nairobi.node_id, "suspend")
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
    real_append_event = receiving.append_event

    def failing_on_the_second(*args: Any, **kwargs: Any) -> int:
        calls.append(args[3])
        if len(calls) == 2:
            raise OSError("disk full")
        return real_append_event(*args, **kwargs)

    monkeypatch.setattr(receiving, "append_event", failing_on_the_second)
    with pytest.raises(OSError, match="disk full"):
        receive(lima, nairobi, b"junk", first.envelope, second.envelope)
    assert calls == [first.id_hex, second.id_hex]
    for table in ("records", "records_fts", "deliveries", "strikes"):
        assert count(lima.db, table) == 0, table
    assert peer_of(lima, nairobi).strikes == 0
    assert not lima.db.conn.in_transaction
