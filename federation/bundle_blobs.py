"""Attachment files in offline bundles: chunks signed with the bundle, checked on import.

Each item of a bundle's sixth list is ``pack([record id, blob hash, offset, chunk])``, at
most :data:`CHUNK_BYTES` of the file per item, in order. Only the files of records in the
bundle whose people's consent lets them leave go in (the record itself passed the outbound
decision for that peer), and only while the bundle stays under half its size limit beyond
the records; what did not fit comes with the next sync. On import, after the records are
stored, each file is assembled in ``blobs/partial/`` and kept only if its SHA-256 is the
hash its signed record names; a mismatch earns the sender a strike and nothing is stored.
"""

from __future__ import annotations

from typing import Any

from archive.blobs import BlobStore, is_blob_withdrawn
from archive.errors import UnknownRecord
from archive.queries import load_record
from crypto.canonical import DecodeLimits, pack, unpack
from crypto.errors import CryptoError
from federation.blob_transfer import attachment_consents
from federation.blob_wire import CHUNK_BYTES
from federation.local import LocalNode
from federation.peers import Peer, add_strike
from governance.attachment_consent import decide_attachment

_ITEM_LIMITS = DecodeLimits(max_bytes=CHUNK_BYTES + 1024, max_bin_len=CHUNK_BYTES, max_array_len=4)


def blob_items(local: LocalNode, record_ids: list[str], budget: int) -> list[bytes]:
    """The chunks of every file of these records that may leave, up to ``budget`` bytes."""
    db, store, size = local.db, BlobStore.of(local.db), 0
    items: list[bytes] = []
    for record_id in record_ids:
        lesson = load_record(db, record_id).lesson
        consents = attachment_consents(db, record_id, lesson.consent)
        for attachment in lesson.attachments:
            digest = attachment.hash_hex
            if not store.has(digest) or is_blob_withdrawn(db, digest, lesson.origin_id):
                continue
            if not decide_attachment(attachment, consents, local.now()).allowed:
                continue
            if size + attachment.size > budget:
                return items
            for offset in range(0, attachment.size, CHUNK_BYTES):
                chunk = store.read(digest, offset, CHUNK_BYTES)
                items.append(pack([bytes.fromhex(record_id), attachment.hash, offset, chunk]))
            size += attachment.size
    return items


def take_blob_items(local: LocalNode, sender: Peer, items: list[bytes]) -> tuple[int, int]:
    """Assemble and check the files of a bundle (its records already stored): (stored,
    refused). A file that does not match its signed hash is struck and not stored."""
    store, stored, refused = BlobStore.of(local.db), 0, 0
    expected: dict[str, int] = {}
    for raw in items:
        try:
            record_id, digest, offset, chunk = _item(raw)
        except ValueError as error:  # signed by the sender: its fault
            refused += 1
            add_strike(local.db, sender.node_id, f"bad_bundle_chunk: {error}", local.now())
            continue
        size = expected.get(digest) or _allowed_size(local, record_id, digest)
        if size is None or store.has(digest):
            continue
        expected[digest] = size
        if offset == 0:
            store.drop_partial(digest)
        if store.partial_size(digest) != offset or offset + len(chunk) > size:
            continue  # out of order or past the signed size: this file is not taken
        store.append_partial(digest, offset, chunk)
        if offset + len(chunk) == size:
            if store.finish_partial(digest):
                stored += 1
            else:
                refused += 1
                add_strike(local.db, sender.node_id, f"blob_hash_mismatch: {digest[:16]}",
                           local.now())  # fmt: skip
    return stored, refused


def _item(raw: bytes) -> tuple[str, str, int, bytes]:
    try:
        record, digest, offset, chunk = unpack(raw, _ITEM_LIMITS)
    except (CryptoError, ValueError, TypeError) as error:
        raise ValueError(f"an attachment chunk is malformed ({error})") from error
    if not (isinstance(record, bytes) and isinstance(digest, bytes) and len(record) == 32
            and len(digest) == 32 and type(offset) is int and offset >= 0
            and isinstance(chunk, bytes) and chunk):  # fmt: skip
        raise ValueError("an attachment chunk is malformed")
    return record.hex(), digest.hex(), offset, chunk


def _allowed_size(local: LocalNode, record_id: str, digest: str) -> int | None:
    """The signed size of a file a stored record names and its people let travel; else None."""
    try:
        lesson = load_record(local.db, record_id).lesson
    except UnknownRecord:  # not stored (refused): its files are not taken
        return None
    attachment: Any = next((a for a in lesson.attachments if a.hash_hex == digest), None)
    if attachment is None or is_blob_withdrawn(local.db, digest, lesson.origin_id):
        return None
    consents = attachment_consents(local.db, record_id, lesson.consent)
    if not decide_attachment(attachment, consents, local.now()).allowed:
        return None
    return int(attachment.size)
