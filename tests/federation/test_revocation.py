"""Revocations and purge receipts, sans-IO: the statements, and the state they change.

The first half builds and opens the signed statements themselves with fixed keys (known
answers, every flipped byte, every forgery we can think of). The second half drives the
propagation functions on real node homes, without HTTP: the origin withdraws, a holder
verifies, purges, forwards and answers with a receipt, and the same revocation twice changes
nothing (issue 5, "Consent revocation").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from archive.queries import lineage
from archive.record import Subject
from archive.signed_record import SignedRecord
from archive.tombstones import is_tombstoned, tombstone_of
from crypto.canonical import pack
from crypto.envelope import seal
from crypto.signing import SigningIdentity
from federation.outbox import acknowledge
from federation.peers import record_deliveries
from federation.propagation import (
    NotTheOrigin,
    accept_receipts,
    accept_revocation,
    expired_records,
    outgoing_for,
    revoke,
    revoke_expired,
)
from federation.revocation import (
    MEMBER_REVOCATION_CONTEXT,
    RECEIPT_CONTEXT,
    REVOCATION_CONTEXT,
    Actor,
    InvalidRevocation,
    Receipt,
    Revocation,
    issue_receipt,
    issue_revocation,
    open_receipt,
    open_revocation,
)
from governance.members import certificate
from node.node import Node
from tests.conftest import SEED_A, SEED_B, START, FakeClock, HomeFactory
from tests.federation.test_sharing import (
    FEDERATION,
    SEED_C,
    add,
    count,
    hold,
    pair,
    peer_of,
    signed_by,
    strikes,
)

MEMBER_SEED = bytes(range(96, 128))
OTHER_MEMBER_SEED = bytes(range(128, 160))
RECORD_1 = "11" * 32
RECORD_2 = "22" * 32
RECORD_3 = "33" * 32
RESHAREABLE = dataclasses.replace(FEDERATION, reshare=True)
# Every table a revocation could touch on a node.
STATE_TABLES = (
    "records",
    "records_fts",
    "tombstones",
    "revocations",
    "receipts",
    "outbox",
    "events",
    "deliveries",
    "strikes",
)


# --- Statements with fixed keys ------------------------------------------------------------


@pytest.fixture
def node_a() -> SigningIdentity:
    return SigningIdentity.from_seed(SEED_A)


@pytest.fixture
def node_b() -> SigningIdentity:
    return SigningIdentity.from_seed(SEED_B)


@pytest.fixture
def node_c() -> SigningIdentity:
    return SigningIdentity.from_seed(SEED_C)


@pytest.fixture
def steward() -> SigningIdentity:
    return SigningIdentity.from_seed(MEMBER_SEED)


def actor_of(
    node: SigningIdentity, member: SigningIdentity, name: str = "amina", roles: Any = ("steward",)
) -> Actor:
    """A member of ``node`` with the key ``member``, certified by ``node``."""
    return Actor(name, member, certificate(node, name, member.public_key, tuple(roles), START))


def forged(
    signer: SigningIdentity,
    *,
    origin: str | None = None,
    ids: list[bytes] | None = None,
    reason: Any = "consent-withdrawn",
    issued_at: Any = START,
    member: str = "amina",
    cert: bytes | None = None,
    member_key: SigningIdentity | None = None,
    signed_ids: list[bytes] | None = None,
    signed_reason: Any = None,
) -> bytes:
    """A revocation built field by field and sealed by ``signer``: every part can lie.

    By default it is well formed: ``signer`` is the origin and the member ``amina`` (key
    ``member_key``, certified by ``signer``) signs exactly what the envelope says.
    """
    origin = signer.node_id if origin is None else origin
    ids = [bytes.fromhex(RECORD_1)] if ids is None else ids
    member_key = member_key or SigningIdentity.from_seed(MEMBER_SEED)
    if cert is None:
        cert = certificate(signer, member, member_key.public_key, ("steward",), START)
    core = pack(
        [
            1,
            origin,
            ids if signed_ids is None else signed_ids,
            reason if signed_reason is None else signed_reason,
            issued_at,
        ]
    )
    signature = member_key.sign(MEMBER_REVOCATION_CONTEXT, core)
    payload = pack([1, origin, ids, reason, issued_at, member, cert, signature])
    return seal(signer, REVOCATION_CONTEXT, payload).raw


def flips(raw: bytes) -> Iterator[tuple[int, int, bytes]]:
    """(position, mask, bytes) for every byte of ``raw`` changed in its low and high bit."""
    for position in range(len(raw)):
        for mask in (0x01, 0x80):
            changed = bytearray(raw)
            changed[position] ^= mask
            yield position, mask, bytes(changed)


def test_a_revocation_is_issued_and_opened_with_every_field(
    node_a: SigningIdentity, steward: SigningIdentity
) -> None:
    revocation = issue_revocation(
        node_a, actor_of(node_a, steward), [RECORD_2, RECORD_1, RECORD_2], "safety", START
    )

    assert isinstance(revocation, Revocation)
    assert revocation.origin == node_a.node_id
    assert revocation.record_ids == (RECORD_1, RECORD_2)  # sorted, each once
    assert (revocation.reason, revocation.issued_at, revocation.member) == (
        "safety",
        START,
        "amina",
    )
    assert open_revocation(revocation.envelope) == revocation
    assert len(revocation.revocation_id) == 64


def test_the_same_revocation_from_the_same_keys_has_the_same_id(
    node_a: SigningIdentity, steward: SigningIdentity
) -> None:
    """Ed25519 is deterministic: fixed keys and fields give fixed bytes (a known answer)."""
    actor = actor_of(node_a, steward)
    first = issue_revocation(node_a, actor, [RECORD_1], "error", START)
    again = issue_revocation(node_a, actor, [RECORD_1], "error", START)
    later = issue_revocation(node_a, actor, [RECORD_1], "error", START + 1)

    assert first.envelope == again.envelope
    assert first.revocation_id == again.revocation_id
    assert later.revocation_id != first.revocation_id


def test_a_receipt_is_issued_and_opened_with_every_field(
    node_a: SigningIdentity, node_b: SigningIdentity, node_c: SigningIdentity
) -> None:
    receipt = issue_receipt(node_b, "ab" * 32, START + 5, [node_c.node_id, node_a.node_id])

    assert isinstance(receipt, Receipt)
    assert (receipt.revocation_id, receipt.holder, receipt.purged_at) == (
        "ab" * 32,
        node_b.node_id,
        START + 5,
    )
    assert receipt.forwarded_to == tuple(sorted([node_a.node_id, node_c.node_id]))
    assert open_receipt(receipt.envelope) == receipt
    assert issue_receipt(node_b, "ab" * 32, START + 5, [node_c.node_id, node_a.node_id]) == receipt


def test_a_flipped_byte_anywhere_in_a_revocation_is_refused(
    node_a: SigningIdentity, steward: SigningIdentity
) -> None:
    raw = issue_revocation(node_a, actor_of(node_a, steward), [RECORD_1], "safety", START).envelope
    for position, mask, changed in flips(raw):
        with pytest.raises(InvalidRevocation):
            open_revocation(changed)
            pytest.fail(f"a revocation with byte {position} ^ {mask:#x} was accepted")


def test_a_flipped_byte_anywhere_in_a_receipt_is_refused(node_b: SigningIdentity) -> None:
    raw = issue_receipt(node_b, "ab" * 32, START, [SigningIdentity.from_seed(SEED_C).node_id])
    for position, mask, changed in flips(raw.envelope):
        with pytest.raises(InvalidRevocation):
            open_receipt(changed)
            pytest.fail(f"a receipt with byte {position} ^ {mask:#x} was accepted")


@pytest.mark.parametrize("cut", [0, 1, 10, -65, -1])
def test_a_truncated_or_extended_statement_is_refused(
    node_a: SigningIdentity, steward: SigningIdentity, cut: int
) -> None:
    raw = issue_revocation(node_a, actor_of(node_a, steward), [RECORD_1], "safety", START).envelope
    receipt = issue_receipt(node_a, "ab" * 32, START, []).envelope
    for statement, opener in ((raw, open_revocation), (receipt, open_receipt)):
        with pytest.raises(InvalidRevocation):
            opener(statement[:cut])
        with pytest.raises(InvalidRevocation):
            opener(statement + b"\x00")


def test_the_well_formed_forgery_helper_opens(node_a: SigningIdentity) -> None:
    """The baseline for the forgeries below: built by hand, every part honest, it opens."""
    revocation = open_revocation(forged(node_a))
    assert (revocation.origin, revocation.record_ids, revocation.member) == (
        node_a.node_id,
        (RECORD_1,),
        "amina",
    )


def test_a_revocation_signed_by_one_node_naming_another_origin_is_refused(
    node_a: SigningIdentity, node_b: SigningIdentity, steward: SigningIdentity
) -> None:
    """B signs a revocation that claims to come from A (with a certificate A really issued)."""
    cert_from_a = certificate(node_a, "amina", steward.public_key, ("steward",), START)
    raw = forged(node_b, origin=node_a.node_id, cert=cert_from_a, member_key=steward)

    with pytest.raises(InvalidRevocation, match="origin"):
        open_revocation(raw)


def test_a_member_certificate_from_another_node_is_refused(
    node_a: SigningIdentity, node_b: SigningIdentity, steward: SigningIdentity
) -> None:
    """A revocation by A, but the member's certificate was issued by B."""
    cert_from_b = certificate(node_b, "amina", steward.public_key, ("admin",), START)

    with pytest.raises(InvalidRevocation, match="certificate"):
        open_revocation(forged(node_a, cert=cert_from_b, member_key=steward))
    with pytest.raises(InvalidRevocation):
        issue_revocation(node_a, Actor("amina", steward, cert_from_b), [RECORD_1], "safety", START)


def test_a_member_certificate_for_another_name_or_key_is_refused(
    node_a: SigningIdentity, steward: SigningIdentity
) -> None:
    other = SigningIdentity.from_seed(OTHER_MEMBER_SEED)
    cert_for_bruno = certificate(node_a, "bruno", steward.public_key, ("steward",), START)
    cert_for_other_key = certificate(node_a, "amina", other.public_key, ("steward",), START)

    with pytest.raises(InvalidRevocation):
        open_revocation(forged(node_a, member="amina", cert=cert_for_bruno, member_key=steward))
    with pytest.raises(InvalidRevocation):
        open_revocation(forged(node_a, cert=cert_for_other_key, member_key=steward))


def test_a_member_signature_over_other_ids_or_another_reason_is_refused(
    node_a: SigningIdentity,
) -> None:
    """The member signed the withdrawal of record 2; the node's envelope names record 1."""
    with pytest.raises(InvalidRevocation):
        open_revocation(
            forged(node_a, ids=[bytes.fromhex(RECORD_1)], signed_ids=[bytes.fromhex(RECORD_2)])
        )
    with pytest.raises(InvalidRevocation):
        open_revocation(
            forged(
                node_a,
                ids=[bytes.fromhex(RECORD_1), bytes.fromhex(RECORD_2)],
                signed_ids=[bytes.fromhex(RECORD_1)],
            )
        )
    with pytest.raises(InvalidRevocation):
        open_revocation(forged(node_a, reason="safety", signed_reason="error"))


def test_the_node_alone_may_revoke_when_consent_expired(node_a: SigningIdentity) -> None:
    """No member acts when consent runs out: the origin node revokes by itself."""
    revocation = issue_revocation(node_a, Actor(), [RECORD_1], "expired", START)

    assert (revocation.origin, revocation.reason, revocation.member) == (
        node_a.node_id,
        "expired",
        "",
    )
    assert open_revocation(revocation.envelope) == revocation


@pytest.mark.parametrize("reason", ["consent-withdrawn", "safety", "error", "other"])
def test_the_node_alone_may_not_revoke_for_any_other_reason(
    node_a: SigningIdentity, reason: str
) -> None:
    with pytest.raises(InvalidRevocation):
        issue_revocation(node_a, Actor(), [RECORD_1], reason, START)
    node_only = seal(
        node_a,
        REVOCATION_CONTEXT,
        pack([1, node_a.node_id, [bytes.fromhex(RECORD_1)], reason, START, "", b"", b""]),
    ).raw
    with pytest.raises(InvalidRevocation):
        open_revocation(node_only)


def test_an_unknown_reason_is_refused(node_a: SigningIdentity, steward: SigningIdentity) -> None:
    with pytest.raises(InvalidRevocation, match="reason"):
        issue_revocation(node_a, actor_of(node_a, steward), [RECORD_1], "whim", START)
    with pytest.raises(InvalidRevocation):
        open_revocation(forged(node_a, reason="whim"))


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"ids": []}, id="no ids"),
        pytest.param({"ids": [b"\x11" * 31]}, id="short id"),
        pytest.param({"ids": [RECORD_1]}, id="id as text"),
        pytest.param({"ids": [7]}, id="id as number"),
        pytest.param({"reason": 3}, id="reason as number"),
        pytest.param({"issued_at": "yesterday"}, id="time as text"),
    ],
)
def test_a_malformed_revocation_its_origin_signed_is_refused_cleanly(
    node_a: SigningIdentity, fields: dict[str, Any]
) -> None:
    """A hostile origin signs whatever it likes with its own keys: the shape is checked too,
    and the only error that comes out is InvalidRevocation (a peer gets a strike, not a 500)."""
    with pytest.raises(InvalidRevocation):
        open_revocation(forged(node_a, **fields))


def test_a_receipt_signed_by_another_node_than_the_holder_it_names_is_refused(
    node_b: SigningIdentity, node_c: SigningIdentity
) -> None:
    payload = pack([1, b"\xab" * 32, node_b.node_id, START, []])
    claims_b_signed_by_c = seal(node_c, RECEIPT_CONTEXT, payload).raw

    with pytest.raises(InvalidRevocation, match="holder"):
        open_receipt(claims_b_signed_by_c)
    assert open_receipt(seal(node_b, RECEIPT_CONTEXT, payload).raw).holder == node_b.node_id


def test_a_revocation_is_not_a_receipt_nor_the_other_way_round(
    node_a: SigningIdentity, steward: SigningIdentity
) -> None:
    """Domain separation: the same key signs both, but neither opens as the other."""
    revocation = issue_revocation(node_a, actor_of(node_a, steward), [RECORD_1], "safety", START)
    receipt = issue_receipt(node_a, revocation.revocation_id, START, [])

    with pytest.raises(InvalidRevocation):
        open_receipt(revocation.envelope)
    with pytest.raises(InvalidRevocation):
        open_revocation(receipt.envelope)


# --- Propagation on real node homes ---------------------------------------------------------


@pytest.fixture
def chain(make_home: HomeFactory, clock: FakeClock) -> Iterator[dict[str, Node]]:
    """A, B and C on real homes: A trusts B, B trusts A and C (A and C do not know each
    other), so A's records reach C only through B."""
    homes = {
        "a": make_home("Hub A", "East Africa", identity=SigningIdentity.from_seed(SEED_A)),
        "b": make_home("Hub B", "Andes", identity=SigningIdentity.from_seed(SEED_B), port=8471),
        "c": make_home("Hub C", "Andes", identity=SigningIdentity.from_seed(SEED_C), port=8472),
    }
    nodes = {name: Node(home, clock=clock) for name, home in homes.items()}
    pair(nodes["a"], nodes["b"])
    pair(nodes["b"], nodes["c"])
    yield nodes
    for node in nodes.values():
        node.close()


def admin_of(node: Node) -> Actor:
    member = node.member("admin")
    return Actor(member.name, node.member_identity("admin"), member.certificate)


def state(node: Node) -> dict[str, int]:
    return {table: count(node.db, table) for table in STATE_TABLES}


def send(sender: Node, receiver: Node, record: SignedRecord) -> None:
    """``sender`` passed ``record`` on to ``receiver``: both delivery ledgers say so."""
    if not receiver.db.execute("SELECT 1 FROM records WHERE id = ?", [record.id_hex]).fetchone():
        hold(receiver, record, sender)
    record_deliveries(sender.db, receiver.node_id, [record.id_hex], "sent", int(sender.clock()))


def outbox(node: Node) -> list[tuple[str, str, str]]:
    rows = node.db.execute("SELECT kind, item_id, peer_id FROM outbox ORDER BY kind, peer_id")
    return [(str(kind), str(item), str(peer)) for kind, item, peer in rows]


def events(node: Node, kind: str) -> int:
    return int(node.db.execute("SELECT count(*) FROM events WHERE kind = ?", [kind]).fetchone()[0])


def test_lineage_covers_every_version_and_translation(chain: dict[str, Node]) -> None:
    a = chain["a"]
    first = add(a, "Kettling: what we learned")
    second = add(a, "Kettling, revised", supersedes=first.record_id)
    third = add(a, "Kettling, third edition", supersedes=second.record_id)
    spanish = add(a, "Encapsulamiento", language="es", translation_of=second.record_id)
    french = add(a, "Nasse", language="fr", translation_of=first.record_id)
    spanish_revised = add(
        a, "Encapsulamiento, revisado", language="es", supersedes=spanish.record_id
    )
    unrelated = add(a, "Another lesson")
    family = sorted(
        record.id_hex for record in (first, second, third, spanish, french, spanish_revised)
    )

    for record in (first, second, third, spanish, french, spanish_revised):
        assert lineage(a.db, record.id_hex) == family, record.lesson.title
    assert lineage(a.db, unrelated.id_hex) == [unrelated.id_hex]


def test_revoke_at_the_origin_withdraws_the_whole_lineage_and_queues_every_holder(
    chain: dict[str, Node],
) -> None:
    a, b = chain["a"], chain["b"]
    first = add(a, "Checklist", body="A canary-free body.\n", consent=RESHAREABLE)
    second = add(a, "Checklist, revised", supersedes=first.record_id, consent=RESHAREABLE)
    spanish = add(a, "Lista", language="es", translation_of=first.record_id, consent=RESHAREABLE)
    kept = add(a, "Unrelated", consent=RESHAREABLE)
    send(a, b, second)  # B got only the newest version

    revocation = revoke(a.local_node(), first.id_hex, admin_of(a), "consent-withdrawn", "asked")

    family = tuple(sorted(r.id_hex for r in (first, second, spanish)))
    assert revocation.record_ids == family
    assert (revocation.origin, revocation.member, revocation.reason) == (
        a.node_id,
        "admin",
        "consent-withdrawn",
    )
    assert all(tombstone_of(a.db, rid) == revocation.revocation_id for rid in family)
    assert count(a.db, "records") == 1 and not is_tombstoned(a.db, kept.id_hex, a.node_id)
    assert count(a.db, "records_fts") == 1
    assert outbox(a) == [("revocation", revocation.revocation_id, b.node_id)]
    assert events(a, "record.revoked") == 1
    note = a.db.execute("SELECT note FROM revocations").fetchone()[0]
    assert note == "asked"


def test_revoke_at_a_holder_raises_not_the_origin_and_changes_nothing(
    chain: dict[str, Node],
) -> None:
    a, b, c = chain["a"], chain["b"], chain["c"]
    record = add(a, "Held by B", consent=RESHAREABLE)
    send(a, b, record)
    send(b, c, record)
    before = state(b)

    with pytest.raises(NotTheOrigin):
        revoke(b.local_node(), record.id_hex, admin_of(b), "safety", None)
    with pytest.raises(NotTheOrigin):
        revoke(b.local_node(), "ee" * 32, admin_of(b), "safety", None)  # held by no one

    assert state(b) == before
    assert not is_tombstoned(b.db, record.id_hex, a.node_id)


def test_a_holder_purges_forwards_and_answers_with_a_receipt(chain: dict[str, Node]) -> None:
    a, b, c = chain["a"], chain["b"], chain["c"]
    record = add(a, "Shared on", consent=RESHAREABLE)
    send(a, b, record)
    send(b, c, record)
    revocation = revoke(a.local_node(), record.id_hex, admin_of(a), "safety", None)

    receipt = accept_revocation(b.local_node(), revocation.envelope, peer_of(b, a))

    assert (receipt.revocation_id, receipt.holder) == (revocation.revocation_id, b.node_id)
    assert receipt.forwarded_to == (c.node_id,)
    assert open_receipt(receipt.envelope) == receipt
    assert count(b.db, "records") == count(b.db, "records_fts") == 0
    assert tombstone_of(b.db, record.id_hex) == revocation.revocation_id
    assert outbox(b) == [("revocation", revocation.revocation_id, c.node_id)]
    assert events(b, "record.purged") == 1


def test_accepting_the_same_revocation_twice_is_harmless(chain: dict[str, Node]) -> None:
    a, b, c = chain["a"], chain["b"], chain["c"]
    record = add(a, "Twice", consent=RESHAREABLE)
    send(a, b, record)
    send(b, c, record)
    revocation = revoke(a.local_node(), record.id_hex, admin_of(a), "safety", None)
    first = accept_revocation(b.local_node(), revocation.envelope, peer_of(b, a))
    after_first = state(b)

    again = accept_revocation(b.local_node(), revocation.envelope, peer_of(b, a))
    assert again == first  # the same signed receipt, not a new one
    assert state(b) == after_first
    assert outbox(b) == [("revocation", revocation.revocation_id, c.node_id)]

    # Once C acknowledged, the same revocation arriving again (from C, in a cycle) sends nothing.
    assert acknowledge(b.db, c.node_id, "revocation", [revocation.revocation_id]) == 1
    from_c = accept_revocation(b.local_node(), revocation.envelope, peer_of(b, c))
    assert from_c == first
    assert outbox(b) == []
    assert events(b, "record.purged") == 1
    assert strikes(b, a) == [] and strikes(b, c) == []


def test_the_origin_answers_its_own_revocation_coming_back_without_a_receipt_of_its_own(
    chain: dict[str, Node],
) -> None:
    """In a cycle the revocation reaches its origin again: nothing changes there."""
    a, b = chain["a"], chain["b"]
    record = add(a, "Round trip", consent=RESHAREABLE)
    send(a, b, record)
    revocation = revoke(a.local_node(), record.id_hex, admin_of(a), "safety", None)
    before = state(a)

    accept_revocation(a.local_node(), revocation.envelope, peer_of(a, b))

    assert state(a) == before


def test_a_revocation_naming_a_record_of_another_origin_is_refused_with_a_strike(
    chain: dict[str, Node],
) -> None:
    """C (a peer of B) withdraws A's record: it is not C's to withdraw."""
    a, b, c = chain["a"], chain["b"], chain["c"]
    record = add(a, "Not yours", consent=RESHAREABLE)
    send(a, b, record)
    send(b, c, record)
    forged_by_c = revoke_as(c, record.id_hex)
    before = state(b)

    with pytest.raises(InvalidRevocation, match="another origin"):
        accept_revocation(b.local_node(), forged_by_c, peer_of(b, c))

    assert b.db.execute("SELECT 1 FROM records WHERE id = ?", [record.id_hex]).fetchone()
    assert not is_tombstoned(b.db, record.id_hex, a.node_id)
    assert [reason.split(":")[0] for reason, _ in strikes(b, c)] == ["bad_revocation"]
    after = state(b)
    assert after.pop("strikes") == before.pop("strikes") + 1
    assert after == before


def revoke_as(node: Node, record_id: str) -> bytes:
    """A revocation ``node`` signs (with its real admin) for any record id it likes."""
    return issue_revocation(
        node.identity, admin_of(node), [record_id], "safety", int(node.clock())
    ).envelope


def test_a_forged_revocation_is_refused_with_a_strike_and_changes_nothing(
    chain: dict[str, Node],
) -> None:
    a, b = chain["a"], chain["b"]
    record = add(a, "Tampered", consent=RESHAREABLE)
    send(a, b, record)
    genuine = issue_revocation(a.identity, admin_of(a), [record.id_hex], "safety", START).envelope
    tampered = genuine[:-1] + bytes([genuine[-1] ^ 1])
    before = state(b)

    with pytest.raises(InvalidRevocation):
        accept_revocation(b.local_node(), tampered, peer_of(b, a))

    assert not is_tombstoned(b.db, record.id_hex, a.node_id)
    assert len(strikes(b, a)) == 1
    after = state(b)
    assert after.pop("strikes") == before.pop("strikes") + 1
    assert after == before


def test_receipts_travel_back_towards_the_origin_hop_by_hop(chain: dict[str, Node]) -> None:
    a, b, c = chain["a"], chain["b"], chain["c"]
    record = add(a, "Back home", consent=RESHAREABLE)
    send(a, b, record)
    send(b, c, record)
    revocation = revoke(a.local_node(), record.id_hex, admin_of(a), "safety", None)
    from_b = accept_revocation(b.local_node(), revocation.envelope, peer_of(b, a))
    from_c = accept_revocation(c.local_node(), revocation.envelope, peer_of(c, b))

    assert accept_receipts(b.local_node(), [from_c.envelope], peer_of(b, c)) == 1
    assert ("receipt", from_c.receipt_id, a.node_id) in outbox(b)
    waiting = outgoing_for(b.db, a.node_id)
    assert waiting.receipts == [(from_c.receipt_id, from_c.envelope)]

    kept = accept_receipts(a.local_node(), [from_b.envelope, from_c.envelope], peer_of(a, b))
    assert kept == 2
    # B's receipt acknowledges the revocation waiting for B; C's receipt is not relayed on.
    assert outbox(a) == []
    assert accept_receipts(a.local_node(), [from_c.envelope], peer_of(a, b)) == 0  # a duplicate


def test_a_bad_receipt_gives_a_strike_and_the_good_ones_still_count(
    chain: dict[str, Node],
) -> None:
    a, b = chain["a"], chain["b"]
    record = add(a, "Mixed receipts", consent=RESHAREABLE)
    send(a, b, record)
    revocation = revoke(a.local_node(), record.id_hex, admin_of(a), "safety", None)
    good = accept_revocation(b.local_node(), revocation.envelope, peer_of(b, a)).envelope
    bad = good[:-1] + bytes([good[-1] ^ 1])

    assert accept_receipts(a.local_node(), [bad, good], peer_of(a, b)) == 1
    assert [reason.split(":")[0] for reason, _ in strikes(a, b)] == ["bad_receipt"]


# --- Consent expiry ------------------------------------------------------------------------


def test_expired_records_are_those_whose_consent_or_a_subjects_consent_ran_out(
    chain: dict[str, Node], clock: FakeClock
) -> None:
    a, b = chain["a"], chain["b"]
    now = int(clock())
    agreed = Subject("Amani", share=True, recorded=True)
    expired = add(a, "Consent ran out", consent=dataclasses.replace(FEDERATION, expires=now - 1))
    at_the_second = add(a, "Ends now", consent=dataclasses.replace(FEDERATION, expires=now))
    subject_ran_out = add(
        a,
        "A participant's consent ran out",
        consent=dataclasses.replace(
            FEDERATION, subjects=(agreed, dataclasses.replace(agreed, expires=now - 60))
        ),
    )
    add(a, "Still valid", consent=dataclasses.replace(FEDERATION, expires=now + 60))
    add(
        a,
        "Participant still agrees",
        consent=dataclasses.replace(
            FEDERATION, subjects=(dataclasses.replace(agreed, expires=now + 60),)
        ),
    )
    add(a, "No end date")
    foreign = signed_by(b, "B's own, expired", consent=dataclasses.replace(FEDERATION, expires=1))
    hold(a, foreign, b)  # not ours to revoke

    found = expired_records(a.db, a.node_id, now)

    assert sorted(found) == sorted(
        record.id_hex for record in (expired, at_the_second, subject_ran_out)
    )
    clock.advance(61)
    assert len(expired_records(a.db, a.node_id, int(clock()))) == 5


def test_an_expired_record_is_not_found_again_once_revoked(
    chain: dict[str, Node], clock: FakeClock
) -> None:
    a = chain["a"]
    now = int(clock())
    record = add(a, "Ran out", consent=dataclasses.replace(FEDERATION, expires=now - 1))
    revoke(a.local_node(), record.id_hex, admin_of(a), "consent-withdrawn", None)

    assert expired_records(a.db, a.node_id, now) == []


def test_the_origin_revokes_expired_records_by_itself(
    chain: dict[str, Node], clock: FakeClock
) -> None:
    """What the expiry loop runs: no member acts, the reason is "expired", holders are told."""
    a, b = chain["a"], chain["b"]
    now = int(clock())
    record = add(a, "Ran out", consent=dataclasses.replace(RESHAREABLE, expires=now + 10))
    send(a, b, record)
    assert revoke_expired(a.local_node()) == []
    clock.advance(11)

    [revocation] = revoke_expired(a.local_node())

    assert (revocation.reason, revocation.member, revocation.record_ids) == (
        "expired",
        "",
        (record.id_hex,),
    )
    assert outbox(a) == [("revocation", revocation.revocation_id, b.node_id)]
    assert revoke_expired(a.local_node()) == []  # once
    receipt = accept_revocation(b.local_node(), revocation.envelope, peer_of(b, a))
    assert receipt.holder == b.node_id and is_tombstoned(b.db, record.id_hex, a.node_id)
