"""The memory that refuses a signed federation request seen before (in memory).

:func:`crypto.http_signatures.verify_request` asks a :class:`ReplayMemory` about every request
that passed all its other checks; this module holds the in-memory one. The node keeps its
memory on disk instead, so that it survives a restart (``federation.replay_memory``).
"""

from __future__ import annotations

import heapq
import threading
from typing import Protocol

from crypto.signature_rejected import SignatureRejected

DEFAULT_MAX_SKEW = 300
DEFAULT_MAX_ENTRIES = 100_000


class ReplayMemory(Protocol):
    """What :func:`verify_request` needs to refuse a replay: :class:`ReplayGuard` in memory,
    or one kept on disk so that it survives a restart (``federation.replay_memory``)."""

    @property
    def window(self) -> int:
        """Seconds a signature is remembered; at least the accepted clock skew."""
        ...

    def check_and_remember(self, signature: bytes, created: int, now: int) -> None:
        """Raise ``SignatureRejected("replayed")`` if seen before; otherwise remember it."""
        ...


class ReplayGuard:
    """The signatures accepted in the last ``window`` seconds, so none is accepted twice.

    Sans-IO: the caller passes the clock. Keyed by the signature, not the nonce: the
    signature covers the nonce and the whole request, only the key's holder can make another
    one for the same request, and re-spelling the headers does not change it. Bounded: past
    ``max_entries`` the entries with the oldest ``created`` go first; they are the nearest to
    going stale anyway, and memory stays fixed however fast valid requests arrive.
    """

    def __init__(
        self, window: int = DEFAULT_MAX_SKEW, max_entries: int = DEFAULT_MAX_ENTRIES
    ) -> None:
        if window < 0 or max_entries < 1:
            raise ValueError("a replay guard needs window >= 0 and max_entries >= 1")
        self.window = window
        self.max_entries = max_entries
        self._seen: set[bytes] = set()
        self._by_created: list[tuple[int, bytes]] = []  # a heap: oldest first

    def __len__(self) -> int:
        return len(self._seen)

    def check_and_remember(self, signature: bytes, created: int, now: int) -> None:
        """Raise ``SignatureRejected("replayed")`` if seen before; otherwise remember it."""
        # An entry may go once its created time is beyond the window: verify_request
        # refuses such a request as stale before asking us.
        while self._by_created and self._by_created[0][0] < now - self.window:
            self._forget_oldest()
        if signature in self._seen:
            raise SignatureRejected("replayed", "this signed request was already received")
        if len(self._seen) >= self.max_entries:
            self._forget_oldest()
        self._seen.add(signature)
        heapq.heappush(self._by_created, (created, signature))

    def _forget_oldest(self) -> None:
        _, signature = heapq.heappop(self._by_created)
        self._seen.discard(signature)


class SharedReplayGuard(ReplayGuard):
    """A :class:`ReplayGuard` that worker threads check at once: the check and the
    remembering happen under one lock, so two threads never both accept one signature."""

    def __init__(
        self, window: int = DEFAULT_MAX_SKEW, max_entries: int = DEFAULT_MAX_ENTRIES
    ) -> None:
        super().__init__(window, max_entries)
        self._lock = threading.Lock()

    def check_and_remember(self, signature: bytes, created: int, now: int) -> None:
        with self._lock:
            super().check_and_remember(signature, created, now)
