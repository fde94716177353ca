"""The sorted items one side reconciles: (timestamp, 32-byte id), sealed before use.

Kept compact because a node serves a million records: ids in one bytes blob (32 bytes each),
timestamps in an ``array('Q')``, and the fingerprint prefix sums in a second blob, turned
into ints only for the two entries a range needs. That is about 72 bytes per item, where a
list of tuples would cost over 200.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from functools import partial
from itertools import islice
from operator import eq, itemgetter

from federation.negentropy.bound import INFINITY, Bound
from federation.negentropy.errors import StorageError
from federation.negentropy.fingerprint import ID_SIZE, build_prefix_sums, fingerprint

_TIMESTAMP_SIZE = 8
# Unsealed items are kept as big-endian timestamp + id, so that sorting the byte strings
# sorts by (timestamp, id), which is the protocol's order.
_timestamp_of_key = itemgetter(slice(0, _TIMESTAMP_SIZE))
_id_of_key = itemgetter(slice(_TIMESTAMP_SIZE, None))
_big_endian_int = partial(int.from_bytes, byteorder="big")


class Storage:
    """Items to reconcile: ``insert`` them in any order, then ``seal``; or use ``from_sorted``."""

    __slots__ = ("_ids", "_prefix_sums", "_sealed", "_timestamps", "_unsorted_keys")

    def __init__(self) -> None:
        self._unsorted_keys: list[bytes] = []
        self._sealed = False
        self._timestamps = array("Q")
        self._ids: bytes | bytearray = b""
        self._prefix_sums: bytes | bytearray = bytes(ID_SIZE)

    @classmethod
    def from_sorted(cls, items: Iterable[tuple[int, bytes]]) -> Storage:
        """A sealed storage from items already in (timestamp, id) order, in one pass.

        Meant for ``SELECT created, id FROM ... ORDER BY created, id``: no sort and no copy of
        the items as Python objects. Raises ``StorageError`` if they are out of order.
        """
        storage = cls()
        timestamps = array("Q")
        ids = bytearray()
        previous: tuple[int, bytes] = (-1, b"")
        for item in items:
            timestamp, id_ = item
            if len(id_) != ID_SIZE:
                raise StorageError(f"id at position {len(timestamps)} is not {ID_SIZE} bytes")
            if (timestamp, id_) <= previous:
                raise StorageError(f"items not sorted or duplicated at position {len(timestamps)}")
            timestamps.append(_checked_timestamp(timestamp))
            ids += id_
            previous = (timestamp, id_)
        storage._load_sorted(timestamps, ids)
        return storage

    def insert(self, timestamp: int, id_: bytes) -> None:
        """Add one item; order does not matter until ``seal``."""
        if self._sealed:
            raise StorageError("storage is sealed; build a new one to add items")
        if len(id_) != ID_SIZE:
            raise StorageError(f"id must be {ID_SIZE} bytes, got {len(id_)}")
        key = _checked_timestamp(timestamp).to_bytes(_TIMESTAMP_SIZE, "big") + bytes(id_)
        self._unsorted_keys.append(key)

    def seal(self) -> None:
        """Sort the inserted items and index them; the storage is read-only afterwards."""
        if self._sealed:
            raise StorageError("storage is already sealed")
        keys, self._unsorted_keys = self._unsorted_keys, []
        keys.sort()  # in place: at a million items, a sorted copy would be 8 MB more
        if any(map(eq, keys, islice(keys, 1, None))):
            raise StorageError("the same (timestamp, id) item was inserted twice")
        timestamps = array("Q", map(_big_endian_int, map(_timestamp_of_key, keys)))
        ids = b"".join(map(_id_of_key, keys))
        del keys
        self._load_sorted(timestamps, ids)

    def patched(
        self, removed: Iterable[tuple[int, bytes]], added: Iterable[tuple[int, bytes]]
    ) -> Storage:
        """A new sealed storage holding (these items - ``removed``) | ``added``: absent ones
        removed and present ones added change nothing; this one is left as it is, for the
        sessions still reading it.

        Copies the arrays once (a memory copy) and sums the prefix again only from the first
        changed position: new records, whose timestamps are the latest, cost little.
        """
        self._check_sealed()
        adding_items = {(_checked_timestamp(t), bytes(i)) for t, i in added}
        removing_items = {(_checked_timestamp(t), bytes(i)) for t, i in removed} - adding_items
        changes = sorted(
            [(t, i, False) for t, i in removing_items] + [(t, i, True) for t, i in adding_items]
        )
        timestamps, ids = array("Q"), bytearray()
        kept = 0  # items of self copied so far
        first_change: int | None = None
        for timestamp, id_, adding in changes:
            if len(id_) != ID_SIZE:
                raise StorageError(f"id must be {ID_SIZE} bytes, got {len(id_)}")
            position = self._position(timestamp, id_)
            present = position < len(self._timestamps) and self.item_at(position) == (
                timestamp, id_,
            )  # fmt: skip
            if adding == present:
                continue  # added and there already, or removed and not there
            timestamps.extend(self._timestamps[kept:position])
            ids += self._ids[kept * ID_SIZE : position * ID_SIZE]
            if first_change is None:
                first_change = len(timestamps)
            if adding:
                timestamps.append(timestamp)
                ids += id_
                kept = position
            else:
                kept = position + 1
        if first_change is None:
            return self
        timestamps.extend(self._timestamps[kept:])
        ids += self._ids[kept * ID_SIZE :]
        storage = Storage()
        storage._timestamps, storage._ids, storage._sealed = timestamps, ids, True
        start = first_change * ID_SIZE
        storage._prefix_sums = self._prefix_sums[:start] + build_prefix_sums(
            memoryview(ids)[start:], self._prefix_sum(first_change)
        )
        return storage

    def _position(self, timestamp: int, id_: bytes) -> int:
        """Index of the first item at or above (timestamp, id)."""
        first = bisect_left(self._timestamps, timestamp)
        last = bisect_right(self._timestamps, timestamp, first)
        return self._first_id_at_or_above(first, last, id_)

    def _load_sorted(self, timestamps: array[int], ids: bytes | bytearray) -> None:
        # A bytearray is kept as it is: copying it to bytes would double the peak memory.
        self._timestamps = timestamps
        self._ids = ids
        self._prefix_sums = build_prefix_sums(ids)
        self._sealed = True

    def __len__(self) -> int:
        self._check_sealed()
        return len(self._timestamps)

    @property
    def nbytes(self) -> int:
        """Bytes held by the item arrays (not counting the object headers)."""
        return (
            len(self._ids)
            + len(self._prefix_sums)
            + self._timestamps.itemsize * len(self._timestamps)
        )

    def id_at(self, index: int) -> bytes:
        return bytes(self._ids[index * ID_SIZE : (index + 1) * ID_SIZE])

    def item_at(self, index: int) -> tuple[int, bytes]:
        return (self._timestamps[index], self.id_at(index))

    def ids_between(self, begin: int, end: int) -> bytes:
        """The ids of items [begin, end), concatenated."""
        self._check_range(begin, end)
        return bytes(self._ids[begin * ID_SIZE : end * ID_SIZE])

    def fingerprint(self, begin: int, end: int) -> bytes:
        """Fingerprint of items [begin, end), in O(1) from the prefix sums."""
        self._check_range(begin, end)
        id_sum = self._prefix_sum(end) - self._prefix_sum(begin)
        return fingerprint(id_sum, end - begin)

    def lower_bound(self, begin: int, end: int, bound: Bound) -> int:
        """Index of the first item in [begin, end) at or above ``bound`` (``end`` if none)."""
        self._check_range(begin, end)
        first = bisect_left(self._timestamps, bound.timestamp, begin, end)
        if not any(bound.id_prefix):
            return first  # an all-zero id is below every item of that timestamp
        last = bisect_right(self._timestamps, bound.timestamp, first, end)
        return self._first_id_at_or_above(first, last, bound.padded_id)

    def _first_id_at_or_above(self, low: int, high: int, target: bytes) -> int:
        while low < high:
            middle = (low + high) // 2
            if self.id_at(middle) < target:
                low = middle + 1
            else:
                high = middle
        return low

    def _prefix_sum(self, index: int) -> int:
        offset = index * ID_SIZE
        return int.from_bytes(self._prefix_sums[offset : offset + ID_SIZE], "little")

    def _check_sealed(self) -> None:
        if not self._sealed:
            raise StorageError("storage is not sealed; call seal() first")

    def _check_range(self, begin: int, end: int) -> None:
        self._check_sealed()
        if not 0 <= begin <= end <= len(self._timestamps):
            raise StorageError(f"range [{begin}, {end}) outside 0..{len(self._timestamps)}")


def _checked_timestamp(timestamp: int) -> int:
    if not 0 <= timestamp < INFINITY:
        raise StorageError(f"timestamp {timestamp} outside 0..2**64-2 (2**64-1 is reserved)")
    return timestamp
