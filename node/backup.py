"""``rhizome backup`` and ``rhizome restore``: a whole node home in one encrypted, signed file.

A backup is taken while the node runs: the database is copied with SQLite's online backup
API (a consistent picture, even while ``serve`` writes), every other file of the home is
read as it is (key files stay sealed as they are), and all of it goes as one tar stream into
:class:`crypto.backup_file.BackupWriter`: encrypted under the passphrase (the node's, or a
backup passphrase for an unsealed node) and signed by the node key.

A restore checks the signature over the whole file before anything else, asks the
passphrase, unpacks into a new folder beside the target and renames it into place only once
everything is written, so an interrupted or refused restore leaves no half home. It then
marks every paired peer as one to relearn the node's own withdrawals from
(:mod:`federation.relearn`): the restored node offers nothing until they told it what it
withdrew after the backup was made.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
import tarfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from archive.cipher import export_database
from archive.db import transaction
from archive.event_log import append_event
from crypto.backup_file import (
    BackupFileError,
    BackupReader,
    BackupWriter,
    read_header,
    verify_backup,
)
from federation.relearn_state import mark_restored
from node.database import open_database
from node.errors import HomeError
from node.home import DATABASE_FILE
from node.node import Node

# Never in a backup: what only makes sense for the running process, or is the database
# itself (copied through the backup API instead).
SKIPPED = {"serve.lock", "WIPING", f"{DATABASE_FILE}-wal", f"{DATABASE_FILE}-shm",
           f"{DATABASE_FILE}-journal", DATABASE_FILE}  # fmt: skip
DATABASE_COPY = ".backup-database"
MAX_MEMBERS = 100_000  # tar entries a restore accepts: a home has a few dozen


class RestoreError(HomeError):
    """The restore was refused and nothing was written: pick an empty or new folder for
    ``--home``, and use the backup file exactly as ``rhizome backup`` wrote it."""


@dataclass(frozen=True)
class BackupReport:
    path: Path
    node_id: str
    size: int
    seconds: float


@dataclass(frozen=True)
class RestoreReport:
    home: Path
    node_id: str
    name: str
    created_at: int
    peers_to_relearn: int


def copy_database(node: Node, target: Path) -> None:
    """A consistent copy of the node's database at ``target``, on a connection of its own:
    SQLite's online backup API for a plain database; for a sealed home's (SQLCipher),
    ``sqlcipher_export`` under the same key, so the copy is as encrypted as the original."""
    key = node.keys.database_key()
    if key is not None:
        own = open_database(node.paths.database, key)
        try:
            export_database(own.conn, target, key)
        finally:
            own.conn.close()
        return
    source = sqlite3.connect(str(node.paths.database))
    try:
        destination = sqlite3.connect(str(target))
        try:
            source.backup(destination)
        finally:
            destination.close()
    finally:
        source.close()


def _home_files(home: Path) -> Iterator[Path]:
    """Every file of the home to back up (no symlinks), folders before their files."""
    for path in sorted(home.rglob("*")):
        relative = path.relative_to(home)
        if path.is_symlink() or relative.parts[0] in SKIPPED or path.name.startswith(".backup"):
            continue
        if path.is_file() or path.is_dir():
            yield path


def write_backup(node: Node, out: Path, passphrase: str) -> BackupReport:
    """Write the backup of ``node`` to ``out`` (created 0600, never overwriting a file)."""
    started = time.monotonic()
    home = node.paths.root
    copy = home / f"{DATABASE_COPY}-{secrets.token_hex(4)}"
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as error:
        raise HomeError(f"{out}: a file is already there; refusing to overwrite it") from error
    try:
        copy_database(node, copy)
        with os.fdopen(fd, "wb") as handle:
            writer = BackupWriter(
                handle, node.identity, node.node_id, node.config.name, node.now(), passphrase
            )
            with tarfile.open(fileobj=writer, mode="w|") as tar:  # type: ignore[call-overload]
                for path in _home_files(home):
                    tar.add(path, arcname=str(path.relative_to(home)), recursive=False)
                tar.add(copy, arcname=DATABASE_FILE)
            writer.close()
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        out.unlink(missing_ok=True)  # ours (O_EXCL): half a backup is no backup
        raise
    finally:
        copy.unlink(missing_ok=True)
    return BackupReport(out, node.node_id, out.stat().st_size, time.monotonic() - started)


def _require_empty_target(home: Path) -> None:
    if home.exists() and (not home.is_dir() or any(home.iterdir())):
        raise RestoreError(f"{home}: not an empty folder; restore into an empty or new folder")


def _checked_member(member: tarfile.TarInfo) -> PurePosixPath:
    name = PurePosixPath(member.name)
    if name.is_absolute() or ".." in name.parts or not (member.isfile() or member.isdir()):
        raise BackupFileError(f"the backup holds an entry that is not allowed: {member.name!r}")
    return name


def _unpack(reader: BackupReader, into: Path) -> None:
    """Write the backup's files under ``into``: folders 0700, files 0600."""
    with tarfile.open(fileobj=reader, mode="r|") as tar:  # type: ignore[call-overload]
        for count, member in enumerate(tar, start=1):
            if count > MAX_MEMBERS:
                raise BackupFileError("the backup holds too many files")
            target = into / _checked_member(member)
            if member.isdir():
                target.mkdir(mode=0o700, parents=True, exist_ok=True)
                continue
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            source = tar.extractfile(member)
            assert source is not None  # a regular file
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                shutil.copyfileobj(source, handle)
                handle.flush()
                os.fsync(handle.fileno())


@contextmanager
def _staging(home: Path) -> Iterator[Path]:
    """A new private folder beside ``home``, removed unless renamed into place."""
    home.parent.mkdir(parents=True, exist_ok=True)
    staging = home.parent / f".{home.name}.restoring-{secrets.token_hex(4)}"
    staging.mkdir(mode=0o700)
    try:
        yield staging
    finally:
        if staging.exists():
            shutil.rmtree(staging)


def restore_backup(
    backup: Path, home: Path, passphrase: Callable[[], str], now: int | None = None
) -> RestoreReport:
    """Bring the node of ``backup`` back in ``home`` (empty or new): signature first, then
    the passphrase, then the files; the peers are marked to relearn our withdrawals from."""
    _require_empty_target(home)
    try:
        source = backup.open("rb")
    except OSError as error:
        raise RestoreError(f"{backup}: cannot read the backup ({error.strerror})") from error
    with source, _staging(home) as staging:
        size = os.fstat(source.fileno()).st_size
        header = verify_backup(source, size)
        source.seek(0)
        read_header(source)  # the stream starts right after the header
        reader = BackupReader(source, size, header, passphrase())
        reader.check_passphrase()
        _unpack(reader, staging)
        reader.read()  # to the end: the final chunk and nothing after it
        peers = _mark_restored(staging, header.node_id, header.signer, now, passphrase)
        _require_empty_target(home)
        if home.exists():
            home.rmdir()
        staging.rename(home)
    return RestoreReport(home, header.node_id, header.name, header.created_at, peers)


def _mark_restored(
    home: Path, node_id: str, signer: bytes, now: int | None, passphrase: Callable[[], str]
) -> int:
    """Every paired peer is one to relearn from; the restore goes in the event log. The
    file must have been signed by the restored node's own key."""
    node = Node(home, passphrase=passphrase)
    try:
        if node.node_id != node_id or node.identity.public_key != signer:
            raise BackupFileError("the backup is signed by another key than its node's own")
        moment = node.now() if now is None else now
        with transaction(node.db):
            marked = mark_restored(node.db, moment)
            append_event(node.db, node.identity, "node.restored", None,
                         {"peers_to_relearn": marked}, moment)  # fmt: skip
        return marked
    finally:
        node.close()
