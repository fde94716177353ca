"""Redoing purges a crash interrupted, before the node serves anything.

A purge commits its deletion with a *purge pending* marker, then scrubs the disk (search
index merged, WAL checkpointed and truncated) and clears the marker (``archive.purge``).
A kill -9 or power cut in between leaves the old bytes in ``rhizome.db-wal`` or the main
file, so every open of a :class:`~node.node.Node` finishes that job first. A running server
does it in a worker thread with its own connection (never on the event loop) before its
port opens, and then again every little while for purges that could not be finished (a
full disk, a database held by a long reader, a CLI process killed mid-purge).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import suppress
from pathlib import Path

from aiohttp import web

from archive.purge import finish_pending_purges
from node.database import open_database

log = logging.getLogger("rhizome.purge")
RETRY_SECONDS = 30.0
RETRY_SOON_SECONDS = 5.0
CleanupContext = Callable[[web.Application], AsyncIterator[None]]


def finish_unfinished_purges(database: Path, key: bytes | None = None) -> bool:
    """Scrub what interrupted purges left, on a connection of our own (``key``: a sealed
    home's database key); True when none is left (then no old byte of a purged record
    remains in any file of the database)."""
    db = open_database(database, key)
    try:
        finished = finish_pending_purges(db)
    finally:
        db.conn.close()
    if not finished:
        log.warning("a purge is not yet scrubbed from the disk (disk full or busy); will retry")
    return finished


def purge_redo(database: Path, key: bytes | None = None) -> CleanupContext:
    """An aiohttp cleanup context: redo unfinished purges before serving, retry them later."""

    async def redo_unfinished_purges(app: web.Application) -> AsyncIterator[None]:
        finished = await asyncio.to_thread(finish_unfinished_purges, database, key)
        task = asyncio.create_task(_retry(database, key, finished), name="rhizome-purge-redo")
        try:
            yield
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    return redo_unfinished_purges


async def _retry(database: Path, key: bytes | None, finished: bool) -> None:
    while True:
        await asyncio.sleep(RETRY_SECONDS if finished else RETRY_SOON_SECONDS)
        try:
            finished = await asyncio.to_thread(finish_unfinished_purges, database, key)
        except Exception as error:  # a full or damaged disk must not stop the node: say so
            log.warning("could not finish pending purges: %s", error)
            finished = False
