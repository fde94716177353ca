"""Background federation work while ``rhizome serve`` runs.

Five loops, owned by one :class:`SyncService` that starts them with the app and cancels
and awaits them on shutdown (no fire-and-forget tasks):

- *schedule*: sync with every active peer every ``interval`` seconds;
- *watch*: notice new local records (also those added by the CLI in another process, by
  watching the event log) and tell every active peer at once;
- *pull*: when a peer tells us it has news, sync with it within a second;
  (scheduled and pulled syncs run in one task per peer, see :meth:`SyncService.request_sync`:
  a slow peer never delays another's)
- *outbox*: send revocations and receipts the moment they are queued (by a request we
  served, or by the CLI in another process, seen within a poll), retrying peers that were
  unreachable with a growing pause; each peer's delivery runs in a task of its own (see
  :meth:`SyncService.flush_outbox`), so a slow peer never delays another's withdrawals;
- *expiry*: withdraw our own records whose consent expired, within a minute.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress

from archive.event_log import last_event_seq, subjects_logged
from crypto.errors import RhizomeError
from federation import endpoints
from federation.client import PeerClient
from federation.errors import FederationError
from federation.loop_clock import AsyncioClock, LoopClock
from federation.peers import Peer, get_peer, list_peers
from federation.propagation import peers_with_outbox, revoke_expired
from federation.revocation_client import ExchangeReport, push_outbox
from federation.sharing import Offer
from federation.sync import SyncReport, sync_with_peer
from federation.workers import in_worker

log = logging.getLogger("rhizome.federation")
WATCH_SECONDS = 0.5
OUTBOX_POLL_SECONDS = 0.5
EXPIRY_SECONDS = 30.0
MAX_RETRY_SECONDS = 30.0
OUTBOX_DEADLINE = 10.0
NOTIFY_DEADLINE = 5.0
RESTART_PAUSE = 2.0
# Background syncs run one task per peer (a slow peer delays no other), this many at once.
MAX_PARALLEL_SYNCS = 16
PEER_SYNC_PREFIX = "rhizome-peer-sync:"
# Outbox deliveries likewise: one task per peer, this many at once.
MAX_PARALLEL_DELIVERIES = 16
PEER_OUTBOX_PREFIX = "rhizome-peer-outbox:"
TASK_PREFIX = "rhizome-sync:"  # how the background tasks are named (tests find them by it)
NEWS_KINDS = ("record.added", "record.received", "record.accepted", "record.approved")


class SyncService:
    def __init__(self, client: PeerClient, interval: float, clock: LoopClock | None = None) -> None:
        self.client = client
        self.interval = interval
        self.clock: LoopClock = clock or AsyncioClock()  # tests pass one they move by hand
        self._tasks: list[asyncio.Task[None]] = []
        self._news: set[str] = set()
        self._news_arrived = asyncio.Event()
        self._locks: dict[str, asyncio.Lock] = {}
        self._last_seq = self._current_seq()
        self._outbox_waiting = asyncio.Event()
        self._retry_at: dict[str, tuple[float, float]] = {}
        self._peer_syncs: dict[str, asyncio.Task[None]] = {}
        self._sync_again: set[str] = set()
        self._parallel = asyncio.Semaphore(MAX_PARALLEL_SYNCS)
        self._deliveries: dict[str, asyncio.Task[None]] = {}
        self._parallel_deliveries = asyncio.Semaphore(MAX_PARALLEL_DELIVERIES)

    def start(self) -> None:
        loops = (
            self._schedule_loop,
            self._watch_loop,
            self._pull_loop,
            self._outbox_loop,
            self._expiry_loop,
        )
        self._tasks = [
            asyncio.create_task(_kept_alive(loop, self.clock), name=f"{TASK_PREFIX}{loop.__name__}")
            for loop in loops
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        syncs = [*self._peer_syncs.values(), *self._deliveries.values()]
        for task in syncs:
            task.cancel()
        for task in syncs:
            with suppress(asyncio.CancelledError):
                await task

    def request_sync(self, peer: Peer, again: bool = True) -> None:
        """Sync with ``peer`` in a task of its own, so no other peer waits for it. If one
        is running already, ``again`` asks for one more after it (news arrived meanwhile)."""
        if peer.node_id in self._peer_syncs:
            if again:
                self._sync_again.add(peer.node_id)
            return
        task = asyncio.create_task(
            self._sync_in_background(peer), name=f"{PEER_SYNC_PREFIX}{peer.node_id[:12]}"
        )
        self._peer_syncs[peer.node_id] = task

    async def _sync_in_background(self, peer: Peer) -> None:
        try:
            while True:
                self._sync_again.discard(peer.node_id)
                async with self._parallel:
                    await self.sync_peer(peer)
                if peer.node_id not in self._sync_again:
                    return
                fresh = get_peer(self.client.local.db, peer.node_id)
                if fresh is None or fresh.status != "active":
                    return
                peer = fresh
        except RhizomeError as error:  # expected (a full disk): one line, retried later
            log.warning("background sync with %s failed: %s", peer.name, error)
        except Exception:  # one peer's failure must not go unnoticed, nor stop the others
            log.exception("background sync with %s failed", peer.name)
        finally:
            self._peer_syncs.pop(peer.node_id, None)

    def on_outbox(self) -> None:
        """Something new waits in the outbox: send it now."""
        self._outbox_waiting.set()

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
        # All at once: one slow or hung peer must not hold up the others.
        return list(await asyncio.gather(*(self.sync_peer(peer) for peer in peers)))

    async def notify_peers(self, record_ids: list[str]) -> None:
        """Tell each active peer that may receive one of ``record_ids`` that there is news.

        Peers that may receive none of them hear nothing: even "something new" is metadata.
        """
        sharing = Offer.of(self.client.local)
        interested = [
            peer
            for peer in list_peers(self.client.local.db)
            if peer.status == "active" and _any_allowed(sharing, record_ids, peer)
        ]
        await asyncio.gather(*(self._notify(peer) for peer in interested))

    async def _notify(self, peer: Peer) -> None:
        try:
            async with asyncio.timeout(NOTIFY_DEADLINE):
                await self.client.call(
                    endpoints.NOTIFY,
                    {},
                    recipient=peer.node_id,
                    base_url=peer.url,
                )
        except (FederationError, TimeoutError) as error:
            log.info("could not notify %s: %s", peer.name, error)

    async def _schedule_loop(self) -> None:
        while True:
            await self.clock.sleep(self.interval)
            for peer in list_peers(self.client.local.db):
                if peer.status == "active":
                    self.request_sync(peer, again=False)

    async def _watch_loop(self) -> None:
        while True:
            await self.clock.sleep(WATCH_SECONDS)
            if news := self._new_records():
                await self.notify_peers(news)

    async def _pull_loop(self) -> None:
        while True:
            await self._news_arrived.wait()
            self._news_arrived.clear()
            pending, self._news = self._news, set()
            peers = [get_peer(self.client.local.db, node_id) for node_id in pending]
            for peer in peers:
                if peer is not None and peer.status == "active":
                    self.request_sync(peer)

    async def _outbox_loop(self) -> None:
        while True:
            await self.clock.wait(self._outbox_waiting, OUTBOX_POLL_SECONDS)
            self._outbox_waiting.clear()
            self.flush_outbox()

    def flush_outbox(self) -> list[asyncio.Task[None]]:
        """Start delivering to each reachable peer with something due, in one task per peer:
        the loop never waits for a delivery, so a slow peer delays no other's. A peer whose
        delivery is still under way is left to it. Returns the tasks started."""
        started = []
        # Only peers with something due: a sent item waits out its backoff for an ack.
        local = self.client.local
        for node_id in peers_with_outbox(local.db, int(local.now())):
            if node_id in self._deliveries:
                continue
            peer = get_peer(local.db, node_id)
            retry_at, _ = self._retry_at.get(node_id, (0.0, 0.0))
            if peer is not None and peer.status == "active" and retry_at <= self.clock.monotonic():
                task = asyncio.create_task(
                    self._deliver_in_background(peer),
                    name=f"{PEER_OUTBOX_PREFIX}{node_id[:12]}",
                )
                self._deliveries[node_id] = task
                started.append(task)
        return started

    async def _deliver_in_background(self, peer: Peer) -> None:
        try:
            async with self._parallel_deliveries:
                while await self._deliver(peer):
                    # Delivering may queue more (receipts to relay to other peers): the loop
                    # looks again at once; this peer gets what is still due right away.
                    self._outbox_waiting.set()
        except RhizomeError as error:  # expected (a full disk): one line, retried later
            log.warning("outbox delivery to %s failed: %s", peer.name, error)
        except Exception:  # one peer's failure must not go unnoticed, nor stop the others
            log.exception("outbox delivery to %s failed", peer.name)
        finally:
            self._deliveries.pop(peer.node_id, None)

    async def _deliver(self, peer: Peer) -> bool:
        try:
            async with asyncio.timeout(OUTBOX_DEADLINE):
                handed = await push_outbox(self.client, peer, ExchangeReport())
        except (FederationError, TimeoutError) as error:
            _, pause = self._retry_at.get(peer.node_id, (0.0, 0.5))
            pause = min(pause * 2, MAX_RETRY_SECONDS)
            self._retry_at[peer.node_id] = (self.clock.monotonic() + pause, pause)
            log.info("revocations for %s wait (%s); retry in %.1f s", peer.name, error, pause)
            return False
        self._retry_at.pop(peer.node_id, None)
        return handed > 0

    async def _expiry_loop(self) -> None:
        while True:
            # Finding what expired reads an index (records.expires_at); revoking signs and
            # purges: both in a worker thread on a connection of its own, never on the loop.
            for revocation in await in_worker(self.client.local, revoke_expired):
                log.info("consent expired: revoked %d records", len(revocation.record_ids))
                self.on_outbox()
            await self.clock.sleep(EXPIRY_SECONDS)

    def _current_seq(self) -> int:
        return last_event_seq(self.client.local.db)

    def _new_records(self) -> list[str]:
        """Ids of records stored since we last looked (by us, the CLI, or from peers)."""
        last_seen = self._last_seq
        self._last_seq = self._current_seq()
        return subjects_logged(self.client.local.db, last_seen, self._last_seq, NEWS_KINDS)


async def _kept_alive(loop: Callable[[], Awaitable[None]], clock: LoopClock) -> None:
    """Run a loop forever: an unexpected error is logged with its traceback and the loop
    starts again after a pause, instead of dying silently and leaving the node half-working
    (a policy.toml saved with a mistake, a database busy for too long)."""
    while True:
        try:
            await loop()
        except asyncio.CancelledError:
            raise
        except RhizomeError as error:  # expected (a full disk, a busy database): one line
            log.warning("background loop %s: %s; retrying", loop.__name__, error)
            await clock.sleep(RESTART_PAUSE)
        except Exception:
            log.exception("background loop %s failed; restarting it", loop.__name__)
            await clock.sleep(RESTART_PAUSE)


def _any_allowed(sharing: Offer, record_ids: list[str], peer: Peer) -> bool:
    for record_id in record_ids:
        decision = sharing.explain(record_id, peer)
        if decision is not None and decision.allowed:
            return True
    return False
