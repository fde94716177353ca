"""How a blob's bytes lie in its file: plain, or sealed in units on a sealed node.

Every read and write of attachment bytes goes through these functions (by way of
:class:`archive.blobs.BlobStore`): with ``key`` None the file holds the bytes as they are;
with the home's blob key it starts with ``RZBLOB1\\n`` and holds sealed 64 KiB units
(:mod:`crypto.blob_cipher`). A file is read the way its first bytes say, so a plain file left
from before a home was sealed still reads.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path

from crypto.blob_cipher import (
    MAGIC,
    SEALED_UNIT,
    UNIT,
    open_units,
    plain_size,
    seal_units,
    unit_offset,
)

READ_CHUNK = 256 * 1024


def is_sealed_file(path: Path) -> bool:
    with open(path, "rb") as blob:
        return blob.read(len(MAGIC)) == MAGIC


def size_of(path: Path) -> int:
    """The plain size of the bytes a file holds."""
    size = path.stat().st_size
    return plain_size(size) if size and is_sealed_file(path) else size


def write_new(path: Path, digest: str, data: bytes, key: bytes | None) -> None:
    """A complete file, written beside and renamed into place (a crash leaves no half)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + f".{os.getpid()}.tmp")
    body = data if key is None else MAGIC + seal_units(key, bytes.fromhex(digest), 0, data)
    with open(temporary, "wb") as out:
        out.write(body)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)


def write_sealed_copy(source: Path, target: Path, digest: str, key: bytes) -> None:
    """A sealed copy of the plain blob file ``source``, as the new file ``target`` (a seal
    stages it; the caller renames it into place), sealed a read chunk at a time so a large
    file never sits in memory whole, and flushed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    name = bytes.fromhex(digest)
    with open(source, "rb") as plain, open(target, "xb") as out:
        out.write(MAGIC)
        offset = 0
        while chunk := plain.read(READ_CHUNK):  # whole units: READ_CHUNK is 4 of them
            out.write(seal_units(key, name, offset // UNIT, chunk))
            offset += len(chunk)
        out.flush()
        os.fsync(out.fileno())


def append(path: Path, digest: str, offset: int, chunk: bytes, key: bytes | None) -> None:
    """Add ``chunk`` at plain ``offset``; sealed, a chunk starts on a unit (the peers' chunks
    are whole units but the last)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if key is not None and offset % UNIT:
        raise ValueError("a chunk of a sealed download must start on a 64 KiB boundary")
    fresh = not path.exists() or path.stat().st_size == 0
    with open(path, "ab") as out:
        if key is None:
            out.write(chunk)
        else:
            out.write((MAGIC if fresh else b"") + seal_units(
                key, bytes.fromhex(digest), offset // UNIT, chunk))  # fmt: skip
        out.flush()
        os.fsync(out.fileno())


def read_range(
    path: Path, digest: str, offset: int, length: int | None, key: bytes | None
) -> bytes:
    """Plain bytes ``offset`` … ``offset + length`` of the file."""
    with open(path, "rb") as blob:
        if blob.read(len(MAGIC)) != MAGIC:
            blob.seek(offset)
            return blob.read(-1 if length is None else length)
        if key is None:
            raise ValueError("this attachment file is sealed and the home key is not open")
        total = plain_size(path.stat().st_size)
        end = total if length is None else min(total, offset + length)
        if end <= offset:
            return b""
        first, last = offset // UNIT, (end - 1) // UNIT
        blob.seek(unit_offset(first))
        sealed = blob.read((last - first + 1) * SEALED_UNIT)
    plain = open_units(key, bytes.fromhex(digest), first, sealed)
    return plain[offset - first * UNIT : end - first * UNIT]


def stream(path: Path, digest: str, key: bytes | None) -> Generator[bytes, None, None]:
    """The plain bytes, a piece at a time."""
    total = size_of(path)
    for offset in range(0, total, READ_CHUNK):
        yield read_range(path, digest, offset, READ_CHUNK, key)
