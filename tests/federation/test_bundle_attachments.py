"""Bundles carry the attachment files the people in them let travel, checked on import."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from archive.attachment_intake import AttachmentInput
from archive.blobs import BlobStore
from archive.lesson_file import draft_from_fields
from archive.queries import load_record
from crypto.canonical import pack, unpack
from crypto.signing import SigningIdentity
from federation.bundles import import_bundle, read_bundle, write_bundle
from node.node import Node
from tests.attachment_files import jpeg_with_gps
from tests.conftest import SEED_A, SEED_B, FakeClock, HomeFactory
from tests.federation.test_bundles import exported
from tests.federation.test_sharing import pair

SUBJECTS = [
    {"pseudonym": "Heron", "share": True, "photographed": False},
    {"pseudonym": "Kite", "share": True, "photographed": True},
]


@pytest.fixture
def two(make_home: HomeFactory, clock: FakeClock) -> Iterator[tuple[Node, Node]]:
    nairobi = Node(make_home("Nairobi Hub", identity=SigningIdentity.from_seed(SEED_A)),
                   clock=clock)  # fmt: skip
    lima = Node(make_home("Lima Hub", "Andes", identity=SigningIdentity.from_seed(SEED_B),
                          port=8471), clock=clock)  # fmt: skip
    pair(nairobi, lima)
    yield nairobi, lima
    nairobi.close()
    lima.close()


def lesson_with_photos(node: Node) -> list[str]:
    consent = {"basis": "consent", "scope": "federation", "subjects": SUBJECTS}
    front = {"title": "River drill", "kind": "checklist", "consent": consent}
    files = [
        AttachmentInput("kite.jpg", jpeg_with_gps((900, 700), noise=True), "Kite", ("Kite",)),
        AttachmentInput("heron.jpg", jpeg_with_gps((40, 40)), "Heron", ("Heron",)),
    ]
    intake = node.take_lesson(draft_from_fields(front, "Notes.\n", "t"), "t", "admin",
                              attachments=files)  # fmt: skip
    assert intake.record_id is not None
    return [a.hash_hex for a in load_record(node.db, intake.record_id).lesson.attachments]


def test_a_bundle_carries_only_the_files_consent_lets_travel(two: tuple[Node, Node]) -> None:
    nairobi, lima = two
    kite, heron = lesson_with_photos(nairobi)
    report = import_bundle(lima.local_node(), exported(nairobi, lima).data)
    assert report.stored == 1 and report.attachments == 1
    store = BlobStore.of(lima.db)
    assert store.has(kite) and not store.has(heron)
    assert store.read(kite) == BlobStore.of(nairobi.db).read(kite)


def test_a_bundle_file_that_does_not_match_its_hash_is_struck_and_not_stored(
    two: tuple[Node, Node],
) -> None:
    nairobi, lima = two
    kite, _ = lesson_with_photos(nairobi)
    contents = read_bundle(lima.local_node(), exported(nairobi, lima).data)
    record, digest, offset, chunk = unpack(contents.blobs[0])
    contents.blobs[0] = pack([record, digest, offset, bytes(len(chunk))])  # other bytes
    forged = write_bundle(nairobi.local_node(), contents)  # still signed by the sender
    import_bundle(lima.local_node(), forged)
    store = BlobStore.of(lima.db)
    assert not store.has(kite) and store.partial_size(kite) == 0
    assert lima.db.execute("SELECT count(*) FROM strikes WHERE reason LIKE 'blob_hash%'"
                           ).fetchone()[0] == 1  # fmt: skip
