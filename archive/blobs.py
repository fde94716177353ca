"""Attachment bytes: content-addressed blobs in the home, outside the database.

A blob is stored under its SHA-256 (the hash the signed record names) as
``blobs/ab/cdef…`` beside ``rhizome.db``; a download from a peer grows in
``blobs/partial/<hash>.part`` until its hash is checked, so an interrupted transfer resumes
where it stopped and a blob whose hash does not match is never stored.

``record_blobs`` says which record names which blob. A purge (any path through
:func:`archive.purge.delete_record`) forgets the record's rows through the purge hook
:func:`forget_record_blobs` and queues, in the same transaction, the blobs no other record
names in ``blob_purges``; a withdrawal of blob ids themselves (a subject withdrew consent,
:func:`withdraw_blobs`) queues them too. :func:`sweep_purged_blobs` then deletes the bytes,
partial downloads included, when the purge is finished (``archive.purge``).

At rest: on a sealed node they are encrypted with a key derived from the home key
(:mod:`crypto.blob_cipher`); the node registers that key for its home's ``blobs/`` when it
opens the home (:func:`register_blob_key`), and every read and write of a blob's bytes goes
through :class:`BlobStore` and :mod:`archive.blob_format`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Generator, Iterable
from pathlib import Path

import sqlite_utils

from archive import blob_format
from archive.signed_record import SignedRecord
from crypto.blob_cipher import BlobDamaged

PARTIAL = "partial"
READ_CHUNK = 256 * 1024


def blob_dir_of(db: sqlite_utils.Database) -> Path | None:
    """``blobs/`` beside the database file (None for a database in memory)."""
    for _, name, file in db.execute("PRAGMA database_list").fetchall():
        if name == "main" and file:
            return Path(file).parent / "blobs"
    return None


KeySource = Callable[[], bytes]
_BLOB_KEYS: dict[Path, KeySource] = {}


def register_blob_key(root: Path, key: KeySource) -> None:
    """Where a sealed home's blob key comes from (opened on first use, so a command that
    touches no attachment bytes asks no passphrase), for every :class:`BlobStore` of
    ``root`` in this process."""
    _BLOB_KEYS[root.resolve()] = key


def blob_cipher_of(db: sqlite_utils.Database) -> bytes | None:
    """The blob key of the home of ``db`` (None: plain files)."""
    root = blob_dir_of(db)
    source = None if root is None else _BLOB_KEYS.get(root.resolve())
    return None if source is None else source()


class BlobStore:
    """The blobs of one home (sealed in units when the home's blob key is registered)."""

    def __init__(self, root: Path, key: bytes | None = None) -> None:
        self.root = root
        self._key = key
        self._source = _BLOB_KEYS.get(root.resolve())

    @property
    def key(self) -> bytes | None:
        if self._key is None and self._source is not None:
            self._key = self._source()
        return self._key

    @classmethod
    def of(cls, db: sqlite_utils.Database) -> BlobStore:
        root = blob_dir_of(db)
        if root is None:
            raise RuntimeError("attachments need a database on disk")
        return cls(root)

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest[2:]

    def partial_path(self, digest: str) -> Path:
        return self.root / PARTIAL / f"{digest}.part"

    def has(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def size(self, digest: str) -> int:
        return blob_format.size_of(self.path(digest))

    def put(self, data: bytes) -> str:
        """Store bytes (atomically: a crash leaves no half blob); their hex SHA-256."""
        digest = hashlib.sha256(data).hexdigest()
        if not self.has(digest):
            blob_format.write_new(self.path(digest), digest, data, self.key)
        return digest

    def read(self, digest: str, offset: int = 0, length: int | None = None) -> bytes:
        return blob_format.read_range(self.path(digest), digest, offset, length, self.key)

    def stream(self, digest: str) -> Generator[bytes, None, None]:
        yield from blob_format.stream(self.path(digest), digest, self.key)

    def partial_size(self, digest: str) -> int:
        """How much of a download is here already (0: none)."""
        try:
            return blob_format.size_of(self.partial_path(digest))
        except FileNotFoundError:
            return 0

    def append_partial(self, digest: str, offset: int, chunk: bytes) -> None:
        """Add a chunk at ``offset`` (the size of what is here; anything else restarts)."""
        if self.partial_size(digest) != offset:
            raise ValueError("a chunk must continue the partial download where it ends")
        blob_format.append(self.partial_path(digest), digest, offset, chunk, self.key)

    def finish_partial(self, digest: str) -> bool:
        """Move a complete download into place if its hash is right; else delete it (False).
        A blob whose hash does not match (or a sealed one that does not open) is never
        stored."""
        path = self.partial_path(digest)
        hasher = hashlib.sha256()
        try:
            for chunk in blob_format.stream(path, digest, self.key):
                hasher.update(chunk)
        except BlobDamaged:
            hasher = hashlib.sha256(b"damaged")
        if hasher.hexdigest() != digest:
            _overwrite_and_unlink(path)
            return False
        target = self.path(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
        return True

    def drop_partial(self, digest: str) -> None:
        _overwrite_and_unlink(self.partial_path(digest))

    def delete(self, digest: str) -> None:
        """The blob and any partial download of it, gone (overwritten first)."""
        for path in (self.path(digest), self.partial_path(digest)):
            _overwrite_and_unlink(path)


def stored_blob_files(root: Path) -> list[tuple[str, Path]]:
    """Every complete blob under ``root`` (a home's ``blobs/``): its hex SHA-256 and its file.
    Partial downloads and the temporary files a crash left are not blobs."""
    found: list[tuple[str, Path]] = []
    folders = sorted(root.iterdir()) if root.is_dir() else []
    for folder in folders:
        if len(folder.name) != 2 or folder.is_symlink() or not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            digest = folder.name + path.name
            if path.is_file() and not path.is_symlink() and _is_sha256_hex(digest):
                found.append((digest, path))
    return found


def _is_sha256_hex(text: str) -> bool:
    return len(text) == 64 and all(char in "0123456789abcdef" for char in text)


def _overwrite_and_unlink(path: Path) -> None:
    """Zero a file before unlinking it, so its bytes do not linger in free blocks for anyone
    reading the raw disk (a copy-on-write file system may still keep them: see the docs)."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    with open(path, "r+b") as target:
        remaining = size
        while remaining:
            step = min(remaining, READ_CHUNK)
            target.write(bytes(step))
            remaining -= step
        target.flush()
        os.fsync(target.fileno())
    path.unlink()


def index_attachments(db: sqlite_utils.Database, record: SignedRecord) -> None:
    """Note which blobs a stored record names (in the storing transaction)."""
    for attachment in record.lesson.attachments:
        db.execute(
            "INSERT OR IGNORE INTO record_blobs (record_id, blob) VALUES (?, ?)",
            [record.id_hex, attachment.hash_hex],
        )
        db.execute("DELETE FROM blob_purges WHERE blob = ?", [attachment.hash_hex])


def records_naming(db: sqlite_utils.Database, blobs: Iterable[str]) -> list[str]:
    """The held records that name any of ``blobs``."""
    found: set[str] = set()
    for blob in blobs:
        rows = db.execute("SELECT record_id FROM record_blobs WHERE blob = ?", [blob])
        found.update(str(row[0]) for row in rows)
    return sorted(found)


def blobs_of(db: sqlite_utils.Database, record_id: str) -> list[str]:
    rows = db.execute("SELECT blob FROM record_blobs WHERE record_id = ?", [record_id])
    return [str(row[0]) for row in rows]


def forget_record_blobs(db: sqlite_utils.Database, record_id: str) -> None:
    """The purge hook: the record's blobs no other record names are queued for deletion."""
    blobs = blobs_of(db, record_id)
    db.execute("DELETE FROM record_blobs WHERE record_id = ?", [record_id])
    for blob in blobs:
        if not records_naming(db, [blob]):
            _queue_blob_purge(db, blob)


def withdraw_blobs(db: sqlite_utils.Database, blobs: Iterable[str], origin: str) -> list[str]:
    """A withdrawal by ``origin`` names these blob ids: queue the bytes for deletion, when
    every record here that names the blob is ``origin``'s (a node withdraws only what its
    own lessons attach). Returns the blobs queued (caller's transaction)."""
    queued = []
    for blob in blobs:
        naming = records_naming(db, [blob])
        origins = {
            str(row[0])
            for record_id in naming
            for row in db.execute("SELECT origin FROM records WHERE id = ?", [record_id])
        }
        if naming and origins <= {origin}:
            _queue_blob_purge(db, blob)
            queued.append(blob)
    return queued


def _queue_blob_purge(db: sqlite_utils.Database, blob: str) -> None:
    db.execute("INSERT OR IGNORE INTO blob_purges (blob) VALUES (?)", [blob])


def is_blob_withdrawn(db: sqlite_utils.Database, blob: str, origin: str) -> bool:
    """Whether ``origin`` withdrew this blob (its bytes are never stored or served again as
    an attachment of that origin's lessons). Bound to the origin like record tombstones: a
    node cannot withdraw a photo another hub's lesson attaches."""
    row = db.execute(
        "SELECT 1 FROM tombstones AS t JOIN revocations AS r "
        "ON r.revocation_id = t.revocation_id WHERE t.record_id = ? AND r.origin = ?",
        [blob, origin],
    ).fetchone()
    return row is not None


def _still_wanted(db: sqlite_utils.Database, blob: str) -> bool:
    """A record names the blob and its origin did not withdraw it."""
    for record_id in records_naming(db, [blob]):
        for (origin,) in db.execute("SELECT origin FROM records WHERE id = ?", [record_id]):
            if not is_blob_withdrawn(db, blob, str(origin)):
                return True
    return False


def sweep_purged_blobs(db: sqlite_utils.Database) -> None:
    """Delete the bytes of every blob queued for purging, then forget the queue entries
    (after: a crash in between deletes again). A blob a record names again (stored since,
    and not withdrawn) is kept."""
    queued = [str(row[0]) for row in db.execute("SELECT blob FROM blob_purges")]
    if not queued:
        return
    root = blob_dir_of(db)
    for blob in queued:
        if _still_wanted(db, blob):
            continue
        if root is not None:
            BlobStore(root).delete(blob)
    marks = ", ".join("?" for _ in queued)
    db.execute(f"DELETE FROM blob_purges WHERE blob IN ({marks})", queued)


def records_with_blobs_from(db: sqlite_utils.Database, node_id: str) -> list[str]:
    """Records that attach files, which ``node_id`` gave us or wrote (blob fetching)."""
    rows = db.execute(
        "SELECT DISTINCT rb.record_id FROM record_blobs AS rb JOIN records AS r "
        "ON r.id = rb.record_id WHERE r.received_from = ? OR r.origin = ? ORDER BY 1",
        [node_id, node_id],
    )
    return [str(row[0]) for row in rows]
