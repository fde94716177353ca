"""The message one side is building in answer to the other: ranges, pending skips, frame limit.

Consecutive ranges that need no answer are not sent one by one: a single Skip is written just
before the next range that does need one, and trailing Skips are never written at all (the
spec appends an implicit Skip to infinity). A frame size limit is kept by checking after each
range and, when it is crossed, replacing the rest with one fingerprint up to infinity that the
peer answers in the next round.
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

from federation.negentropy.bound import END, Bound, BoundWriter
from federation.negentropy.fingerprint import ID_SIZE
from federation.negentropy.varint import encode_varint

PROTOCOL_VERSION = 0x61
MIN_FRAME_SIZE_LIMIT = 4096
# Room kept free below the limit, as in the reference: enough for the final Skip and the
# fingerprint of the remainder, so closing a message never crosses the limit.
FRAME_SAFETY_MARGIN = 200
_MAX_BOUND_SIZE = 10 + 1 + ID_SIZE  # timestamp varint, prefix length, prefix
_ID_LIST_HEADER_SIZE = _MAX_BOUND_SIZE + 1 + 10  # bound, mode, count varint


class Mode(IntEnum):
    SKIP = 0
    FINGERPRINT = 1
    ID_LIST = 2


class Checkpoint(NamedTuple):
    size: int
    last_timestamp: int
    skip_pending: bool


class Reply:
    """An outgoing message under construction."""

    __slots__ = ("_bounds", "_data", "_frame_size_limit", "_skip_pending")

    def __init__(self, frame_size_limit: int) -> None:
        self._data = bytearray([PROTOCOL_VERSION])
        self._bounds = BoundWriter()
        self._frame_size_limit = frame_size_limit
        self._skip_pending = False

    def to_bytes(self) -> bytes:
        return bytes(self._data)

    def is_empty(self) -> bool:
        """True when the message says nothing beyond its version byte: every range agreed."""
        return len(self._data) == 1

    def add_range(self, upper_bound: Bound, mode: Mode, payload: bytes = b"") -> None:
        self._data += self._bounds.encode(upper_bound)
        self._data += encode_varint(mode)
        self._data += payload

    def settle(self) -> None:
        """The current range needs no answer; a Skip is written only if a later range does."""
        self._skip_pending = True

    def flush_skip(self, up_to: Bound) -> None:
        """Write the pending Skip, ending where the range about to be answered begins."""
        if self._skip_pending:
            self._skip_pending = False
            self.add_range(up_to, Mode.SKIP)

    def add_remainder(self, start: Bound, remainder_fingerprint: bytes) -> None:
        """Close the message: everything from ``start`` on is one fingerprinted range."""
        self.flush_skip(start)
        self.add_range(END, Mode.FINGERPRINT, remainder_fingerprint)

    def is_full(self) -> bool:
        return bool(self._frame_size_limit) and len(self._data) > self._usable_size()

    def ids_that_fit(self, wanted: int) -> int:
        """How many of ``wanted`` ids an IdList range may carry without crossing the limit."""
        if not self._frame_size_limit:
            return wanted
        room = self._usable_size() - len(self._data) - _ID_LIST_HEADER_SIZE
        return max(0, min(wanted, room // ID_SIZE))

    def checkpoint(self) -> Checkpoint:
        return Checkpoint(len(self._data), self._bounds.last_timestamp, self._skip_pending)

    def rollback(self, checkpoint: Checkpoint) -> None:
        """Forget what was written since ``checkpoint``, including the timestamp delta state."""
        del self._data[checkpoint.size :]
        self._bounds.last_timestamp = checkpoint.last_timestamp
        self._skip_pending = checkpoint.skip_pending

    def _usable_size(self) -> int:
        return self._frame_size_limit - FRAME_SAFETY_MARGIN
