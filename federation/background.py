"""Background federation work while ``rhizome serve`` runs.

Three loops, owned by one :class:`SyncService` that starts them with the app and cancels
and awaits them on shutdown (no fire-and-forget tasks):

- *schedule*: sync with every active peer every ``interval`` seconds;
- *watch*: notice new local records (also those added by the CLI in another process, by
  watching the event log) and tell every active peer at once;
- *pull*: when a peer tells us it has news, sync with it within a second.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

from federation import wire
from federation.client import PeerClient
from federation.errors import FederationError
from federation.peers import Peer, get_peer, list_peers
from federation.sync import NOTIFY_PATH, SyncReport, sync_with_peer

log = logging.getLogger("rhizome.federation")
WATCH_SECONDS = 0.5
NEWS_KINDS = ("record.added",)


class SyncService:
    def __init__(self, client: PeerClient, interval: float) -> None:
        self.client = client
        self.interval = interval
        self._tasks: list[asyncio.Task[None]] = []
        self._news: set[str] = set()
        self._news_arrived = asyncio.Event()
        self._locks: dict[str, asyncio.Lock] = {}
        self._last_seq = self._current_seq()

    def start(self) -> None:
        loops = (self._schedule_loop(), self._watch_loop(), self._pull_loop())
        self._tasks = [asyncio.create_task(loop) for loop in loops]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    def on_news(self, node_id: str) -> None:
        """A peer notified us; pull from it soon."""
        self._news.add(node_id)
        self._news_arrived.set()

    async def sync_peer(self, peer: Peer) -> SyncReport:
        """Sync with one peer, never twice at once with the same peer."""
        lock = self._locks.setdefault(peer.node_id, asyncio.Lock())
        async with lock:
            report = await sync_with_peer(self.client, peer)
        if report.errors:
            log.warning("sync with %s failed: %s", peer.name, "; ".join(report.errors))
        else:
            log.info("synced with %s: %d in, %d out", peer.name, report.received, report.sent)
        return report

    async def sync_all(self) -> list[SyncReport]:
        peers = [peer for peer in list_peers(self.client.local.db) if peer.status == "active"]
        return [await self.sync_peer(peer) for peer in peers]

    async def notify_peers(self) -> None:
        for peer in list_peers(self.client.local.db):
            if peer.status != "active":
                continue
            try:
                await self.client.call(
                    peer.node_id, peer.url, NOTIFY_PATH, wire.NOTIFY, {}, wire.NOTIFY
                )
            except FederationError as error:
                log.info("could not notify %s: %s", peer.name, error)

    async def _schedule_loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.sync_all()

    async def _watch_loop(self) -> None:
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            if self._new_local_records():
                await self.notify_peers()

    async def _pull_loop(self) -> None:
        while True:
            await self._news_arrived.wait()
            self._news_arrived.clear()
            pending, self._news = self._news, set()
            for node_id in pending:
                peer = get_peer(self.client.local.db, node_id)
                if peer is not None and peer.status == "active":
                    await self.sync_peer(peer)

    def _current_seq(self) -> int:
        row = self.client.local.db.execute("SELECT max(seq) FROM events").fetchone()
        return int(row[0] or 0)

    def _new_local_records(self) -> bool:
        placeholders = ", ".join("?" for _ in NEWS_KINDS)
        row = self.client.local.db.execute(
            f"SELECT max(seq), count(*) FROM events WHERE seq > ? AND kind IN ({placeholders})",
            [self._last_seq, *NEWS_KINDS],
        ).fetchone()
        self._last_seq = max(self._last_seq, self._current_seq())
        return bool(row[1])
