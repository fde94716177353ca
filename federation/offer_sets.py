"""Offer sets kept between syncs: one per (peer facts, policy), shared and kept up to date.

What we may reconcile with a peer (``Offer.offered``) depends on the peer's facts (id,
name, region, standing), the policy in force, the records and their approvals, what the
peer is known to hold, and the time (a consent that runs out). Building it scans the whole
archive: seconds at 100k records, a minute at a million. So it is built once per
(peer facts, policy hash) and kept: every session with that peer, and our own syncs to it,
read the same sealed :class:`Storage`.

Kept up to date, not rebuilt: the triggers of :mod:`federation.offer_changes` name every
record whose facts changed; before each use the kept set decides those records again (with
every record linked to them by a version or translation link, whose consent bounds may
have changed) and patches the storage (:meth:`Storage.patched`). Records whose consent runs
out are decided again when their time comes. A new policy or new peer facts is a new key:
the old set ages out. A peer already in sync therefore costs one query for the feed and
one fingerprint, not a scan.

Memory is bounded in bytes (:data:`OFFER_SETS_BYTES`): past it, the least recently used
sets are dropped and built again when next needed. Sessions still reading an older
snapshot keep it alive until they end (the responder bounds those bytes too).
"""

from __future__ import annotations

import heapq
import json
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlite_utils

from archive.record_facts import linked_records, policy_rows, policy_rows_of
from federation.negentropy import Storage
from federation.offer_changes import changes_since, latest_change, prune_changes
from governance.approvals import all_approval_facts, approval_facts_of
from governance.effective_consent import Bound, bounds_of

if TYPE_CHECKING:
    from federation.peers import Peer
    from federation.sharing import Offer

OFFER_SETS_BYTES = 128 * 2**20
# More changed records than this since a set was used: building it again is cheaper.
PATCH_LIMIT = 50_000
Item = tuple[int, bytes]


@dataclass
class KeptOffer:
    """One kept offer set: its storage, the last change applied, and when its records'
    consents run out (a heap of (time, created, id))."""

    storage: Storage
    seen: int
    runs_out: list[tuple[int, int, bytes]] = field(default_factory=list)


@dataclass
class OfferSetStats:
    builds: int = 0
    patches: int = 0
    reused: int = 0
    evicted: int = 0


class OfferSets:
    """The kept offer sets of one node, safe to use from several worker threads."""

    def __init__(self, budget_bytes: int = OFFER_SETS_BYTES) -> None:
        self.budget_bytes = budget_bytes
        self.stats = OfferSetStats()
        self._kept: OrderedDict[Hashable, KeptOffer] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[Hashable, threading.Lock] = {}

    @property
    def nbytes(self) -> int:
        with self._lock:
            return sum(kept.storage.nbytes for kept in self._kept.values())

    def storage_for(self, offer: Offer, peer: Peer, log_db: sqlite_utils.Database) -> Storage:
        """The offer set of ``peer`` under ``offer``'s policy and time, up to date."""
        if offer.withholding_all():
            return Storage.from_sorted([])
        key = (peer.facts, offer.policy.hash, offer.node_id)
        offer.log_db = log_db
        with self._key_lock(key):  # two sessions of one peer build it once
            with self._lock:
                kept = self._kept.get(key)
            latest = latest_change(offer.db)  # before reading any fact: nothing is missed
            if kept is None:
                kept = self._build(offer, peer, latest)
            else:
                kept = self._refresh(kept, offer, peer, latest)
            self._keep(key, kept)
        prune_changes(log_db)
        return kept.storage

    def forget(self) -> None:
        """Drop every kept set (the next use builds again)."""
        with self._lock:
            self._kept.clear()

    def _key_lock(self, key: Hashable) -> threading.Lock:
        with self._lock:
            if key not in self._key_locks and len(self._key_locks) > 4 * len(self._kept) + 64:
                idle = [k for k, lock in self._key_locks.items() if not lock.locked()]
                for k in idle:
                    del self._key_locks[k]
            return self._key_locks.setdefault(key, threading.Lock())

    def _keep(self, key: Hashable, kept: KeptOffer) -> None:
        with self._lock:
            self._kept[key] = kept
            self._kept.move_to_end(key)
            total = sum(entry.storage.nbytes for entry in self._kept.values())
            while total > self.budget_bytes and len(self._kept) > 1:
                _, dropped = self._kept.popitem(last=False)
                total -= dropped.storage.nbytes
                self.stats.evicted += 1

    def _build(self, offer: Offer, peer: Peer, latest: int) -> KeptOffer:
        self.stats.builds += 1
        held = known_held(offer.db, peer.node_id)
        approvals = all_approval_facts(offer.db)
        runs_out: list[tuple[int, int, bytes]] = []

        def items() -> Iterator[Item]:
            for item, until in offer.offered(peer, policy_rows(offer.db), held, approvals):
                if until is not None:
                    runs_out.append((until, *item))
                yield item

        storage = Storage.from_sorted(items())
        heapq.heapify(runs_out)
        return KeptOffer(storage, latest, runs_out)

    def _refresh(self, kept: KeptOffer, offer: Offer, peer: Peer, latest: int) -> KeptOffer:
        due: list[tuple[int, int, bytes]] = []
        while kept.runs_out and kept.runs_out[0][0] <= offer.now:
            due.append(heapq.heappop(kept.runs_out))
        if latest == kept.seen and not due:
            self.stats.reused += 1
            return kept
        changes = changes_since(offer.db, kept.seen, PATCH_LIMIT)
        if changes is None or changes.everything:
            return self._build(offer, peer, latest)
        wanted = set(changes.record_ids) | {record_id.hex() for _, _, record_id in due}
        linked = _with_linked(offer.db, wanted, PATCH_LIMIT)
        if linked is None:
            return self._build(offer, peer, latest)
        self.stats.patches += 1
        return self._patched(kept, offer, peer, linked, changes.created, due, latest)

    def _patched(
        self,
        kept: KeptOffer,
        offer: Offer,
        peer: Peer,
        record_ids: set[str],
        created_of_gone: dict[str, int],
        due: list[tuple[int, int, bytes]],
        latest: int,
    ) -> KeptOffer:
        """Decide ``record_ids`` again and patch the storage: each goes out, then comes back
        in if the decision (or what the peer holds) still offers it."""
        ids = sorted(record_ids)
        rows = policy_rows_of(offer.db, ids)
        removed = {(int(row[0]), bytes.fromhex(str(row[1]))) for row in rows}
        removed |= {
            (created, bytes.fromhex(record_id)) for record_id, created in created_of_gone.items()
        }
        removed |= {(created, record_id) for _, created, record_id in due}
        held = held_among(offer.db, peer.node_id, ids)
        approvals = approval_facts_of(offer.db, ids)
        offer.bounds = BoundsOneByOne(offer.db)
        added: list[Item] = []
        for item, until in offer.offered(peer, rows, held, approvals, ids):
            added.append(item)
            if until is not None:
                heapq.heappush(kept.runs_out, (until, *item))
        return KeptOffer(kept.storage.patched(removed, added), latest, kept.runs_out)


class BoundsOneByOne:
    """The bounds of a few records, one query each (deciding a few again must not read the
    bounds of the whole archive)."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def of(self, record_id: str) -> tuple[Bound, ...]:
        return bounds_of(self.db, record_id)


def held_among(db: Any, peer_id: str, record_ids: list[str]) -> set[str]:
    """Which of these records the peer is known to hold already."""
    rows = db.execute(
        "SELECT record_id FROM deliveries WHERE peer_id = ? "
        "AND record_id IN (SELECT value FROM json_each(?))",
        [peer_id, json.dumps(record_ids)],
    )
    return {str(row[0]) for row in rows}


def known_held(db: Any, peer_id: str) -> set[str]:
    """Records the peer is known to hold already."""
    rows = db.execute("SELECT record_id FROM deliveries WHERE peer_id = ?", [peer_id])
    return {str(row[0]) for row in rows}


def _with_linked(db: sqlite_utils.Database, ids: set[str], limit: int) -> set[str] | None:
    """``ids`` and every held record linked to them, at any distance (None past ``limit``)."""
    found, frontier = set(ids), set(ids)
    while frontier:
        frontier = linked_records(db, sorted(frontier)) - found
        found |= frontier
        if len(found) > limit:
            return None
    return found
