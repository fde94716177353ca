"""Offline bundles, sans network: export for one peer, carry the file, import it there.

Three hubs on real homes, as in ``test_sharing``: Nairobi (A) trusts Lima (B) and Quito (C),
and each of them trusts Nairobi; Lima and Quito do not know each other. Trust is set up with
``save_peer`` on both sides, so no node here ever synced over the network (issue 7, "Offline
bundles: exchange records on a USB stick"). What the tests check: a bundle brings what the
outbound decision allows and nothing else; it is signed by its sender and readable only by
its recipient; a damaged, foreign or untrusted file is refused whole with nothing stored;
tombstones come first, so an old bundle never brings back a withdrawn record; ``dry_run``
stores nothing; ``since`` makes an incremental bundle.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import sqlite3
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from archive.queries import latest_records
from archive.record import Consent
from archive.search import search
from archive.signed_record import SignedRecord, open_record
from archive.tombstones import is_tombstoned
from archive.verify import verify_archive
from crypto.canonical import pack
from crypto.envelope import seal
from crypto.sealing import open_sealed, seal_to
from crypto.signing import SigningIdentity
from federation import bundles
from federation.bundles import (
    BUNDLE_CONTEXT,
    MAGIC,
    BadBundle,
    BundleContents,
    Export,
    ImportReport,
    Since,
    export_bundle,
    import_bundle,
    read_bundle,
    record_export,
    since_of,
    write_bundle,
)
from federation.peers import change_peer_status, save_peer
from federation.propagation import accept_revocation, receipt_status, revoke
from federation.revocation import Actor
from governance.approvals import approve
from governance.decision_log import recent_decisions
from governance.members import add_member
from node.node import Node
from tests.conftest import SEED_A, SEED_B, START, FakeClock, HomeFactory, write_lesson
from tests.federation.test_sharing import (
    FEDERATION,
    SEED_C,
    add,
    count,
    hold,
    pair,
    peer_of,
    signed_by,
)

# Every table an import could change, and the strikes each peer row counts.
STATE_TABLES = (
    "records",
    "records_fts",
    "events",
    "tombstones",
    "revocations",
    "receipts",
    "decisions",
    "decision_state",
    "deliveries",
    "rejected_records",
    "strikes",
    "outbox",
    "approvals",
    "bundles_sent",
)
CURATOR_SEED = bytes(range(96, 128))


@pytest.fixture
def hubs(make_home: HomeFactory, clock: FakeClock) -> Iterator[dict[str, Node]]:
    """Nairobi trusts Lima and Quito, and each of them trusts Nairobi; Lima and Quito do not
    know each other. Nothing was ever synced."""
    homes = {
        "nairobi": make_home(
            "Nairobi Hub", "East Africa", identity=SigningIdentity.from_seed(SEED_A)
        ),
        "lima": make_home(
            "Lima Hub", "Andes", identity=SigningIdentity.from_seed(SEED_B), port=8471
        ),
        "quito": make_home(
            "Quito Hub", "Andes", identity=SigningIdentity.from_seed(SEED_C), port=8472
        ),
    }
    nodes = {name: Node(home, clock=clock) for name, home in homes.items()}
    pair(nodes["nairobi"], nodes["lima"])
    pair(nodes["nairobi"], nodes["quito"])
    yield nodes
    for node in nodes.values():
        node.close()


def state(node: Node) -> dict[str, int]:
    counts = {table: count(node.db, table) for table in STATE_TABLES}
    counts["peer strikes"] = int(
        node.db.execute("SELECT coalesce(sum(strikes), 0) FROM peers").fetchone()[0]
    )
    return counts


def exported(sender: Node, receiver: Node, since: Since | None = None) -> Export:
    """Export as the CLI does: make the bundle, then note it in the ledger (the CLI does that
    once the file is written)."""
    peer = peer_of(sender, receiver)
    export = export_bundle(sender.local_node(), peer, since)
    record_export(sender.local_node(), peer, export)
    return export


def bundle_for(sender: Node, receiver: Node, since: Since | None = None) -> bytes:
    return exported(sender, receiver, since).data


def since_for(sender: Node, receiver: Node, text: str) -> Since:
    """``--since text`` for a bundle ``sender`` makes for ``receiver``."""
    return since_of(sender.db, text, peer_of(sender, receiver))


def record_ids(contents: BundleContents) -> set[str]:
    return {open_record(raw, "bundled record").id_hex for raw in contents.records}


def ids_in(receiver: Node, data: bytes) -> set[str]:
    """The record ids of a bundle, opened as ``receiver`` opens it."""
    return record_ids(read_bundle(receiver.local_node(), data))


def ids(*records: SignedRecord) -> set[str]:
    return {record.id_hex for record in records}


def held(node: Node, *records: SignedRecord) -> list[bool]:
    return [
        node.db.execute("SELECT 1 FROM records WHERE id = ?", [r.id_hex]).fetchone() is not None
        for r in records
    ]


def admin_of(node: Node) -> Actor:
    member = node.member("admin")
    return Actor(member.name, node.member_identity("admin"), member.certificate)


def refuses(node: Node, data: bytes, *needles: str) -> str:
    """``data`` is refused with :class:`BadBundle`, its message naming each needle, and the
    node's state is exactly what it was."""
    before = state(node)
    with pytest.raises(BadBundle) as raised:
        import_bundle(node.local_node(), data)
    message = str(raised.value)
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"
    assert "\n" not in message
    assert state(node) == before, "a refused bundle changed something"
    assert not node.db.conn.in_transaction
    return message


# --- Export and import ---------------------------------------------------------------------


def test_a_bundle_brings_records_to_a_node_that_never_synced(hubs: dict[str, Node]) -> None:
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    records = [
        add(nairobi, "Buddy pairs at every action", body="Write the buddy pairs down.\n"),
        add(nairobi, "Water and snacks", body="Pack water for everyone.\n"),
        add(nairobi, "Legal observer hotline", body="Call the hotline number.\n"),
    ]
    local = add(nairobi, "Stays home", consent=Consent("consent", "local"))
    assert peer_of(lima, nairobi).last_sync is None

    peer = peer_of(nairobi, lima)
    export = export_bundle(nairobi.local_node(), peer, None)
    data, contents = export.data, export.contents

    assert data.startswith(MAGIC)
    assert (contents.sender, contents.recipient) == (nairobi.node_id, lima.node_id)
    assert set(export.sent_ids) == ids(*records) and len(export.sent_ids) == 3
    sent_query = "SELECT record_id FROM deliveries WHERE peer_id = ? AND direction = 'sent'"
    assert nairobi.db.execute(sent_query, [lima.node_id]).fetchall() == []
    assert count(nairobi.db, "bundles_sent") == 0, "nothing is recorded before the file exists"
    record_export(nairobi.local_node(), peer, export)
    sent = nairobi.db.execute(sent_query, [lima.node_id]).fetchall()
    assert {row[0] for row in sent} == ids(*records), "the ledger lists what the bundle carries"
    (bundle_row,) = nairobi.db.execute("SELECT peer_id, records FROM bundles_sent").fetchall()
    assert tuple(bundle_row) == (lima.node_id, 3)

    report = import_bundle(lima.local_node(), data)

    assert vars(report) == vars(ImportReport(nairobi.node_id, records=3, stored=3))
    assert held(lima, *records) == [True, True, True]
    assert held(lima, local) == [False]
    for record in records:
        row = lima.db.execute(
            "SELECT envelope, origin, received_from FROM records WHERE id = ?", [record.id_hex]
        ).fetchone()
        assert tuple(row) == (record.envelope, nairobi.node_id, nairobi.node_id)
    assert verify_archive(lima.db, lima.public_key).intact
    listed = {summary.title for summary in latest_records(lima.db)}
    assert listed == {"Buddy pairs at every action", "Water and snacks", "Legal observer hotline"}
    assert [hit.record.id for hit in search(lima.db, "hotline")] == [records[2].id_hex]
    received = lima.db.execute(
        "SELECT record_id FROM deliveries WHERE peer_id = ? AND direction = 'received'",
        [nairobi.node_id],
    ).fetchall()
    assert {row[0] for row in received} == ids(*records)
    assert peer_of(lima, nairobi).strikes == 0

    before = state(lima)
    again = import_bundle(lima.local_node(), data)
    assert vars(again) == vars(ImportReport(nairobi.node_id, records=3, duplicates=3))
    assert state(lima) == before, "a second import stores nothing new"


def test_a_lesson_file_added_at_the_origin_arrives_unchanged(
    hubs: dict[str, Node], tmp_path: Path
) -> None:
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    front = {
        "title": "Ubaguzi: mafunzo ya Jumamosi",
        "kind": "after_action_review",
        "language": "sw",
        "tags": ["training"],
        "consent": {"scope": "federation"},
    }
    record = nairobi.add_lesson_file(write_lesson(tmp_path, "aar.md", front, "Tulijifunza.\n"))

    import_bundle(lima.local_node(), bundle_for(nairobi, lima))

    (summary,) = latest_records(lima.db)
    assert (summary.id, summary.title, summary.language) == (
        record.id_hex, "Ubaguzi: mafunzo ya Jumamosi", "sw",
    )  # fmt: skip
    assert summary.origin == nairobi.node_id


def test_a_few_hundred_records_round_trip_in_batches_with_progress(hubs: dict[str, Node]) -> None:
    """The 10,000-record round trip and its MB/s are in bench/bench_bundle.py."""
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    records = [add(nairobi, f"Lesson number {n}") for n in range(600)]
    steps: list[int] = []

    report = import_bundle(lima.local_node(), bundle_for(nairobi, lima), progress=steps.append)

    assert (report.records, report.stored, report.rejected) == (600, 600, 0)
    assert steps == [500, 100]
    assert count(lima.db, "records") == 600
    assert {str(row[0]) for row in lima.db.execute("SELECT id FROM records")} == ids(*records)
    assert verify_archive(lima.db, lima.public_key).intact


def test_a_seized_bundle_reveals_only_its_length(hubs: dict[str, Node]) -> None:
    """Sealed to Lima's key: no title, node id or record id in clear, and two exports of the
    same records share nothing but the magic and their length."""
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    record = add(nairobi, "Names of the legal observers")
    first, second = bundle_for(nairobi, lima), bundle_for(nairobi, lima)
    for secret in (
        b"Names of the legal observers",
        b"legal",
        bytes.fromhex(record.id_hex),
        record.id_hex.encode(),
        nairobi.public_key,
        lima.public_key,
        nairobi.node_id.encode(),
        lima.node_id.encode(),
        b"rhizome/bundle/v1",
    ):
        assert secret not in first[len(MAGIC) :], secret
    assert len(first) == len(second)
    body_a, body_b = first[len(MAGIC) :], second[len(MAGIC) :]
    assert sum(a == b for a, b in zip(body_a, body_b, strict=True)) < len(body_a) // 16


# --- Damaged, foreign and untrusted files are refused whole --------------------------------


@pytest.fixture
def bundle(hubs: dict[str, Node]) -> bytes:
    """A good bundle from Nairobi for Lima: two records Lima may have."""
    add(hubs["nairobi"], "Buddy pairs at every action")
    add(hubs["nairobi"], "Water and snacks")
    return bundle_for(hubs["nairobi"], hubs["lima"])


def test_a_flipped_byte_anywhere_is_refused_and_nothing_is_stored(
    hubs: dict[str, Node], bundle: bytes
) -> None:
    lima = hubs["lima"]

    @settings(max_examples=60)
    @given(position=st.integers(0, len(bundle) - 1), mask=st.integers(1, 255))
    @example(position=0, mask=1)  # the magic
    @example(position=len(MAGIC), mask=1)  # the sealed box's one-time public key
    @example(position=len(MAGIC) + 40, mask=0x80)  # its authenticator
    @example(position=len(bundle) - 1, mask=0xFF)  # the last byte of the ciphertext
    def flipped(position: int, mask: int) -> None:
        damaged = bytearray(bundle)
        damaged[position] ^= mask
        message = refuses(lima, bytes(damaged))
        assert message == "this file is not a Rhizome bundle" or message.startswith(
            "this bundle was made for another node, or the file is damaged"
        )

    flipped()
    assert import_bundle(lima.local_node(), bundle).stored == 2, "the undamaged file still works"


def test_a_flipped_byte_inside_the_signed_bundle_is_refused(
    hubs: dict[str, Node], bundle: bytes
) -> None:
    """Anyone can seal a file to Lima's public key: the sender's signature inside is what
    makes a bundle authentic. Flip a byte of the signed envelope and seal it again."""
    lima = hubs["lima"]
    signed = open_sealed(lima.identity, bundle[len(MAGIC) :])

    @settings(max_examples=80)
    @given(position=st.integers(0, len(signed) - 1), mask=st.integers(1, 255))
    @example(position=0, mask=1)
    @example(position=len(signed) - 1, mask=1)  # the signature
    def flipped(position: int, mask: int) -> None:
        damaged = bytearray(signed)
        damaged[position] ^= mask
        refuses(lima, MAGIC + seal_to(lima.node_id, bytes(damaged)))

    flipped()


@pytest.mark.parametrize("cut", [len(MAGIC), len(MAGIC) + 1, len(MAGIC) + 47, -1, -16, 0.5])
def test_a_truncated_bundle_is_refused(hubs: dict[str, Node], bundle: bytes, cut: float) -> None:
    end = int(len(bundle) * cut) if isinstance(cut, float) else int(cut)
    refuses(hubs["lima"], bundle[:end], "made for another node, or the file is damaged")


def test_a_bundle_with_bytes_added_at_the_end_is_refused(
    hubs: dict[str, Node], bundle: bytes
) -> None:
    refuses(hubs["lima"], bundle + b"\x00", "made for another node, or the file is damaged")


def _sqlite_file(tmp_path: Path) -> bytes:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x)")
    return path.read_bytes()


def _zip_file() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("lesson.md", "---\ntitle: x\n---\n")
    return buffer.getvalue()


OTHER_FILES: dict[str, Callable[[Path], bytes]] = {
    "empty": lambda _: b"",
    "one byte": lambda _: b"R",
    "junk": lambda _: bytes(range(256)) * 4,
    "zeros": lambda _: bytes(4096),
    "a lesson file": lambda _: b"---\ntitle: Buddy pairs\nkind: checklist\n---\n\nBody.\n",
    "a SQLite database": _sqlite_file,
    "a zip archive": lambda _: _zip_file(),
    "gzip": lambda _: gzip.compress(b"RHZBNDL1" + bytes(100)),
    "text with the magic inside": lambda _: b"copy of RHZBNDL1 notes",
    "a future version": lambda _: b"RHZBNDL2" + bytes(200),
}


@pytest.mark.parametrize("kind", list(OTHER_FILES))
def test_a_file_that_is_not_a_bundle_is_refused(
    hubs: dict[str, Node], tmp_path: Path, kind: str
) -> None:
    refuses(hubs["lima"], OTHER_FILES[kind](tmp_path), "this file is not a Rhizome bundle")


@pytest.mark.parametrize("tail", [b"", b"\x00" * 48, bytes(range(256)) * 8])
def test_the_magic_followed_by_no_sealed_box_is_refused(hubs: dict[str, Node], tail: bytes) -> None:
    refuses(hubs["lima"], MAGIC + tail, "made for another node, or the file is damaged")


def test_a_bundle_larger_than_the_limit_is_refused_before_it_is_opened(
    hubs: dict[str, Node], bundle: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    lima = hubs["lima"]
    monkeypatch.setattr(bundles, "MAX_BUNDLE_BYTES", len(bundle) - 1)
    opened: list[bytes] = []

    def open_sealed(identity: SigningIdentity, sealed: bytes) -> bytes:
        opened.append(sealed)
        return b""

    monkeypatch.setattr(bundles, "open_sealed", open_sealed)
    refuses(lima, bundle, "larger than the bundle limit", f"{len(bundle) - 1} bytes")
    assert opened == []
    monkeypatch.undo()
    assert import_bundle(lima.local_node(), bundle).stored == 2


def test_a_bundle_for_lima_cannot_be_read_by_quito_even_though_quito_is_a_peer_of_nairobi(
    hubs: dict[str, Node], bundle: bytes
) -> None:
    quito = hubs["quito"]
    with pytest.raises(BadBundle, match="made for another node"):
        read_bundle(quito.local_node(), bundle)
    refuses(quito, bundle, "made for another node")
    assert count(quito.db, "records") == 0


def test_a_bundle_comes_back_to_its_sender_unreadable(hubs: dict[str, Node], bundle: bytes) -> None:
    refuses(hubs["nairobi"], bundle, "made for another node")


def test_a_bundle_from_a_node_that_is_not_a_peer_is_refused_whole(hubs: dict[str, Node]) -> None:
    """Quito lists Lima as a peer and makes it a bundle; Lima never paired with Quito."""
    lima, quito = hubs["lima"], hubs["quito"]
    save_peer(quito.db, lima.node_id, "Lima Hub", "Andes", lima.config.url, START)
    add(quito, "From Quito")
    data = bundle_for(quito, lima)
    assert ids_in(lima, data), "the bundle itself opens"
    refuses(lima, data, "not an active peer")


@pytest.mark.parametrize("event", ["suspend", "remove"])
def test_a_bundle_from_a_suspended_or_removed_peer_is_refused_whole(
    hubs: dict[str, Node], bundle: bytes, event: str
) -> None:
    """Once Lima pairs with Nairobi again (the way back from either), the bundle opens."""
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    change_peer_status(lima.db, nairobi.node_id, event)
    refuses(lima, bundle, "not an active peer")
    save_peer(lima.db, nairobi.node_id, "Nairobi Hub", "East Africa", nairobi.config.url, START)
    assert import_bundle(lima.local_node(), bundle).stored == 2


def _signed_bundle(
    sender: Node, recipient: Node, *, revocations: list[bytes], records: list[bytes]
) -> bytes:
    """A bundle ``sender`` really signed, holding whatever lists we give it."""
    contents = BundleContents(sender.node_id, recipient.node_id, "ab" * 16, START, None)
    contents.revocations, contents.records = revocations, records
    return write_bundle(sender.local_node(), contents)


def test_a_bundle_signed_by_one_node_naming_another_as_sender_is_refused(
    hubs: dict[str, Node],
) -> None:
    """Quito signs a bundle that says it comes from Nairobi, a peer Lima trusts."""
    nairobi, lima, quito = hubs["nairobi"], hubs["lima"], hubs["quito"]
    record = add(nairobi, "Looks like Nairobi's")
    contents = BundleContents(
        nairobi.node_id, lima.node_id, "cd" * 16, START, None, records=[record.envelope]
    )
    refuses(lima, write_bundle(quito.local_node(), contents), "not signed by the node it names")


def test_a_signed_bundle_with_a_forged_revocation_is_refused_whole(
    hubs: dict[str, Node],
) -> None:
    """One bad statement in an otherwise good bundle: nothing of it is stored, not even the
    good record beside it."""
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    good = add(nairobi, "Good")
    data = _signed_bundle(nairobi, lima, revocations=[b"\x94junk"], records=[good.envelope])
    refuses(lima, data, "revocation")
    assert held(lima, good) == [False]


def test_a_signed_bundle_whose_lists_hold_other_things_is_refused(hubs: dict[str, Node]) -> None:
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    good = add(nairobi, "Good")
    contents = BundleContents(nairobi.node_id, lima.node_id, "ef" * 16, START, None)
    contents.records = [good.envelope, 7]  # type: ignore[list-item]
    refuses(lima, write_bundle(nairobi.local_node(), contents), "something other than")


STRANGER_SEED = bytes(range(160, 192))


@pytest.mark.parametrize(
    "field, value",
    [
        ("bundle id", 2**64 - 1),
        ("bundle id", 2**62),
        ("bundle id", -1),
        ("bundle id", "not bytes"),
        ("bundle id", None),
        ("created", "soon"),
        ("created", [START]),
        ("since", "yesterday"),
        ("since", [START]),
        ("sender", 7),
        ("recipient", b"not text"),
    ],
)
def test_a_signed_bundle_with_fields_of_the_wrong_type_is_refused_cleanly(
    hubs: dict[str, Node], field: str, value: object
) -> None:
    """Anyone can make a key, sign a bundle with it and seal it to Lima's public key: what
    is inside is untrusted until the sender is known to be a peer. A field of the wrong type
    must give BadBundle, never another exception (nor a huge allocation)."""
    lima = hubs["lima"]
    stranger = SigningIdentity.from_seed(STRANGER_SEED)
    fields: list[object] = [1, stranger.node_id, lima.node_id, bytes(16), START, None]
    fields[{"sender": 1, "recipient": 2, "bundle id": 3, "created": 4, "since": 5}[field]] = value
    payload = pack([*fields, [], [], [], [], []])
    data = MAGIC + seal_to(lima.node_id, seal(stranger, BUNDLE_CONTEXT, payload).raw)
    refuses(lima, data)


# --- Tombstones first: an old bundle never brings back a withdrawn record --------------------


@pytest.fixture
def three(hubs: dict[str, Node]) -> list[SignedRecord]:
    nairobi = hubs["nairobi"]
    return [add(nairobi, f"Record {n}") for n in (1, 2, 3)]


def test_an_old_bundle_cannot_bring_back_a_revoked_record_but_brings_the_others(
    hubs: dict[str, Node], three: list[SignedRecord], clock: FakeClock
) -> None:
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    r1, r2, r3 = three
    old = bundle_for(nairobi, lima)
    assert ids_in(lima, old) == ids(r1, r2, r3)
    clock.advance(60)
    revocation = revoke(nairobi.local_node(), r2.id_hex, admin_of(nairobi), "safety", None)
    accept_revocation(lima.local_node(), revocation.envelope, peer_of(lima, nairobi))
    assert is_tombstoned(lima.db, r2.id_hex, nairobi.node_id)
    clock.advance(60)

    report = import_bundle(lima.local_node(), old)

    assert (report.stored, report.duplicates, report.rejected) == (2, 0, 1)
    assert held(lima, r1, r2, r3) == [True, False, True]
    (decision,) = [d for d in recent_decisions(lima.db, 50, r2.id_hex) if d.direction == "inbound"]
    assert (decision.allowed, decision.reasons, decision.peer_id) == (
        False, ["revoked"], nairobi.node_id,
    )  # fmt: skip
    assert peer_of(lima, nairobi).strikes == 0, "a stale copy is not the sender's fault"


def test_a_newer_bundle_carries_the_revocation_and_the_old_one_then_brings_only_the_others(
    hubs: dict[str, Node], three: list[SignedRecord], clock: FakeClock, tmp_path: Path
) -> None:
    """Nairobi gave Lima a stick, then withdrew R2 and made a second, incremental one. The
    two sticks arrive in the wrong order: the new one first."""
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    r1, r2, r3 = three
    old_path = tmp_path / "first.rhzb"
    old_path.write_bytes(bundle_for(nairobi, lima))
    clock.advance(60)
    revoke(nairobi.local_node(), r2.id_hex, admin_of(nairobi), "consent-withdrawn", None)
    clock.advance(60)
    export = exported(nairobi, lima, since_for(nairobi, lima, str(old_path)))
    newer, contents = export.data, export.contents
    assert (len(contents.revocations), contents.records) == (1, [])

    first = import_bundle(lima.local_node(), newer)
    assert (first.revocations, first.stored) == (1, 0)
    assert is_tombstoned(lima.db, r2.id_hex, nairobi.node_id)

    second = import_bundle(lima.local_node(), old_path.read_bytes())
    assert (second.stored, second.rejected) == (2, 1)
    assert held(lima, r1, r2, r3) == [True, False, True]
    reasons = [d.reasons for d in recent_decisions(lima.db, 50, r2.id_hex)]
    assert ["revoked"] in reasons


def test_a_newer_bundle_purges_a_record_the_recipient_already_holds(
    hubs: dict[str, Node], three: list[SignedRecord], clock: FakeClock
) -> None:
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    r1, r2, r3 = three
    import_bundle(lima.local_node(), bundle_for(nairobi, lima))
    assert held(lima, r1, r2, r3) == [True, True, True]
    clock.advance(60)
    revoke(nairobi.local_node(), r2.id_hex, admin_of(nairobi), "safety", None)
    r4 = add(nairobi, "Record 4")

    report = import_bundle(lima.local_node(), bundle_for(nairobi, lima))

    assert (report.revocations, report.stored, report.duplicates) == (1, 1, 2)
    assert held(lima, r1, r2, r3, r4) == [True, False, True, True]
    assert is_tombstoned(lima.db, r2.id_hex, nairobi.node_id)
    assert [hit.record.id for hit in search(lima.db, "Record")] != []
    assert r2.id_hex not in {hit.record.id for hit in search(lima.db, "Record")}
    purged = lima.db.execute("SELECT subject FROM events WHERE kind = 'record.purged'")
    assert [row[0] for row in purged] == [r2.id_hex]
    assert verify_archive(lima.db, lima.public_key).intact


def test_tombstones_come_first_whatever_the_order_in_the_file(
    hubs: dict[str, Node], three: list[SignedRecord], clock: FakeClock
) -> None:
    """A bundle (signed by the origin) holding both a revocation and a copy of the record it
    withdraws: the copy is refused, and never stored for a moment."""
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    r1, r2, _ = three
    import_bundle(lima.local_node(), bundle_for(nairobi, lima))  # the ledger: Lima holds R2
    revocation = revoke(nairobi.local_node(), r2.id_hex, admin_of(nairobi), "safety", None)
    # Quito has never seen R2: it gets a copy of it *before* its revocation in the lists.
    quito = hubs["quito"]
    data = _signed_bundle(
        nairobi, quito, records=[r2.envelope, r1.envelope], revocations=[revocation.envelope]
    )

    report = import_bundle(quito.local_node(), data)

    assert (report.revocations, report.stored, report.rejected) == (1, 1, 1)
    assert held(quito, r1, r2) == [True, False]
    assert is_tombstoned(quito.db, r2.id_hex, nairobi.node_id)
    received = quito.db.execute(
        "SELECT count(*) FROM events WHERE kind = 'record.received' AND subject = ?", [r2.id_hex]
    ).fetchone()[0]
    assert received == 0, "the copy was never stored, not even for a moment"
    assert held(lima, r2) == [True], "Lima still holds it until it gets the revocation"


def test_the_purge_receipt_travels_back_to_the_origin_in_the_return_bundle(
    hubs: dict[str, Node], three: list[SignedRecord], clock: FakeClock
) -> None:
    """Revocation promises proof: each holder answers with a signed purge receipt. Over a
    stick there is no answer on the same connection, so Lima's receipt has to travel in the
    next bundle Lima makes for Nairobi, and Nairobi then shows Lima as purged."""
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    _, r2, _ = three
    import_bundle(lima.local_node(), bundle_for(nairobi, lima))
    clock.advance(60)
    revoke(nairobi.local_node(), r2.id_hex, admin_of(nairobi), "safety", None)
    import_bundle(lima.local_node(), bundle_for(nairobi, lima))
    clock.advance(60)

    export = exported(lima, nairobi)
    back, contents = export.data, export.contents
    import_bundle(nairobi.local_node(), back)

    assert len(contents.receipts) == 1, "Lima's purge receipt is not in its bundle for Nairobi"
    _, holders = receipt_status(nairobi.db, r2.id_hex)
    assert [(h.node, h.status, h.verified) for h in holders] == [(lima.node_id, "purged", True)]


# --- What may go to a peer, and only that ----------------------------------------------------


def test_a_record_quito_may_not_have_is_never_in_a_bundle_for_quito(
    hubs: dict[str, Node], clock: FakeClock
) -> None:
    nairobi, lima, quito = hubs["nairobi"], hubs["lima"], hubs["quito"]
    allowed = [
        add(nairobi, "Open to all peers"),
        add(nairobi, "Public", consent=dataclasses.replace(FEDERATION, scope="public")),
        add(nairobi, "For Quito", consent=Consent("consent", "peers", peers=(quito.node_id,))),
    ]
    withheld = [
        add(nairobi, "For Lima", consent=Consent("consent", "peers", peers=(lima.node_id,))),
        add(nairobi, "Stays home", consent=Consent("consent", "local")),
        add(nairobi, "Names and places", sensitivity="high"),
        add(nairobi, "Needs a curator", sensitivity="medium"),
        add(nairobi, "Only a notice", consent=Consent("notice", "federation")),
        add(
            nairobi,
            "Not the Andes",
            consent=dataclasses.replace(FEDERATION, regions_deny=("Andes",)),
        ),
    ]
    from_lima = signed_by(lima, "Lima's, for Nairobi only")
    hold(nairobi, from_lima, lima)
    withheld.append(from_lima)

    export = exported(nairobi, quito)
    data, contents = export.data, export.contents

    assert ids_in(quito, data) == ids(*allowed)
    assert record_ids(contents) == ids(*allowed)
    sent = nairobi.db.execute(
        "SELECT record_id FROM deliveries WHERE peer_id = ? AND direction = 'sent'",
        [quito.node_id],
    ).fetchall()
    assert {row[0] for row in sent} == ids(*allowed)
    denied = {
        d.record_id
        for d in recent_decisions(nairobi.db, 100)
        if d.direction == "outbound" and d.peer_id == quito.node_id and not d.allowed
    }
    assert denied == ids(*withheld), "every refusal is logged"
    report = import_bundle(quito.local_node(), data)
    assert (report.stored, report.rejected) == (3, 0)
    assert peer_of(quito, nairobi).strikes == 0


def test_an_approved_medium_record_goes_with_its_approval_and_the_curators_certificate(
    hubs: dict[str, Node],
) -> None:
    nairobi, quito = hubs["nairobi"], hubs["quito"]
    curator_key = SigningIdentity.from_seed(CURATOR_SEED)
    curator = add_member(
        nairobi.db, nairobi.identity, "kofi", curator_key.public_key, ("curator",), START
    )
    record = add(nairobi, "Needs a curator", sensitivity="medium")
    unapproved = add(nairobi, "Still waiting", sensitivity="medium")
    assert approve(nairobi.db, nairobi.identity, curator, curator_key, record.id_hex, False, START)

    contents = read_bundle(quito.local_node(), bundle_for(nairobi, quito))

    assert record_ids(contents) == ids(record)
    assert unapproved.id_hex not in record_ids(contents)
    assert len(contents.approvals) == 1
    assert contents.certificates == [curator.certificate]


def test_a_record_lima_sent_is_not_sent_back_to_lima_as_its_own(hubs: dict[str, Node]) -> None:
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    theirs = signed_by(lima, "From Lima", consent=FEDERATION)
    hold(nairobi, theirs, lima)
    ours = add(nairobi, "Ours")
    assert ids_in(lima, bundle_for(nairobi, lima)) == ids(ours)


# --- Dry run ---------------------------------------------------------------------------------


def test_a_dry_run_reports_what_would_change_and_stores_nothing(
    hubs: dict[str, Node], three: list[SignedRecord], clock: FakeClock
) -> None:
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    r1, r2, r3 = three
    import_bundle(lima.local_node(), bundle_for(nairobi, lima))
    clock.advance(60)
    revoke(nairobi.local_node(), r2.id_hex, admin_of(nairobi), "safety", None)
    r4 = add(nairobi, "Record 4")
    local = add(nairobi, "Stays home", consent=Consent("consent", "local"))
    data = bundle_for(nairobi, lima)
    before = state(lima)

    dry = import_bundle(lima.local_node(), data, dry_run=True)

    assert state(lima) == before
    assert held(lima, r1, r2, r3, r4, local) == [True, True, True, False, False]
    assert not is_tombstoned(lima.db, r2.id_hex, nairobi.node_id)
    assert not lima.db.conn.in_transaction
    assert (dry.dry_run, dry.revocations, dry.stored, dry.duplicates, dry.rejected) == (
        True, 1, 1, 2, 0,
    )  # fmt: skip

    real = import_bundle(lima.local_node(), data)
    assert vars(real) == {**vars(dry), "dry_run": False}
    assert held(lima, r1, r2, r3, r4) == [True, False, True, True]


def test_a_dry_run_of_a_bad_bundle_is_refused_like_a_real_import(
    hubs: dict[str, Node], bundle: bytes
) -> None:
    lima = hubs["lima"]
    before = state(lima)
    with pytest.raises(BadBundle):
        import_bundle(lima.local_node(), bundle[:-1], dry_run=True)
    assert state(lima) == before


# --- Incremental bundles ---------------------------------------------------------------------


def test_since_an_earlier_bundle_file_carries_only_newer_records(
    hubs: dict[str, Node], clock: FakeClock, tmp_path: Path
) -> None:
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    old = [add(nairobi, "First"), add(nairobi, "Second")]
    first = tmp_path / "first.rhzb"
    first.write_bytes(bundle_for(nairobi, lima))
    clock.advance(3600)
    new = add(nairobi, "Third")

    since = since_for(nairobi, lima, str(first))
    assert since.time is None and since.after_seq is not None  # picks up after that bundle
    data = bundle_for(nairobi, lima, since)

    assert ids_in(lima, data) == ids(new)
    assert ids_in(lima, bundle_for(nairobi, lima)) == ids(*old, new), "a full one has them all"
    import_bundle(lima.local_node(), first.read_bytes())
    assert import_bundle(lima.local_node(), data).stored == 1
    assert count(lima.db, "records") == 3


def test_since_an_iso_time_carries_only_records_stored_after_it(
    hubs: dict[str, Node], clock: FakeClock
) -> None:
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    add(nairobi, "Before")  # START is 2026-05-28T20:26:40Z
    clock.advance(120)
    after = add(nairobi, "After")
    for text in ("2026-05-28T20:27:00Z", "2026-05-28T20:27:00", "2026-05-28 22:27:00+02:00"):
        since = since_for(nairobi, lima, text)
        assert since == Since(time=START + 20), text
        assert ids_in(lima, bundle_for(nairobi, lima, since)) == ids(after), text
    assert len(ids_in(lima, bundle_for(nairobi, lima, since_for(nairobi, lima, "2026-05-28")))) == 2


def test_since_a_file_this_node_did_not_export_is_a_clear_error(
    hubs: dict[str, Node], tmp_path: Path
) -> None:
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    add(nairobi, "Anything")
    theirs = tmp_path / "from-lima.rhzb"
    theirs.write_bytes(bundle_for(lima, nairobi))  # a real bundle, but Lima made it
    other = tmp_path / "notes.txt"
    other.write_text("not a bundle")
    copy = tmp_path / "copy.rhzb"
    copy.write_bytes(bundle_for(nairobi, lima)[:-1])
    for path in (theirs, other, copy):
        with pytest.raises(BadBundle, match="not a bundle this node exported"):
            since_for(nairobi, lima, str(path))


def test_since_a_bundle_made_for_another_peer_is_refused(
    hubs: dict[str, Node], tmp_path: Path
) -> None:
    """A bundle for Quito says nothing about what Lima has."""
    nairobi, lima, quito = hubs["nairobi"], hubs["lima"], hubs["quito"]
    add(nairobi, "Anything")
    for_quito = tmp_path / "for-quito.rhzb"
    for_quito.write_bytes(bundle_for(nairobi, quito))
    with pytest.raises(BadBundle, match="made for another peer"):
        since_for(nairobi, lima, str(for_quito))
    assert since_for(nairobi, quito, str(for_quito)).after_seq is not None


def test_since_a_bundle_includes_a_record_stored_in_the_same_second_after_the_export(
    hubs: dict[str, Node], tmp_path: Path
) -> None:
    """Times are whole seconds: a lesson added in the same second as the export, after it,
    must be in the next incremental bundle, or no incremental bundle will ever carry it."""
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    add(nairobi, "In the first bundle")
    first = tmp_path / "first.rhzb"
    first.write_bytes(bundle_for(nairobi, lima))
    late = add(nairobi, "Added right after the export")  # the clock has not moved

    data = bundle_for(nairobi, lima, since_for(nairobi, lima, str(first)))

    assert ids_in(lima, data) == ids(late)


def test_records_that_do_not_fit_are_counted_and_the_next_bundles_carry_them(
    hubs: dict[str, Node], clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bundle holds at most half of MAX_BUNDLE_BYTES of records. What does not fit must be
    counted (``left_out``: the CLI then says "export again with --since this bundle"), and
    exporting again with --since the last bundle, until nothing is left out, must bring
    every record over."""
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    records = [add(nairobi, f"Lesson number {n}") for n in range(10)]
    monkeypatch.setattr(bundles, "MAX_BUNDLE_BYTES", 5 * len(records[0].envelope))
    carried: set[str] = set()
    since = None
    for n in range(10):
        clock.advance(60)
        peer = peer_of(nairobi, lima)
        export = export_bundle(nairobi.local_node(), peer, since)
        data, contents = export.data, export.contents
        carried |= ids_in(lima, data)
        if n == 0:
            assert len(contents.records) == 2, "the budget holds two of these records"
            assert contents.left_out == 8, "what did not fit is counted"
        if not contents.left_out:
            break
        path = tmp_path / f"bundle-{n}.rhzb"
        path.write_bytes(data)
        record_export(nairobi.local_node(), peer, export)  # as the CLI does, once written
        since = since_for(nairobi, lima, str(path))
    assert carried == ids(*records)
