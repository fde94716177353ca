"""Federation work off the event loop: a worker thread, on a database connection of its own.

Invariant 8: the event loop only does I/O. Everything federation does with the archive
scans, verifies, decides, hashes or purges (an offer set over a million records, a batch
of received envelopes to verify and index, a purge), so the routes and the sync engine hand
each piece to :func:`in_worker`: the work gets a :class:`LocalNode` twin whose ``db`` is a
new connection (SQLite transactions are per connection; WAL lets readers run beside the one
writer, and writers queue on ``BEGIN IMMEDIATE``), and the loop awaits the result.

The work runs on a small pool of threads of federation's own (:data:`FEDERATION_THREADS`).
Everything else the twin carries (key, clock, policy, the shared offer sets) is the same
object, so what is shared stays shared. State kept between requests must be thread-safe:
the responder's sessions and the offer sets take a lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from typing import Concatenate, ParamSpec, TypeVar

import sqlite_utils

from archive.db import connect
from archive.migrations import schemas_of
from federation.local import LocalNode

# Federation work has threads of its own: eight peers syncing at once never take the
# threads the web pages and the API use, and few threads holding the GIL leave the event
# loop its turn often (each CPU-bound thread is one more in line for the GIL).
FEDERATION_THREADS = 4
_FEDERATION_THREADS = ThreadPoolExecutor(FEDERATION_THREADS, thread_name_prefix="rhizome-fed")
T = TypeVar("T")
P = ParamSpec("P")


def database_file(db: sqlite_utils.Database) -> str | None:
    """The file behind ``db``'s main database; None for an in-memory one."""
    for _, name, file in db.execute("PRAGMA database_list"):
        if name == "main":
            return str(file) or None
    return None


def new_connection(local: LocalNode) -> sqlite_utils.Database | None:
    """A new connection to ``local``'s database (None for an in-memory database, which a
    second connection cannot see: then the work shares the loop's connection)."""
    if local.reconnect is not None:
        return local.reconnect()
    path = database_file(local.db)
    return None if path is None else connect(path, schemas_of(local.db))


@contextmanager
def own_connection(local: LocalNode) -> Iterator[LocalNode]:
    """``local`` on a connection of its own for the length of the block."""
    db = new_connection(local)
    if db is None:
        yield local
        return
    try:
        yield replace(local, db=db)
    finally:
        db.conn.close()


async def in_worker(
    local: LocalNode, work: Callable[Concatenate[LocalNode, P], T], *args: P.args, **kw: P.kwargs
) -> T:
    """``work(twin, *args)`` in a worker thread, ``twin`` being ``local`` on its own
    connection."""

    def run() -> T:
        with own_connection(local) as twin:
            return work(twin, *args, **kw)

    return await asyncio.get_running_loop().run_in_executor(_FEDERATION_THREADS, run)
