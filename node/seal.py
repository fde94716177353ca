"""Sealing a home in place, and changing its passphrase: both survive a kill -9 at any moment.

``rhizome seal`` converts an unsealed home (:mod:`node.sealed_home`) in three phases:

1. **stage**: everything new is written into ``HOME/.seal-staging/`` and flushed: a fresh
   home key wrapped by the passphrase (``home.key``), the database copied into a new
   SQLCipher file (``sqlcipher_export``), every attachment file sealed under the blob key
   (:mod:`crypto.blob_cipher`, same names), every key file sealed with the home key. The home
   itself is untouched: a crash here leaves the old home as it was (the staging folder is
   thrown away by the next open or the next ``seal``).
2. **commit**: the staging folder is renamed ``HOME/.seal-ready/`` (one atomic rename,
   then the folder is fsync'ed). From here on the new home is the one that counts.
3. **roll forward**: each old file is moved into ``HOME/.seal-old/`` and its new version
   renamed into place, ``home.key`` last; then the old plain files are overwritten and
   deleted. Partial downloads of attachments are plain too: they are overwritten and deleted
   (the download starts again, sealed). A crash here is finished by
   :func:`finish_interrupted_seal`, which every open of the home runs first
   (:class:`~node.sealed_home.HomeKeys`), so the new home is usable.

Changing the passphrase rewrites ``home.key`` alone (a new file, fsync, atomic rename);
the old wrapped key is overwritten afterwards.

Overwriting old plain files cannot reach copies a flash disk keeps by itself (wear levelling)
or backups: the how-to (docs/how-to/seal-your-hub.md) says so.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from archive.blob_format import write_sealed_copy
from archive.blobs import PARTIAL, stored_blob_files
from archive.cipher import export_database, open_cipher_connection
from archive.purge import finish_pending_purges
from crypto.blob_cipher import blob_key
from crypto.errors import N_, KeyFileError
from crypto.home_key import database_key, new_home_key
from crypto.keyfile import (
    PassphraseSource,
    encode_home_sealed_key_file,
    encode_key_file,
    read_key_file,
    write_private_file,
)
from node.database import open_database
from node.errors import HomeError
from node.home import HOME_KEY_FILE, HomePaths
from node.serve_lock import AlreadyServed, serving

STAGING = ".seal-staging"
READY = ".seal-ready"
OLD = ".seal-old"
NEW_HOME_KEY = "home.key.new"
OLD_HOME_KEY = "home.key.old"
SESSION_KEY_FILE = "session.key"
API_TOKEN_KEY_FILE = "api_token.key"
BLOBS = "blobs"
DATABASE_SIDE_FILES = ("rhizome.db-wal", "rhizome.db-shm", "rhizome.db-journal")

# A test hook: called with the name of each step, so a test can stop the work there.
Step = Callable[[str], None]


class AlreadySealed(HomeError):
    """This home is sealed already. To change its passphrase: ``rhizome passphrase change``."""


class NotSealed(HomeError):
    """This home is not sealed, so it has no passphrase to change: ``rhizome seal`` seals it."""


def _nothing(step: str) -> None:
    return None


def is_sealed(root: Path) -> bool:
    return (root / HOME_KEY_FILE).is_file()


def fsync_folder(folder: Path) -> None:
    """Make a rename or unlink in ``folder`` durable (a power cut keeps it)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def seal_home(
    paths: HomePaths, passphrase: str, old_passphrase: PassphraseSource, step: Step = _nothing
) -> None:
    """Seal the unsealed home at ``paths`` with ``passphrase``. ``old_passphrase`` opens key
    files a home made before sealing had sealed with their own passphrase."""
    root = paths.root
    if not passphrase:
        raise KeyFileError.worded(N_("an empty passphrase seals nothing; choose one"))
    # The serve lock keeps a server (and a second seal) off the home while it changes.
    with serving(root, 0):
        finish_interrupted_seal(root)
        shutil.rmtree(root / STAGING, ignore_errors=True)
        if is_sealed(root):
            raise AlreadySealed.worded(N_("{path}: this home is sealed already"), path=root)
        _seal(paths, passphrase, old_passphrase, step)


def _seal(paths: HomePaths, passphrase: str, old_passphrase: PassphraseSource, step: Step) -> None:
    root = paths.root
    staging = root / STAGING
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(mode=0o700)
    _stage(paths, staging, passphrase, old_passphrase, step)
    step("staged")
    os.rename(staging, root / READY)  # the commit point
    fsync_folder(root)
    step("committed")
    _roll_forward(root, step)


def _stage(
    paths: HomePaths, staging: Path, passphrase: str, old: PassphraseSource, step: Step
) -> None:
    home_key = new_home_key()
    _write_flushed(staging / HOME_KEY_FILE, encode_key_file(home_key, passphrase))
    _export_encrypted(paths.database, staging / paths.database.name, database_key(home_key))
    step("database copied")
    _stage_blobs(paths.root / BLOBS, staging / BLOBS, blob_key(home_key))
    step("attachments sealed")
    for path in _key_files(paths):
        seed = read_key_file(path, old)
        target = staging / path.relative_to(paths.root)
        target.parent.mkdir(mode=0o700, exist_ok=True)
        _write_flushed(target, encode_home_sealed_key_file(seed, home_key))
    session = paths.root / SESSION_KEY_FILE
    if session.is_file():
        # A new cookie key: browsers sign in again.
        cookie_key = encode_home_sealed_key_file(new_home_key(), home_key)
        _write_flushed(staging / SESSION_KEY_FILE, cookie_key)
    tokens = paths.root / API_TOKEN_KEY_FILE
    if tokens.is_file():  # the same key, sealed: the API tokens given out keep working
        _write_flushed(
            staging / API_TOKEN_KEY_FILE,
            encode_home_sealed_key_file(tokens.read_bytes(), home_key),
        )
    for folder in (staging / "members", staging):
        if folder.is_dir():
            fsync_folder(folder)


def _stage_blobs(blobs: Path, staged: Path, key: bytes) -> None:
    """A sealed copy of every attachment file, under the same name (it is the file's hash),
    each flushed, then the folders that hold them."""
    for digest, path in stored_blob_files(blobs):
        write_sealed_copy(path, staged / path.relative_to(blobs), digest, key)
    folders = [folder for folder in sorted(staged.rglob("*")) if folder.is_dir()]
    for folder in [*folders, staged] if staged.is_dir() else []:
        fsync_folder(folder)


def _key_files(paths: HomePaths) -> list[Path]:
    members = sorted(paths.members.glob("*.key")) if paths.members.is_dir() else []
    return [paths.key, *members]


def _export_encrypted(plain: Path, target: Path, key: bytes) -> None:
    """Copy the plain database into ``target`` under ``key``, purges finished first."""
    db = open_database(plain)
    try:
        finish_pending_purges(db)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.conn.close()
    conn = open_cipher_connection(plain, None)
    try:
        export_database(conn, target, key)
    finally:
        conn.close()
    with open(target, "rb+") as handle:
        os.fsync(handle.fileno())


def _write_flushed(path: Path, data: bytes) -> None:
    write_private_file(path, data)


def finish_interrupted_seal(root: Path, step: Step = _nothing) -> None:
    """Bring a home a crash left mid-seal or mid-passphrase-change to one consistent state
    (every open of a home runs this first): a committed seal is rolled forward (the new home
    stands), old files left behind are overwritten and deleted. An unfinished staging
    folder is left to the next ``seal``, which throws it away (the old home stands)."""
    (root / NEW_HOME_KEY).unlink(missing_ok=True)  # a change that never reached its rename
    if (root / READY).is_dir():
        _roll_forward(root, step)
    _forget_old_home_key(root)
    if (root / OLD).is_dir():
        _scrub_folder(root / OLD)


def _forget_old_home_key(root: Path) -> None:
    old, current = root / OLD_HOME_KEY, root / HOME_KEY_FILE
    if not old.exists():
        return
    if current.exists() and os.path.samefile(old, current):
        old.unlink()  # the crash came before the new key was renamed in: only a second name
    else:
        _scrub(old)


def _roll_forward(root: Path, step: Step) -> None:
    ready, old = root / READY, root / OLD
    old.mkdir(mode=0o700, exist_ok=True)
    for name in DATABASE_SIDE_FILES:  # the old plain WAL must never meet the new database
        if (root / name).exists() and (ready / "rhizome.db").exists():
            os.replace(root / name, old / name)
    _scrub_plain_downloads(root / BLOBS)
    for new in _ready_files(ready):
        relative = new.relative_to(ready)
        current = root / relative
        current.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if current.exists():
            (old / relative).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.replace(current, old / relative)
        os.replace(new, current)
        step(f"moved {relative}")
    fsync_folder(root)
    shutil.rmtree(ready, ignore_errors=True)
    _scrub_folder(old)
    fsync_folder(root)


def _scrub_plain_downloads(blobs: Path) -> None:
    """Partial downloads and the temporary files of a blob write a crash left hold plain
    bytes that a sealed home would not read: overwritten and deleted (a download restarts)."""
    partial = blobs / PARTIAL
    if partial.is_dir() and not partial.is_symlink():
        _scrub_folder(partial)
    for leftover in sorted(blobs.glob("??/*.tmp")):
        _scrub(leftover)


def _ready_files(ready: Path) -> list[Path]:
    """The staged files, ``home.key`` last: a home with a ``home.key`` is a sealed one."""
    files = [path for path in sorted(ready.rglob("*")) if path.is_file()]
    return sorted(files, key=lambda path: path.name == HOME_KEY_FILE)


def _scrub_folder(folder: Path) -> None:
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_file() and not path.is_symlink():
            _scrub(path)
    shutil.rmtree(folder, ignore_errors=True)


def _scrub(path: Path) -> None:
    """Overwrite a file with zeros, flush, delete (what a file system lets us reach)."""
    if not path.is_file() or path.is_symlink():
        return
    size = path.stat().st_size
    with open(path, "rb+") as handle:
        block = b"\0" * 65536
        for _ in range(0, size, len(block)):
            handle.write(block)
        handle.flush()
        os.fsync(handle.fileno())
    path.unlink()


def change_passphrase(root: Path, home_key: bytes, new_passphrase: str) -> None:
    """Wrap ``home_key`` (already unlocked with the old passphrase) by ``new_passphrase``:
    a new ``home.key`` is written beside, flushed and renamed over the old one."""
    if not is_sealed(root):
        raise NotSealed.worded(N_("{path}: this home is not sealed"), path=root)
    if not new_passphrase:
        raise KeyFileError.worded(N_("an empty passphrase would unseal nothing; choose one"))
    new, current = root / NEW_HOME_KEY, root / HOME_KEY_FILE
    new.unlink(missing_ok=True)
    _forget_old_home_key(root)
    _write_flushed(new, encode_key_file(home_key, new_passphrase))
    os.link(current, root / OLD_HOME_KEY)  # kept to be overwritten once the new one stands
    os.replace(new, current)
    fsync_folder(root)
    _forget_old_home_key(root)


__all__ = [
    "AlreadySealed",
    "AlreadyServed",
    "NotSealed",
    "change_passphrase",
    "finish_interrupted_seal",
    "seal_home",
]
