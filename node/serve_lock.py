"""One ``rhizome serve`` per node home, held by an advisory lock on ``HOME/serve.lock``.

Two servers on one database would both sync, both deliver withdrawals and both answer
peers. The lock is a kernel ``flock`` on an open file, not a PID file: the kernel drops it
when the process ends in any way (``kill -9`` and power loss included), so a crashed server
never leaves a false "already served". The file also says who holds it (PID and start time),
for the message and for ``rhizome status``; that text is only trusted while the lock is held.

CLI commands do not take the lock: they work beside a running server, as always.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from crypto.errors import N_
from node.errors import NodeError
from node.serialize import iso_time

LOCK_FILE = "serve.lock"
MAX_LOCK_TEXT = 200


class AlreadyServed(NodeError):
    """Another ``rhizome serve`` runs on this node home.

    Stop it first (Ctrl-C in its terminal, or ``kill PID``), or serve another home with
    ``--home``. Other commands (``lesson add``, ``sync``, …) work beside it.
    """


@dataclass(frozen=True)
class Holder:
    """Who serves a home: the process id and when it started (Unix seconds)."""

    pid: int
    since: int

    def describe(self) -> str:
        return f"PID {self.pid} since {iso_time(self.since)}"


def lock_path(home: Path) -> Path:
    return home / LOCK_FILE


@contextmanager
def serving(home: Path, now: int) -> Iterator[None]:
    """Hold the home's serve lock for the block, or raise :class:`AlreadyServed`."""
    fd = os.open(lock_path(home), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            if holder is None:
                raise AlreadyServed.worded(
                    N_(
                        "{path} is already served by another process; stop that one first, "
                        "or use another --home"
                    ),
                    path=home,
                ) from None
            raise AlreadyServed.worded(
                N_(
                    "{path} is already served by PID {pid} since {since}; stop that one first, "
                    "or use another --home"
                ),
                path=home,
                pid=holder.pid,
                since=iso_time(holder.since),
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {now}\n".encode("ascii"), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # closing drops the lock


def current_holder(home: Path) -> Holder | None:
    """The serving process of ``home``, or None when nothing serves it right now."""
    try:
        fd = os.open(lock_path(home), os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(fd) or Holder(pid=0, since=0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None  # we got the lock, so nobody serves (the text may be stale)
    finally:
        os.close(fd)


def _read_holder(fd: int) -> Holder | None:
    text = os.pread(fd, MAX_LOCK_TEXT, 0).decode("ascii", "replace").split()
    if len(text) == 2 and all(part.isdigit() for part in text):
        return Holder(pid=int(text[0]), since=int(text[1]))
    return None
