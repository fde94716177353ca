"""The backup file: one encrypted, signed stream of a node home.

::

    MAGIC                      16 bytes  b"RHIZOME-BACKUP\\x00\\x01"
    header length              4 bytes, big-endian
    header                     canonical msgpack map: format, v, node_id, signer (the public
                               key that signs the file: the node's current key), name,
                               created_at, kdf ("argon2id"), salt, ops, mem, stream (the
                               secretstream header)
    chunks                     each: 4-byte big-endian length + XChaCha20-Poly1305 secretstream
                               ciphertext of up to CHUNK bytes; the last one tagged FINAL
    signature                  64 bytes: the signer's Ed25519 signature, in the context
                               ``rhizome/backup/v1``, over the SHA-256 of every byte before it

The content key is stretched from a passphrase with argon2id (the node's passphrase, or a
backup passphrase for an unsealed node). The stream's authentication catches a changed,
reordered, dropped or truncated chunk; the signature says which node made the file and is
checked over the whole file **before** anything is decrypted, so a tampered file is refused
without asking for the passphrase. The signer is named in the header (a node that rotated its
key signs with its current one): the restore checks, once the home is unpacked, that it is
the key of the node restored. Nothing here touches a node home: bytes in, bytes out.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from typing import IO, Any

import msgpack
import nacl.bindings as sodium
import nacl.exceptions
import nacl.pwhash
import nacl.utils

from crypto.canonical import pack
from crypto.errors import BadSignature, CryptoError, WrongPassphrase
from crypto.signing import SIGNATURE_SIZE, SigningIdentity, verify_signature

MAGIC = b"RHIZOME-BACKUP\x00\x01"
FORMAT = "rhizome-backup"
VERSION = 1
BACKUP_CONTEXT = b"rhizome/backup/v1"
CHUNK = 1 << 20
MAX_HEADER = 4096
# Memory-hard like the key files, a little slower: a backup is opened rarely, guessed offline.
OPSLIMIT = nacl.pwhash.argon2id.OPSLIMIT_MODERATE
MEMLIMIT = nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE
_ABYTES = sodium.crypto_secretstream_xchacha20poly1305_ABYTES
_FINAL = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL
_MESSAGE = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE


class BackupFileError(CryptoError):
    """Not a Rhizome backup, or a damaged or tampered one: nothing was restored. Use another
    copy of the backup (the file must be exactly as ``rhizome backup`` wrote it)."""


@dataclass(frozen=True)
class BackupHeader:
    node_id: str
    signer: bytes
    name: str
    created_at: int
    salt: bytes
    ops: int
    mem: int
    stream: bytes


def _stretch(passphrase: str, salt: bytes, ops: int, mem: int) -> bytes:
    key: bytes = nacl.pwhash.argon2id.kdf(
        sodium.crypto_secretstream_xchacha20poly1305_KEYBYTES, passphrase.encode(), salt, ops, mem
    )
    return key


class BackupWriter:
    """A write-only file object: what is written goes out encrypted, in chunks, to ``out``;
    :meth:`close` writes the last chunk and the signature."""

    def __init__(
        self, out: IO[bytes], identity: SigningIdentity, node_id: str, name: str,
        created_at: int, passphrase: str,
    ) -> None:  # fmt: skip
        self._out = out
        self._identity = identity
        self._digest = hashlib.sha256()
        self._buffer = bytearray()
        salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
        self._state = sodium.crypto_secretstream_xchacha20poly1305_state()
        stream = sodium.crypto_secretstream_xchacha20poly1305_init_push(
            self._state, _stretch(passphrase, salt, OPSLIMIT, MEMLIMIT)
        )
        header = pack({
            "format": FORMAT, "v": VERSION, "node_id": node_id, "signer": identity.public_key,
            "name": name,
            "created_at": created_at, "kdf": "argon2id", "salt": salt, "ops": OPSLIMIT,
            "mem": MEMLIMIT, "stream": stream,
        })  # fmt: skip
        self._emit(MAGIC + struct.pack(">I", len(header)) + header)
        self.closed = False

    def _emit(self, data: bytes) -> None:
        self._digest.update(data)
        self._out.write(data)

    def _push(self, plain: bytes, tag: int) -> None:
        sealed = sodium.crypto_secretstream_xchacha20poly1305_push(self._state, plain, None, tag)
        self._emit(struct.pack(">I", len(sealed)) + sealed)

    def write(self, data: bytes) -> int:
        self._buffer += data
        while len(self._buffer) > CHUNK:
            self._push(bytes(self._buffer[:CHUNK]), _MESSAGE)
            del self._buffer[:CHUNK]
        return len(data)

    def close(self) -> None:
        """Seal the stream (the rest, tagged final) and sign the whole file."""
        if self.closed:
            return
        self._push(bytes(self._buffer), _FINAL)
        self._buffer.clear()
        self._out.write(self._identity.sign(BACKUP_CONTEXT, self._digest.digest()))
        self.closed = True


def read_header(source: IO[bytes]) -> BackupHeader:
    """The header at the start of ``source`` (left just after it), checked."""
    start = source.read(len(MAGIC) + 4)
    if len(start) != len(MAGIC) + 4 or not start.startswith(MAGIC):
        raise BackupFileError("not a Rhizome backup file")
    (length,) = struct.unpack(">I", start[len(MAGIC) :])
    if length > MAX_HEADER:
        raise BackupFileError("the backup's header is damaged (too long)")
    raw = source.read(length)
    try:
        fields: Any = msgpack.unpackb(raw, raw=False, strict_map_key=True)
    except (ValueError, msgpack.UnpackException) as error:
        raise BackupFileError("the backup's header is damaged") from error
    return _header(fields)


def _header(fields: Any) -> BackupHeader:
    argon = nacl.pwhash.argon2id
    try:
        header = BackupHeader(
            str(fields["node_id"]), bytes(fields["signer"]), str(fields["name"]),
            int(fields["created_at"]),
            bytes(fields["salt"]), int(fields["ops"]), int(fields["mem"]), bytes(fields["stream"]),
        )  # fmt: skip
        ok = fields["format"] == FORMAT and fields["v"] == VERSION and fields["kdf"] == "argon2id"
    except (KeyError, TypeError, ValueError) as error:
        raise BackupFileError("the backup's header is damaged") from error
    if not ok:
        raise BackupFileError("not a Rhizome backup of a version this Rhizome knows")
    if not (
        len(header.signer) == 32
        and len(header.salt) == argon.SALTBYTES
        and argon.OPSLIMIT_MIN <= header.ops <= argon.OPSLIMIT_SENSITIVE
        and argon.MEMLIMIT_MIN <= header.mem <= argon.MEMLIMIT_MODERATE
        and len(header.stream) == sodium.crypto_secretstream_xchacha20poly1305_HEADERBYTES
    ):
        raise BackupFileError("the backup's header is damaged (bad parameters)")
    return header


def verify_backup(source: IO[bytes], size: int) -> BackupHeader:
    """Check the signature over the whole file against the signer it names; its header.

    ``source`` is read from the start to the end, in chunks (a backup may be gigabytes)."""
    if size < len(MAGIC) + 4 + SIGNATURE_SIZE:
        raise BackupFileError("not a Rhizome backup file (too short)")
    source.seek(0)
    header = read_header(source)
    source.seek(0)
    digest = hashlib.sha256()
    left = size - SIGNATURE_SIZE
    while left:
        block = source.read(min(CHUNK, left))
        if not block:
            raise BackupFileError("the backup file is truncated")
        digest.update(block)
        left -= len(block)
    signature = source.read(SIGNATURE_SIZE)
    try:
        verify_signature(header.signer, BACKUP_CONTEXT, digest.digest(), signature)
    except (BadSignature, CryptoError) as error:
        raise BackupFileError(
            "the backup's signature does not verify: the file was changed or damaged"
        ) from error
    return header


class BackupReader:
    """A read-only file object over the decrypted stream; :func:`verify_backup` first."""

    def __init__(self, source: IO[bytes], size: int, header: BackupHeader, passphrase: str):
        self._source = source
        self._end = size - SIGNATURE_SIZE
        self._state = sodium.crypto_secretstream_xchacha20poly1305_state()
        key = _stretch(passphrase, header.salt, header.ops, header.mem)
        sodium.crypto_secretstream_xchacha20poly1305_init_pull(self._state, header.stream, key)
        self._buffer = bytearray()
        self._final = False
        self._first = True

    def _pull(self) -> None:
        if self._final:
            return
        if self._source.tell() + 4 > self._end:
            raise BackupFileError("the backup's stream ends before its last chunk")
        (length,) = struct.unpack(">I", self._source.read(4))
        if length > CHUNK + _ABYTES or self._source.tell() + length > self._end:
            raise BackupFileError("the backup's stream is damaged (a chunk is too long)")
        sealed = self._source.read(length)
        try:
            plain, tag = sodium.crypto_secretstream_xchacha20poly1305_pull(self._state, sealed)
        except nacl.exceptions.CryptoError as error:
            if self._first:  # the first chunk is where a wrong key shows
                raise WrongPassphrase("wrong passphrase for this backup") from error
            raise BackupFileError("the backup's stream is damaged") from error
        self._first = False
        self._buffer += plain
        if tag == _FINAL:
            if self._source.tell() != self._end:
                raise BackupFileError("the backup has data after its last chunk")
            self._final = True

    def read(self, size: int = -1) -> bytes:
        while (size < 0 or len(self._buffer) < size) and not self._final:
            self._pull()
        size = len(self._buffer) if size < 0 else min(size, len(self._buffer))
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def check_passphrase(self) -> None:
        """Decrypt the first chunk now: a wrong passphrase shows before anything is written."""
        if not self._buffer and not self._final:
            self._pull()
