"""The serving side of federation driven with bytes, between in-memory nodes (no HTTP).

Like h11's ``ConnectionPair``: each hub is a real node home with a
:class:`FederationResponder`, and the tests play the other side's part by hand with the
same sans-IO pieces ``rhizome sync`` uses: pairing, Negentropy reconciliation, fetch, push.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.db import transaction
from archive.record import MAX_BODY_BYTES as MAX_LESSON_BODY
from archive.record import Consent, Subject
from archive.signed_record import SignedRecord, open_record
from archive.store import has_record
from crypto.signing import SigningIdentity
from federation import wire
from federation.errors import InvalidInvite, PeerProtocolError
from federation.invites import (
    DEFAULT_TTL,
    create_invite,
    decode_invite,
    encode_invite,
    pairing_proof,
    verify_acceptance,
)
from federation.negentropy import Initiator, Storage
from federation.peers import get_peer, list_peers, record_deliveries, save_peer
from federation.receiving import Receiver
from federation.responder import FederationResponder
from federation.sharing import content_id_of_envelope
from governance.decision_log import recent_decisions
from node.node import Node
from tests.conftest import SEED_A, SEED_B, FakeClock, HomeFactory
from tests.federation.test_sharing import (
    FEDERATION,
    SEED_C,
    add,
    change_policy,
    count,
    flip_signature,
    hold,
    lesson_of,
    offer_of,
    offered_ids,
    pair,
    peer_of,
    signed_by,
    strikes,
)

WITHDRAWN = dataclasses.replace(FEDERATION, subjects=(Subject("Amani", True, withdrawn=True),))


RESHAREABLE = dataclasses.replace(FEDERATION, reshare=True)


@dataclass
class Hub:
    """One node and the responder its federation routes would call."""

    node: Node
    responder: FederationResponder

    @property
    def node_id(self) -> str:
        return self.node.node_id


@pytest.fixture
def hubs(make_home: HomeFactory, clock: FakeClock) -> Iterator[dict[str, Hub]]:
    """Nairobi, Lima and Quito, not paired yet."""
    homes = {
        "nairobi": make_home("Nairobi Hub", "East Africa", identity=_identity(SEED_A)),
        "lima": make_home("Lima Hub", "Andes", identity=_identity(SEED_B), port=8471),
        "quito": make_home("Quito Hub", "Andes", identity=_identity(SEED_C), port=8472),
    }
    nodes = {name: Node(home, clock=clock) for name, home in homes.items()}
    yield {name: Hub(node, FederationResponder(node.local_node())) for name, node in nodes.items()}
    for node in nodes.values():
        node.close()


@pytest.fixture
def paired(hubs: dict[str, Hub]) -> dict[str, Hub]:
    """Nairobi paired with Lima and with Quito."""
    pair(hubs["nairobi"].node, hubs["lima"].node)
    pair(hubs["nairobi"].node, hubs["quito"].node)
    return hubs


def _identity(seed: bytes) -> SigningIdentity:
    return SigningIdentity.from_seed(seed)


# --- Sync by hand -----------------------------------------------------------------------


@dataclass
class Exchange:
    """What one sync moved, and every message that crossed between the two nodes."""

    have: list[bytes] = field(default_factory=list)
    need: list[bytes] = field(default_factory=list)
    received: list[str] = field(default_factory=list)
    pushed: dict[str, int] = field(default_factory=dict)
    messages: list[bytes] = field(default_factory=list)


def sync_by_hand(here: Hub, there: Hub, session: str) -> Exchange:
    """What ``rhizome sync`` does from ``here``, with each HTTP call replaced by a direct
    call to ``there``'s responder (which would find the peer from the request signature)."""
    exchange = Exchange()
    them, us = peer_of(here.node, there.node), peer_of(there.node, here.node)
    evaluation = offer_of(here.node)
    initiator = Initiator(Storage.from_sorted(evaluation.offer_items(them)), wire.FRAME_SIZE_LIMIT)
    message: bytes | None = initiator.initiate()
    for _ in range(64):
        if message is None:
            break
        body = wire.encode(wire.RECONCILE_REQUEST, {"session": session, "msg": message})
        answer = there.responder.reconcile(us, body)
        exchange.messages += [body, answer]
        message, have, need = initiator.reconcile(
            wire.decode(wire.RECONCILE_RESPONSE, answer)["msg"]
        )
        exchange.have += have
        exchange.need += need
    assert message is None, "reconciliation did not converge"

    wanted = [rid for rid in exchange.need if not has_record(here.node.db, rid.hex())]
    while wanted:
        batch = wanted[: wire.MAX_RECORDS_PER_MESSAGE]
        body = wire.encode(wire.FETCH_REQUEST, {"ids": batch})
        answer = there.responder.fetch(us, body)
        exchange.messages += [body, answer]
        fetched = wire.decode(wire.FETCHED, answer)
        handled = fetched["handled"]
        assert 0 < handled <= len(batch), "every fetch answer makes progress"
        assert {content_id_of_envelope(e) for e in fetched["records"]} <= set(batch[:handled])
        wanted = wanted[handled:]
        receiver = Receiver.of(here.node.local_node())
        exchange.received += receiver.receive(fetched["records"], them).stored

    have = exchange.have
    while have:
        found, handled = offer_of(here.node).envelopes_for(
            have[: wire.MAX_RECORDS_PER_MESSAGE], them, wire.BATCH_BYTES
        )
        assert handled > 0
        have = have[handled:]
        if not found:
            continue
        body = wire.encode(wire.RECORDS, {"records": [envelope for _, envelope in found]})
        answer = there.responder.push(us, body)
        exchange.messages += [body, answer]
        counts = wire.decode(wire.PUSH_RESPONSE, answer)
        withdrawn = counts.pop("revocations")
        exchange.pushed = {k: exchange.pushed.get(k, 0) + v for k, v in counts.items()}
        exchange.pushed["revocations"] = [*exchange.pushed.get("revocations", []), *withdrawn]
        with transaction(here.node.db):
            now = int(here.node.clock())
            record_deliveries(here.node.db, them.node_id, [rid for rid, _ in found], "sent", now)
    return exchange


def ids_held(hub: Hub) -> set[str]:
    return {str(row[0]) for row in hub.node.db.execute("SELECT id FROM records")}


# --- Pairing ----------------------------------------------------------------------------


def pair_request(joiner: Hub, code_text: str, proof: bytes | None = None) -> bytes:
    """The body the joiner sends, from the code as it was pasted."""
    code = decode_invite(code_text)
    config = joiner.node.config
    return wire.encode(
        wire.PAIR_REQUEST,
        {
            "invite": code.invite_id,
            "proof": proof or pairing_proof(code.secret, code.node_id, joiner.node_id),
            "node_id": joiner.node_id,
            "name": config.name,
            "region": config.region,
            "url": "http://127.0.0.1:8471",
            "statements": [],
        },
    )


def invite(inviter: Hub, ttl: int = DEFAULT_TTL) -> str:
    node = inviter.node
    code = create_invite(node.db, node.node_id, node.config.url, int(node.clock()), ttl)
    return encode_invite(code)


def used_at(hub: Hub) -> list[object]:
    return [row[0] for row in hub.node.db.execute("SELECT used_at FROM invites")]


def test_pairing_by_hand(hubs: dict[str, Hub]) -> None:
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    code_text = invite(nairobi)
    code = decode_invite(code_text)

    answer = wire.decode(
        wire.PAIR_RESPONSE,
        nairobi.responder.pair(lima.node_id, pair_request(lima, code_text)),
    )

    proof = pairing_proof(code.secret, code.node_id, lima.node_id)
    verify_acceptance(code, lima.node_id, proof, answer["signature"])
    assert (answer["node_id"], answer["name"], answer["region"]) == (
        nairobi.node_id, "Nairobi Hub", "East Africa",
    )  # fmt: skip
    joined = get_peer(nairobi.node.db, lima.node_id)
    assert joined is not None
    assert (joined.name, joined.region, joined.url, joined.status) == (
        "Lima Hub", "Andes", "http://127.0.0.1:8471", "active",
    )  # fmt: skip
    assert used_at(nairobi) == [int(nairobi.node.clock())]
    last_event = nairobi.node.db.execute(
        "SELECT kind, subject FROM events ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    assert tuple(last_event) == ("peer.added", lima.node_id)


def test_an_invite_pairs_once(hubs: dict[str, Hub]) -> None:
    nairobi, lima, quito = hubs["nairobi"], hubs["lima"], hubs["quito"]
    code_text = invite(nairobi)
    nairobi.responder.pair(lima.node_id, pair_request(lima, code_text))
    with pytest.raises(InvalidInvite, match="already used"):
        nairobi.responder.pair(quito.node_id, pair_request(quito, code_text))
    assert [peer.node_id for peer in list_peers(nairobi.node.db)] == [lima.node_id]


def test_a_wrong_proof_pairs_nobody_and_leaves_the_invite_unused(hubs: dict[str, Hub]) -> None:
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    code_text = invite(nairobi)
    with pytest.raises(InvalidInvite, match="proof does not match"):
        nairobi.responder.pair(lima.node_id, pair_request(lima, code_text, bytes(32)))
    assert list_peers(nairobi.node.db) == []
    assert used_at(nairobi) == [None]


def test_a_proof_stolen_by_another_node_is_useless(hubs: dict[str, Hub]) -> None:
    """Quito sees Lima's request go by and sends it as its own: the request must name the
    node that signed it, and the proof is bound to Lima's id."""
    nairobi, lima, quito = hubs["nairobi"], hubs["lima"], hubs["quito"]
    code_text = invite(nairobi)
    lima_body = pair_request(lima, code_text)
    with pytest.raises(PeerProtocolError, match="signed by another node"):
        nairobi.responder.pair(quito.node_id, lima_body)
    request = wire.decode(wire.PAIR_REQUEST, lima_body)
    as_quito = wire.encode(wire.PAIR_REQUEST, {**request, "node_id": quito.node_id})
    with pytest.raises(InvalidInvite, match="proof does not match"):
        nairobi.responder.pair(quito.node_id, as_quito)
    assert list_peers(nairobi.node.db) == []
    assert used_at(nairobi) == [None]


def test_an_expired_invite_pairs_nobody(hubs: dict[str, Hub], clock: FakeClock) -> None:
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    code_text = invite(nairobi, ttl=60)
    clock.advance(60)
    with pytest.raises(InvalidInvite, match="expired"):
        nairobi.responder.pair(lima.node_id, pair_request(lima, code_text))
    assert list_peers(nairobi.node.db) == []


@pytest.mark.parametrize("body", [b"", b"\x80", b"\x91\xc0", b"pair me please"])
def test_a_garbage_pair_request_is_a_protocol_error(hubs: dict[str, Hub], body: bytes) -> None:
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    invite(nairobi)
    with pytest.raises(PeerProtocolError):
        nairobi.responder.pair(lima.node_id, body)
    assert list_peers(nairobi.node.db) == []
    assert used_at(nairobi) == [None]


# --- Reconciliation, fetch and push -----------------------------------------------------


def test_a_full_sync_by_hand_converges(paired: dict[str, Hub]) -> None:
    nairobi, lima, quito = paired["nairobi"], paired["lima"], paired["quito"]
    shared = [add(nairobi.node, f"Nairobi shares {n}") for n in range(3)]
    for_lima = add(
        nairobi.node, "For Lima", consent=Consent("consent", "peers", peers=(lima.node_id,))
    )
    kept = [
        add(nairobi.node, "Stays home", consent=Consent("consent", "local")),
        add(nairobi.node, "For Quito", consent=Consent("consent", "peers", peers=(quito.node_id,))),
        add(nairobi.node, "Names and places", sensitivity="high"),
    ]
    from_lima = [add(lima.node, f"Lima shares {n}") for n in range(2)]
    lima_keeps = add(lima.node, "Lima keeps this", consent=Consent("notice", "federation"))

    first = sync_by_hand(nairobi, lima, "first")

    moved_in = {record.id_hex for record in from_lima}
    moved_out = {record.id_hex for record in [*shared, for_lima]}
    assert set(first.received) == moved_in
    assert first.pushed == {
        "stored": len(moved_out),
        "duplicates": 0,
        "rejected": 0,
        "revocations": [],
    }
    assert ids_held(lima) == moved_out | moved_in | {lima_keeps.id_hex}
    assert ids_held(nairobi) == moved_out | moved_in | {record.id_hex for record in kept}
    assert strikes(nairobi.node, lima.node) == strikes(lima.node, nairobi.node) == []

    again = sync_by_hand(nairobi, lima, "second")
    assert (again.have, again.need, again.received, again.pushed) == ([], [], [], {})
    back = sync_by_hand(lima, nairobi, "from-lima")
    assert (back.have, back.need, back.received, back.pushed) == ([], [], [], {})


def test_no_id_or_text_of_a_withheld_record_reaches_the_peer(paired: dict[str, Hub]) -> None:
    nairobi, lima, quito = paired["nairobi"], paired["lima"], paired["quito"]
    add(nairobi.node, "Open to all peers")
    withheld = [
        add(nairobi.node, "Stays home", consent=Consent("consent", "local"), body="SECRET-LOCAL\n"),
        add(nairobi.node, "For Quito", consent=Consent("consent", "peers", peers=(quito.node_id,))),
        add(nairobi.node, "Only a notice", consent=Consent("notice", "federation")),
        add(nairobi.node, "Names and places", sensitivity="high", body="SECRET-HIGH\n"),
        add(nairobi.node, "A participant withdrew", consent=WITHDRAWN),
    ]  # fmt: skip
    add(lima.node, "Lima shares")

    messages = (
        sync_by_hand(nairobi, lima, "out").messages + sync_by_hand(lima, nairobi, "in").messages
    )

    crossed = b"".join(messages)
    for record in withheld:
        assert record.record_id not in crossed
        assert record.id_hex.encode() not in crossed
    home = lima.node.paths.root
    for path in home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"SECRET-LOCAL" not in data and b"SECRET-HIGH" not in data, path


def test_a_reshareable_record_travels_along_a_chain_with_its_origin(
    paired: dict[str, Hub],
) -> None:
    nairobi, lima, quito = paired["nairobi"], paired["lima"], paired["quito"]
    passed_on = add(quito.node, "Pass it on", consent=RESHAREABLE)
    kept = add(quito.node, "Only for our peers")

    sync_by_hand(nairobi, quito, "from-quito")
    assert {passed_on.id_hex, kept.id_hex} <= ids_held(nairobi)
    sync_by_hand(lima, nairobi, "to-lima")

    assert passed_on.id_hex in ids_held(lima)
    assert kept.id_hex not in ids_held(lima)
    row = lima.node.db.execute(
        "SELECT origin, received_from FROM records WHERE id = ?", [passed_on.id_hex]
    ).fetchone()
    assert tuple(row) == (quito.node_id, nairobi.node_id)


def fetch_answer(there: Hub, here: Hub, body: bytes) -> tuple[list[bytes], int]:
    """What ``there`` answers ``here``'s fetch body: the records and how many ids it handled."""
    answer = there.responder.fetch(peer_of(there.node, here.node), body)
    assert len(answer) <= wire.MAX_BODY_BYTES
    fetched = wire.decode(wire.FETCHED, answer)
    records: list[bytes] = fetched["records"]
    assert sum(len(record) for record in records) <= wire.BATCH_BYTES or len(records) == 1
    return records, int(fetched["handled"])


def fetch(there: Hub, here: Hub, ids: list[bytes]) -> list[bytes]:
    """The records a fetch of a few small records returns (all ids handled at once)."""
    records, handled = fetch_answer(there, here, wire.encode(wire.FETCH_REQUEST, {"ids": ids}))
    assert handled == len(ids)
    return records


def test_fetch_never_returns_a_record_the_decision_denies_even_by_id(
    paired: dict[str, Hub], clock: FakeClock
) -> None:
    nairobi, lima, quito = paired["nairobi"], paired["lima"], paired["quito"]
    denied = [
        add(nairobi.node, "Stays home", consent=Consent("consent", "local")),
        add(nairobi.node, "For Quito", consent=Consent("consent", "peers", peers=(quito.node_id,))),
        add(nairobi.node, "Only a notice", consent=Consent("notice", "federation")),
        add(nairobi.node, "Names and places", sensitivity="high"),
        add(nairobi.node, "Needs a curator", sensitivity="medium"),
        add(
            nairobi.node,
            "Expires",
            consent=dataclasses.replace(FEDERATION, expires=int(clock()) + 1),
        ),
    ]
    not_reshareable = signed_by(quito.node, "Only for Nairobi")
    hold(nairobi.node, not_reshareable, quito.node)
    limas_own = signed_by(lima.node, "Lima's own")
    hold(nairobi.node, limas_own, lima.node)
    clock.advance(1)
    asked = [record.record_id for record in [*denied, not_reshareable, limas_own]]
    sent_before = count(nairobi.node.db, "deliveries")

    assert fetch(nairobi, lima, asked) == []
    assert fetch(nairobi, lima, [bytes(32), bytes(range(32))]) == []
    for malformed in (b"", asked[0][:31], asked[0] + b"\x00"):
        body = msgpack.packb({"ids": [asked[1], malformed]}, use_bin_type=True)
        with pytest.raises(
            PeerProtocolError, match="'ids' holds an item of the wrong type or size"
        ):
            nairobi.responder.fetch(peer_of(nairobi.node, lima.node), body)
    assert count(nairobi.node.db, "deliveries") == sent_before


def test_fetch_returns_what_is_allowed_and_remembers_it_was_sent(paired: dict[str, Hub]) -> None:
    nairobi, lima = paired["nairobi"], paired["lima"]
    allowed = add(nairobi.node, "Open to all peers")
    local = add(nairobi.node, "Stays home", consent=Consent("consent", "local"))
    assert fetch(nairobi, lima, [local.record_id, allowed.record_id]) == [allowed.envelope]
    sent = nairobi.node.db.execute(
        "SELECT record_id, peer_id FROM deliveries WHERE direction = 'sent'"
    ).fetchall()
    assert [tuple(row) for row in sent] == [(allowed.id_hex, lima.node_id)]


def test_fetch_never_passes_on_a_record_waiting_in_quarantine(paired: dict[str, Hub]) -> None:
    """docs/reference/policy.md: with ``quarantine = true``, records received from peers
    "do not show in list or search and are never passed on" until a curator accepts them."""
    nairobi, lima, quito = paired["nairobi"], paired["lima"], paired["quito"]
    change_policy(nairobi.node, "quarantine = false", "quarantine = true")
    reshareable = add(quito.node, "Pass it on", consent=RESHAREABLE)
    received = Receiver.of(nairobi.node.local_node()).receive(
        [reshareable.envelope], peer_of(nairobi.node, quito.node)
    )
    assert received.quarantined == [reshareable.id_hex]

    assert reshareable.id_hex not in offered_ids(nairobi.node, lima.node)
    fetched = [
        open_record(envelope).id_hex for envelope in fetch(nairobi, lima, [reshareable.record_id])
    ]
    assert fetched == [], "a quarantined record was handed out when asked for by id"
    decision = offer_of(nairobi.node).explain(
        reshareable.id_hex, peer_of(nairobi.node, lima.node)
    )
    assert decision is not None and not decision.allowed
    assert [reason.code for reason in decision.denials] == ["quarantined"]
    logged = recent_decisions(nairobi.node.db, limit=1, record_id=reshareable.id_hex)[0]
    assert (logged.direction, logged.peer_id, logged.allowed) == ("outbound", lima.node_id, False)
    assert "quarantined" in logged.reasons
    sent = nairobi.node.db.execute("SELECT count(*) FROM deliveries WHERE direction = 'sent'")
    assert sent.fetchone()[0] == 0


def test_fetch_refuses_to_be_asked_for_too_much_at_once(paired: dict[str, Hub]) -> None:
    nairobi, lima = paired["nairobi"], paired["lima"]
    ids = [bytes([n % 256, n // 256]) * 16 for n in range(wire.MAX_RECORDS_PER_MESSAGE + 1)]
    peer = peer_of(nairobi.node, lima.node)
    too_many = msgpack.packb({"ids": ids}, use_bin_type=True)
    with pytest.raises(PeerProtocolError, match="'ids' is out of bounds"):
        nairobi.responder.fetch(peer, too_many)
    as_many_as_allowed = wire.encode(wire.FETCH_REQUEST, {"ids": ids[:-1]})
    assert fetch_answer(nairobi, lima, as_many_as_allowed) == ([], wire.MAX_RECORDS_PER_MESSAGE)


def test_fetch_refuses_to_be_asked_for_nothing(paired: dict[str, Hub]) -> None:
    """An answer to an empty request could handle no id, and a client would loop on it."""
    nairobi, lima = paired["nairobi"], paired["lima"]
    add(nairobi.node, "Open to all peers")
    with pytest.raises(PeerProtocolError, match="at least one record"):
        nairobi.responder.fetch(
            peer_of(nairobi.node, lima.node), wire.encode(wire.FETCH_REQUEST, {"ids": []})
        )
    assert count(nairobi.node.db, "deliveries") == 0


def test_a_fetch_answer_always_fits_the_body_limit(paired: dict[str, Hub]) -> None:
    """Lessons may carry 256 KiB of text each, so 65 of them are more than one body may hold
    (wire.MAX_BODY_BYTES, 16 MiB). Whatever was asked, the answer must be one the peer can
    decode; otherwise those records can never be synced. ``handled`` says how far the answer
    got, and the client asks again for the rest until it has every record."""
    nairobi, lima = paired["nairobi"], paired["lima"]
    text = ("field notes " * (MAX_LESSON_BODY // 12))[: MAX_LESSON_BODY - 1] + "\n"
    lessons = [
        (f"big-{n}", lesson_of(nairobi.node, f"Big lesson {n}", body=text)) for n in range(65)
    ]
    records = [record for _, record in nairobi.node.writer.add_lessons(lessons)]
    signed = [record for record in records if isinstance(record, SignedRecord)]
    ids = [record.record_id for record in signed]
    assert len(ids) == 65
    assert sum(len(record.envelope) for record in signed) > wire.MAX_BODY_BYTES

    peer = peer_of(nairobi.node, lima.node)
    wanted, got, answers = list(ids), [], 0
    while wanted:
        answers += 1
        assert answers <= len(ids), "the answers stopped making progress"
        answer = nairobi.responder.fetch(peer, wire.encode(wire.FETCH_REQUEST, {"ids": wanted}))
        size = len(answer)
        assert size <= wire.MAX_BODY_BYTES, f"a {size}-byte answer no peer will accept"
        fetched = wire.decode(wire.FETCHED, answer)
        handled, envelopes = fetched["handled"], fetched["records"]
        assert 0 < handled <= len(wanted)
        if answers == 1:
            assert handled < len(ids), "65 big records cannot all fit in one answer"
        assert sum(len(envelope) for envelope in envelopes) <= wire.BATCH_BYTES
        assert [content_id_of_envelope(e) for e in envelopes] == wanted[:handled]
        got += envelopes
        wanted = wanted[handled:]

    assert answers > 1
    assert [open_record(envelope).record_id for envelope in got] == ids
    receiver = Receiver.of(lima.node.local_node())
    stored = receiver.receive(got, peer_of(lima.node, nairobi.node)).stored
    assert stored == [record_id.hex() for record_id in ids]
    assert count(nairobi.node.db, "deliveries") == 65


def push(there: Hub, here: Hub, body: bytes) -> dict[str, int]:
    answer = there.responder.push(peer_of(there.node, here.node), body)
    counts: dict[str, int] = wire.decode(wire.PUSH_RESPONSE, answer)
    return counts


def test_push_stores_and_counts(paired: dict[str, Hub]) -> None:
    nairobi, lima = paired["nairobi"], paired["lima"]
    first, second = add(lima.node, "First"), add(lima.node, "Second")
    body = wire.encode(wire.RECORDS, {"records": [first.envelope, second.envelope]})
    assert push(nairobi, lima, body) == {
        "stored": 2,
        "duplicates": 0,
        "rejected": 0,
        "revocations": [],
    }
    assert push(nairobi, lima, body) == {
        "stored": 0,
        "duplicates": 2,
        "rejected": 0,
        "revocations": [],
    }
    assert {first.id_hex, second.id_hex} <= ids_held(nairobi)


def test_push_rejects_bad_records_with_strikes_and_keeps_good_ones(paired: dict[str, Hub]) -> None:
    nairobi, lima = paired["nairobi"], paired["lima"]
    good = add(lima.node, "Good")
    forged = flip_signature(add(lima.node, "Changed on the way").envelope)
    local = add(lima.node, "Stays home", consent=Consent("consent", "local"))
    body = wire.encode(wire.RECORDS, {"records": [forged, good.envelope, local.envelope]})
    assert push(nairobi, lima, body) == {
        "stored": 1,
        "duplicates": 0,
        "rejected": 2,
        "revocations": [],
    }
    assert ids_held(nairobi) == {good.id_hex}
    assert len(strikes(nairobi.node, lima.node)) == 2


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\x92\xc4\x01a\xc4\x01b",
        b"\x81\xa7records\xc4\x03abc",
        b"\x81\xa7records\x91\x01",
        b"\x82\xa7records\x90\xa5extra\xc0",
        wire.encode(wire.RECORDS, {"records": []})[:-1],
    ],
    ids=["empty", "a-list", "bytes-not-list", "int-items", "extra-field", "truncated"],
)
def test_a_garbage_push_is_a_protocol_error_and_stores_nothing(
    paired: dict[str, Hub], body: bytes
) -> None:
    nairobi, lima = paired["nairobi"], paired["lima"]
    before = {table: count(nairobi.node.db, table) for table in ("records", "events", "strikes")}
    with pytest.raises(PeerProtocolError):
        nairobi.responder.push(peer_of(nairobi.node, lima.node), body)
    assert {table: count(nairobi.node.db, table) for table in before} == before


@pytest.mark.parametrize("msg", [b"", b"\x00", b"\x61\xff", b"\x61\x00\x05\x01"])
def test_a_bad_reconciliation_message_is_a_protocol_error(
    paired: dict[str, Hub], msg: bytes
) -> None:
    nairobi, lima = paired["nairobi"], paired["lima"]
    add(nairobi.node, "Open to all peers")
    body = wire.encode(wire.RECONCILE_REQUEST, {"session": "s", "msg": msg})
    with pytest.raises(PeerProtocolError):
        nairobi.responder.reconcile(peer_of(nairobi.node, lima.node), body)


def test_a_newer_protocol_version_is_answered_with_ours(paired: dict[str, Hub]) -> None:
    """Negentropy v1 version negotiation: the answer is the one version we speak."""
    nairobi, lima = paired["nairobi"], paired["lima"]
    body = wire.encode(wire.RECONCILE_REQUEST, {"session": "s", "msg": b"\x62"})
    answer = nairobi.responder.reconcile(peer_of(nairobi.node, lima.node), body)
    assert wire.decode(wire.RECONCILE_RESPONSE, answer) == {"msg": b"\x61"}


def test_a_garbage_reconcile_body_is_a_protocol_error(paired: dict[str, Hub]) -> None:
    nairobi, lima = paired["nairobi"], paired["lima"]
    with pytest.raises(PeerProtocolError):
        nairobi.responder.reconcile(peer_of(nairobi.node, lima.node), b"\x81\xa3msg\xc4\x01a")


@pytest.fixture
def responder_with_records(make_home: HomeFactory, clock: FakeClock) -> Iterator[Hub]:
    node = Node(make_home("Nairobi Hub", "East Africa", identity=_identity(SEED_A)), clock=clock)
    save_peer(node.db, _identity(SEED_B).node_id, "Lima Hub", "Andes", "http://x", int(clock()))
    for n in range(30):
        add(node, f"Lesson {n}", created=int(clock()) + n % 7)
    yield Hub(node, FederationResponder(node.local_node()))
    node.close()


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(msg=st.binary(max_size=200))
def test_any_reconciliation_message_is_answered_or_refused_as_a_protocol_error(
    responder_with_records: Hub, msg: bytes
) -> None:
    hub = responder_with_records
    lima = get_peer(hub.node.db, _identity(SEED_B).node_id)
    assert lima is not None
    body = wire.encode(wire.RECONCILE_REQUEST, {"session": "fuzz", "msg": msg})
    try:
        answer = hub.responder.reconcile(lima, body)
    except PeerProtocolError:
        return
    assert wire.decode(wire.RECONCILE_RESPONSE, answer)["msg"][:1] == b"\x61"
