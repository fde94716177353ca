"""Attachment blobs in the home: stored by hash, downloads checked, purged with their lesson,
and withdrawn only by the origin of the lessons that attach them."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from archive.attachment_intake import AttachmentInput
from archive.blob_format import write_sealed_copy
from archive.blobs import BlobStore, stored_blob_files
from archive.db import transaction
from archive.lesson_file import draft_from_fields
from archive.purge import finish_pending_purges
from archive.queries import load_record
from archive.tombstones import store_revocation
from crypto.blob_cipher import BlobDamaged
from federation.propagation import revoke
from node.node import Node
from tests.attachment_files import BODY_CANARY, pdf_with_metadata
from tests.conftest import HomeFactory
from tests.integration.revocation_helpers import admin_actor


def test_a_download_is_kept_only_whole_and_matching(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    data = b"photo bytes " * 1000
    digest = hashlib.sha256(data).hexdigest()
    store.append_partial(digest, 0, data[:5000])
    with pytest.raises(ValueError, match="where it ends"):
        store.append_partial(digest, 100, data[5000:])
    store.append_partial(digest, 5000, data[5000:])
    assert store.finish_partial(digest) and store.read(digest) == data
    wrong = hashlib.sha256(b"other").hexdigest()
    store.append_partial(wrong, 0, data)
    assert not store.finish_partial(wrong)
    assert not store.has(wrong) and store.partial_size(wrong) == 0


def lesson_with_pdf(node: Node) -> tuple[str, str]:
    consent = {"basis": "consent", "scope": "federation",
               "subjects": [{"pseudonym": "Heron", "share": True}]}  # fmt: skip
    front = {"title": "Checklist", "kind": "checklist", "consent": consent}
    pdf = AttachmentInput("c.pdf", pdf_with_metadata(), "Checklist", ("Heron",))
    intake = node.take_lesson(draft_from_fields(front, "x\n", "t"), "t", "admin", attachments=[pdf])
    assert intake.record_id is not None
    (attachment,) = load_record(node.db, intake.record_id).lesson.attachments
    return intake.record_id, attachment.hash_hex


def canary_files(home: Path) -> list[Path]:
    return [p for p in home.rglob("*") if p.is_file() and BODY_CANARY in p.read_bytes()]


def test_revoking_a_lesson_purges_its_files(make_home: HomeFactory) -> None:
    node = Node(make_home())
    record_id, blob = lesson_with_pdf(node)
    assert canary_files(node.paths.root)
    revoke(node.local_node(), record_id, admin_actor(node), "consent-withdrawn", None)
    assert not BlobStore.of(node.db).has(blob)
    assert canary_files(node.paths.root) == []
    node.close()


def test_another_origin_cannot_withdraw_a_file_our_lesson_attaches(
    make_home: HomeFactory,
) -> None:
    node = Node(make_home())
    _, blob = lesson_with_pdf(node)
    with transaction(node.db):
        store_revocation(node.db, "ff" * 32, b"x", "SOMEONE-ELSE", 0, "safety", (blob,), "p", 0)
    assert finish_pending_purges(node.db)
    assert BlobStore.of(node.db).has(blob)
    node.close()


def test_a_sealed_home_s_files_are_encrypted_at_rest(make_home: HomeFactory) -> None:
    node = Node(make_home(passphrase="a long enough passphrase"),
                passphrase=lambda: "a long enough passphrase")  # fmt: skip
    _, blob = lesson_with_pdf(node)
    store = BlobStore.of(node.db)
    assert store.key is not None
    assert BODY_CANARY in store.read(blob)  # it reads back whole through the store
    assert canary_files(node.paths.root) == []  # and no file holds it in the clear
    data = store.read(blob)
    digest = hashlib.sha256(data).hexdigest()
    store.delete(digest)
    store.append_partial(digest, 0, data[:100])  # a short chunk: only a file's last may be
    with pytest.raises(ValueError, match="64 KiB"):
        store.append_partial(digest, 100, data[100:])
    store.drop_partial(digest)
    for offset in range(0, len(data), 65_536):
        store.append_partial(digest, offset, data[offset : offset + 65_536])
    assert store.partial_size(digest) == len(data)
    assert store.finish_partial(digest) and store.read(digest, 100, 50) == data[100:150]
    node.close()


def test_a_plain_file_sealed_in_place_of_another_reads_back_whole(tmp_path: Path) -> None:
    """What ``rhizome seal`` does to each attachment file: a sealed copy, a chunk at a time,
    that opens under the key (whole, and across unit and chunk edges) and under no other."""
    data = os.urandom(600 * 1024 + 7)  # three read chunks, ten units, a short last one
    digest = hashlib.sha256(data).hexdigest()
    plain = BlobStore(tmp_path / "plain")
    plain.put(data)
    key = bytes(range(32))
    sealed = BlobStore(tmp_path / "sealed", key=key)
    for name, path in stored_blob_files(plain.root):
        write_sealed_copy(path, sealed.path(name), name, key)
    assert stored_blob_files(sealed.root) == [(digest, sealed.path(digest))]
    assert data[1000:1100] not in sealed.path(digest).read_bytes()
    assert sealed.size(digest) == len(data) and sealed.read(digest) == data
    assert sealed.read(digest, 262_100, 200) == data[262_100:262_300]
    with pytest.raises(BlobDamaged):
        BlobStore(sealed.root, key=bytes(32)).read(digest)
