"""The fingerprint of a range, and the prefix sums that make it O(1).

Spec: add the ids as 32-byte little-endian integers mod 2**256, append the item count as a
varint, SHA-256 it, keep the first 16 bytes. Because the sum is plain modular addition, the
sum over items [begin, end) is prefix[end] - prefix[begin]: one subtraction instead of a walk
over up to a million ids per range.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator
from functools import partial
from itertools import accumulate, repeat
from operator import and_, itemgetter

from federation.negentropy.varint import encode_varint

ID_SIZE = 32
FINGERPRINT_SIZE = 16
SUM_MODULUS_MASK = 2**256 - 1

# Prefix sums are built in blocks so that the temporary ints of one block, not of the whole
# storage, are alive at once.
_PREFIX_BLOCK_ITEMS = 65_536
_little_endian_int = partial(int.from_bytes, byteorder="little")
_little_endian_id = partial(int.to_bytes, length=ID_SIZE, byteorder="little")


def fingerprint(id_sum: int, count: int) -> bytes:
    """Fingerprint of a range whose ids add up to ``id_sum`` (mod 2**256) over ``count`` ids."""
    digest_input = (id_sum & SUM_MODULUS_MASK).to_bytes(ID_SIZE, "little") + encode_varint(count)
    return hashlib.sha256(digest_input).digest()[:FINGERPRINT_SIZE]


def split_ids(ids: bytes | memoryview) -> Iterator[bytes]:
    """The 32-byte ids concatenated in ``ids``, one by one."""
    return map(itemgetter(0), struct.iter_unpack(f"{ID_SIZE}s", ids))


def sum_of_ids(ids: bytes) -> int:
    """The spec's modular sum of the 32-byte ids concatenated in ``ids``."""
    return sum(int.from_bytes(id_, "little") for id_ in split_ids(ids)) & SUM_MODULUS_MASK


def fingerprint_of_ids(ids: bytes) -> bytes:
    """Fingerprint of the concatenated ids, straight from the definition (tests, small sets)."""
    return fingerprint(sum_of_ids(ids), len(ids) // ID_SIZE)


def build_prefix_sums(ids: bytes | bytearray | memoryview, initial: int = 0) -> bytearray:
    """Entry i (32 bytes, little-endian) is ``initial`` plus the sum of the first i ids,
    mod 2**256.

    The blob has one more entry than there are ids, entry 0 being ``initial`` (zero for a
    whole storage; a patched storage continues from the last entry it kept). The loops run
    in C (map, accumulate, join) because this is the cost of sealing a million-item storage.
    """
    running_sum = initial & SUM_MODULUS_MASK
    blob = bytearray(_little_endian_id(running_sum))
    for block in _blocks_of_ids(ids):
        values = map(_little_endian_int, split_ids(block))
        sums = list(accumulate(values, initial=running_sum))[1:]
        if not sums:
            continue
        running_sum = sums[-1] & SUM_MODULUS_MASK
        masked = map(and_, sums, repeat(SUM_MODULUS_MASK))
        blob += b"".join(map(_little_endian_id, masked))
    return blob


def _blocks_of_ids(ids: bytes | bytearray | memoryview) -> Iterator[memoryview]:
    view = memoryview(ids)
    step = _PREFIX_BLOCK_ITEMS * ID_SIZE
    for start in range(0, len(view), step):
        yield view[start : start + step]
