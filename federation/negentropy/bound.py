"""Range bounds: what they mean, and how they travel.

A bound is a point in (timestamp, id) order: a timestamp and an id prefix, padded with zero
bytes to 32. Inside a message, timestamps are written as the difference to the previous bound
of the same message (plus one, because zero means infinity), so each direction of one message
keeps its own running timestamp: ``BoundWriter`` for what we send, ``BoundReader`` for what we
read.
"""

from __future__ import annotations

from dataclasses import dataclass

from federation.negentropy.errors import MalformedMessage, TrailingData
from federation.negentropy.fingerprint import ID_SIZE
from federation.negentropy.varint import MessageReader, encode_varint

INFINITY = 2**64 - 1
"""The reserved timestamp that sorts after every item; no item may use it."""


@dataclass(frozen=True, slots=True)
class Bound:
    """An exclusive upper bound of a range (and the inclusive lower bound of the next)."""

    timestamp: int
    id_prefix: bytes = b""

    @property
    def padded_id(self) -> bytes:
        return self.id_prefix.ljust(ID_SIZE, b"\0")

    @property
    def sort_key(self) -> tuple[int, bytes]:
        return (self.timestamp, self.padded_id)


START = Bound(0)
END = Bound(INFINITY)


def minimal_bound(previous: tuple[int, bytes], current: tuple[int, bytes]) -> Bound:
    """The shortest bound that is above ``previous`` and at or below ``current``.

    Both are (timestamp, id) items with previous < current. A different timestamp needs no id
    at all; otherwise the prefix runs one byte past the ids' common prefix.
    """
    previous_timestamp, previous_id = previous
    current_timestamp, current_id = current
    if previous_timestamp != current_timestamp:
        return Bound(current_timestamp)
    shared = 0
    while shared < ID_SIZE - 1 and previous_id[shared] == current_id[shared]:
        shared += 1
    return Bound(current_timestamp, current_id[: shared + 1])


class BoundWriter:
    """Encodes the bounds of one outgoing message, delta-encoding their timestamps."""

    __slots__ = ("last_timestamp",)

    def __init__(self) -> None:
        self.last_timestamp = 0

    def encode(self, bound: Bound) -> bytes:
        return (
            self._encode_timestamp(bound.timestamp)
            + encode_varint(len(bound.id_prefix))
            + bound.id_prefix
        )

    def _encode_timestamp(self, timestamp: int) -> bytes:
        if timestamp == INFINITY:
            self.last_timestamp = INFINITY
            return encode_varint(0)
        delta = timestamp - self.last_timestamp
        self.last_timestamp = timestamp
        return encode_varint(delta + 1)


class BoundReader:
    """Decodes the bounds of one incoming message and checks they only go up."""

    __slots__ = ("_last_timestamp", "_previous")

    def __init__(self) -> None:
        self._last_timestamp = 0
        self._previous = START

    def decode(self, reader: MessageReader) -> Bound:
        if self._previous.timestamp == INFINITY:
            raise TrailingData(f"{reader.remaining} bytes after the range ending at infinity")
        timestamp = self._decode_timestamp(reader.read_varint())
        prefix_length = reader.read_varint()
        if prefix_length > ID_SIZE:
            raise MalformedMessage(f"bound id prefix of {prefix_length} bytes (at most 32)")
        bound = Bound(timestamp, reader.read_bytes(prefix_length))
        if bound.sort_key < self._previous.sort_key:
            raise MalformedMessage("ranges are out of order: a bound is below the previous one")
        self._previous = bound
        return bound

    def _decode_timestamp(self, encoded: int) -> int:
        # Zero is infinity; a delta that overflows 64 bits saturates to it, as in the reference.
        delta = INFINITY if encoded == 0 else encoded - 1
        self._last_timestamp = min(self._last_timestamp + delta, INFINITY)
        return self._last_timestamp
