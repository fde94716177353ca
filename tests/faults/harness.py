"""Run one Rhizome operation in this process and kill it with SIGKILL at a chosen point.

    python -m tests.faults.harness [--kill-at N | --kill-after POINT] [--count] OPERATION ...

Operations:

- ``cli ARGS...``: the real ``rhizome`` command line (``rhizome ARGS...``);
- ``accept HOME REVOCATION_FILE SENDER``: open the node at HOME, as every start does, and
  accept the signed revocation in REVOCATION_FILE from the peer SENDER, as a push does.

``--disk-full-after N`` makes every database write after the first N fail as on a full disk
(the fallback of :mod:`tests.faults.disk` where no small file system can be mounted).

Kill points are SQL statements, the smallest steps a crash can fall between: ``--kill-at N``
kills the process just before its N-th statement (N from a ``--count`` run on a copy, or
from a seeded random draw); ``--kill-after POINT`` just after a named step of a purge
(:data:`POINTS`). ``--count`` prints ``statements: N`` on stderr at the end.

This is test code only: it replaces, in its own process, the statement methods of the
archive's connection class. Production code has no hook, no variable and no branch for it.
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from archive import db as archive_db

# Named steps of a purge: kill just after the statement starting with the first text, once
# a statement containing the second (when given) has run before it.
POINTS: dict[str, tuple[str, str | None]] = {
    "records-deleted": ("DELETE FROM records WHERE", None),  # in the transaction, uncommitted
    "purge-committed": ("COMMIT", "DELETE FROM records WHERE"),  # before any scrub
    "index-merged": ("INSERT INTO records_fts (records_fts) VALUES ('optimize')", None),
    "checkpointed": ("PRAGMA wal_checkpoint(TRUNCATE)", None),  # marker still set
    "marker-cleared": ("DELETE FROM purge_pending", None),  # scrubbed, no receipt yet
    "receipt-stored": ("COMMIT", "INTO receipts "),
}


class Trap:
    """Counts statements and kills the process at the chosen one."""

    def __init__(self, kill_at: int | None, kill_after: str | None) -> None:
        self.count = 0
        self.kill_at = kill_at
        self.after = POINTS[kill_after] if kill_after else None
        self.seen_prior = False

    def before(self, sql: str) -> None:
        self.count += 1
        if self.count == self.kill_at:
            _die()

    def after_statement(self, sql: str) -> None:
        if self.after is None:
            return
        trigger, prior = self.after
        text = sql.lstrip()
        if prior is not None and prior in text:
            self.seen_prior = True
        if text.startswith(trigger) and (prior is None or self.seen_prior):
            _die()


def _die() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def install(trap: Trap) -> None:
    """Route every statement of every archive connection in this process through ``trap``."""
    connection = archive_db._Connection
    execute, executemany = connection.execute, connection.executemany

    def trapped_execute(self: sqlite3.Connection, sql: str, parameters: Any = (), /) -> Any:
        trap.before(sql)
        cursor = execute(self, sql, parameters)  # type: ignore[arg-type]
        trap.after_statement(sql)
        return cursor

    def trapped_executemany(self: sqlite3.Connection, sql: str, rows: Iterable[Any], /) -> Any:
        trap.before(sql)
        cursor = executemany(self, sql, rows)  # type: ignore[arg-type]
        trap.after_statement(sql)
        return cursor

    connection.execute = trapped_execute  # type: ignore[method-assign,assignment]
    connection.executemany = trapped_executemany  # type: ignore[method-assign,assignment]


def run_cli(args: list[str]) -> int:
    from node.cli import main

    try:
        main(args, prog_name="rhizome")
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    return 0


def run_accept(home: str, revocation_file: str, sender: str) -> int:
    from federation.peers import get_peer
    from federation.propagation import accept_revocation
    from node.node import Node

    node = Node(Path(home))
    try:
        peer = get_peer(node.db, sender)
        assert peer is not None, f"{sender} is not a peer of {home}"
        receipt = accept_revocation(node.local_node(), Path(revocation_file).read_bytes(), peer)
        print(receipt.receipt_id)
    finally:
        node.close()
    return 0


OPERATIONS: dict[str, Callable[..., int]] = {"accept": run_accept}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.faults.harness")
    parser.add_argument("--kill-at", type=int, default=None)
    parser.add_argument("--kill-after", choices=sorted(POINTS), default=None)
    parser.add_argument("--count", action="store_true")
    parser.add_argument(
        "--disk-full-after", type=int, default=None, help="writes fail after this many"
    )
    parser.add_argument("operation", choices=["cli", *OPERATIONS])
    parser.add_argument("args", nargs=argparse.REMAINDER)
    options = parser.parse_args(argv)
    trap = Trap(options.kill_at, options.kill_after)
    install(trap)
    if options.disk_full_after is not None:  # tests.faults.disk's injected full disk
        from tests.faults.disk import SmallDisk, inject_full_disk

        disk = SmallDisk(Path("/"), "injected")  # every database of this process
        disk.full, disk.writes_left = True, options.disk_full_after
        inject_full_disk(disk)
    try:
        if options.operation == "cli":
            return run_cli(options.args)
        return OPERATIONS[options.operation](*options.args)
    finally:
        if options.count:
            print(f"statements: {trap.count}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
