"""Panic wipe: make a node home unrecoverable in seconds, keys first.

A wipe runs in three steps, in this order::

    destroy_keys   every file of key material (``node.sealed_home.key_material_paths``):
                   overwritten with random bytes, fsync'ed, unlinked, the folder fsync'ed;
                   ``home.key`` (the key that unwraps everything of a sealed home) first
    stop_server    a running ``rhizome serve`` on this home is stopped (SIGTERM, then SIGKILL)
    remove_home    the rest of the home is deleted

Keys go first because they are small and quick to destroy: once they are gone, what is left
of a sealed node (its encrypted database) cannot be opened even with the right passphrase,
so a wipe interrupted after the first step (power cut, a hand on the laptop) already gave
nothing away. Deleting a multi-gigabyte database comes last and only frees its blocks.

What a wipe cannot promise (flash wear levelling, TRIM, copies elsewhere, the plaintext
database of an unsealed node) is in docs/how-to/wipe-a-node.md.

A ``WIPING`` marker is written before anything is destroyed, so a wipe interrupted half-way
can be run again on what is left (the home no longer looks like a node).
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from crypto.errors import N_
from node.errors import HomeError
from node.home import HomePaths
from node.sealed_home import key_material_paths  # home.key first: the one that unlocks the rest
from node.serve_lock import current_holder

MARKER = "WIPING"
STEPS = ("destroy_keys", "stop_server", "remove_home")
# A server gets this long to stop on SIGTERM before it is killed: a wipe must stay quick.
STOP_GRACE = 2.0
KILL_WAIT = 2.0
_POLL = 0.02

StepDone = Callable[[str], None]


class NotANodeHome(HomeError):
    """``rhizome wipe`` deletes only a folder that is a node home (or a half-wiped one).
    Check ``--home`` (or ``RHIZOME_HOME``): it must be the folder ``rhizome init`` made."""


@dataclass
class WipeReport:
    home: Path
    destroyed: list[str] = field(default_factory=list)  # key files, relative to the home
    server_stopped: int | None = None  # the PID of the serve we stopped, if any
    seconds: float = 0.0


def require_wipeable(home: Path) -> None:
    """Refuse anything but a node home: a wipe deletes the whole folder."""
    paths = HomePaths(home)
    if (home / MARKER).exists():
        return
    if not (paths.config.is_file() and (paths.database.is_file() or paths.key.is_file())):
        raise NotANodeHome.worded(
            N_("{path}: not a Rhizome node home; nothing was deleted"), path=home
        )


def destroy_file(path: Path) -> None:
    """Overwrite ``path`` in place with random bytes, flush it to the disk, unlink it.

    The overwrite matters on disks that rewrite in place (magnetic disks, most file systems
    on them); on flash the old blocks may survive elsewhere (see the how-to), which is why
    the keys are also small and sealed by the passphrase."""
    fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW)
    try:
        size = os.fstat(fd).st_size
        os.pwrite(fd, os.urandom(max(size, 1)), 0)
        os.fsync(fd)
    finally:
        os.close(fd)
    path.unlink()


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def destroy_keys(home: Path, report: WipeReport) -> None:
    for path in key_material_paths(home):
        destroy_file(path)
        report.destroyed.append(str(path.relative_to(home)))
    for folder in (home, HomePaths(home).members):
        if folder.is_dir():
            _sync_folder(folder)  # the unlinks themselves reach the disk


def stop_server(home: Path) -> int | None:
    """Stop the ``rhizome serve`` of this home (not this process): SIGTERM, then SIGKILL.

    Returns its PID, or None when none ran (or it is this very process, which stops itself
    once it has answered: the web page's wipe)."""
    holder = current_holder(home)
    if holder is None or holder.pid in (0, os.getpid()):
        return None
    for sig, wait in ((signal.SIGTERM, STOP_GRACE), (signal.SIGKILL, KILL_WAIT)):
        try:
            os.kill(holder.pid, sig)
        except ProcessLookupError:
            return holder.pid
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if current_holder(home) is None:
                return holder.pid
            time.sleep(_POLL)
    raise HomeError.worded(
        N_(
            "the server of {path} (PID {pid}) did not stop; its keys are already destroyed: "
            "stop it by hand and run `rhizome wipe` again"
        ),
        path=home,
        pid=holder.pid,
    )


def remove_home(home: Path) -> None:
    shutil.rmtree(home)  # never follows a symlink out of the home


def wipe_home(home: Path, after_step: StepDone = lambda step: None) -> WipeReport:
    """Destroy the node home at ``home``: keys, then its server, then everything else.

    ``after_step`` is called with each step's name once it is done (tests interrupt here)."""
    require_wipeable(home)
    started = time.monotonic()
    report = WipeReport(home)
    marker = home / MARKER
    marker.write_bytes(b"a wipe of this node home started; run `rhizome wipe` to finish it\n")
    destroy_keys(home, report)
    after_step("destroy_keys")
    report.server_stopped = stop_server(home)
    after_step("stop_server")
    remove_home(home)
    after_step("remove_home")
    report.seconds = time.monotonic() - started
    return report
