"""Negentropy v1 reconciliation: the two roles as sans-IO objects (bytes in, bytes out).

The initiator sends the first message and learns, round by round, which ids only it has
(``have``) and which only the responder has (``need``); the responder only answers. Each
incoming range is answered by its mode:

============  ==================================  =====================================
mode in       initiator answers                   responder answers
============  ==================================  =====================================
Skip          nothing                             nothing
Fingerprint   nothing if equal, else split it     nothing if equal, else split it
IdList        nothing (records have / need)       its own IdList for the range
============  ==================================  =====================================

Splitting a range sends its ids when it holds fewer than 32 items, else 16 fingerprinted
buckets. The session ends when the initiator has nothing left to say.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from federation.negentropy.bound import END, START, Bound, BoundReader, minimal_bound
from federation.negentropy.errors import (
    InvalidVersionByte,
    TruncatedMessage,
    UnknownMode,
    UnsupportedProtocolVersion,
    UsageError,
)
from federation.negentropy.fingerprint import FINGERPRINT_SIZE, ID_SIZE, split_ids
from federation.negentropy.reply import MIN_FRAME_SIZE_LIMIT, PROTOCOL_VERSION, Mode, Reply
from federation.negentropy.storage import Storage
from federation.negentropy.varint import MessageReader, encode_varint

BUCKETS = 16
_ID_LIST_BELOW = 2 * BUCKETS  # ranges smaller than this are sent as ids, not fingerprints


class ReconcileResult(NamedTuple):
    """What the initiator learns from one message. Unpacks as ``next, have, need``."""

    next_message: bytes | None  # None: reconciliation is complete
    have_ids: list[bytes]  # only we have these
    need_ids: list[bytes]  # only the peer has these


@dataclass(frozen=True, slots=True)
class _Position:
    """A point of the (timestamp, id) order, as a bound on the wire and an index in storage."""

    bound: Bound
    index: int


class _Reconciler:
    """What both roles share: reading a message range by range and building the answer."""

    _is_initiator = False

    def __init__(self, storage: Storage, frame_size_limit: int = 0) -> None:
        if frame_size_limit != 0 and frame_size_limit < MIN_FRAME_SIZE_LIMIT:
            raise UsageError(f"frame_size_limit must be 0 (none) or >= {MIN_FRAME_SIZE_LIMIT}")
        self._storage = storage
        self._frame_size_limit = frame_size_limit

    def _answer(self, message: bytes) -> Reply:
        reader = MessageReader(message)
        reply = Reply(self._frame_size_limit)
        if self._accepts_version(reader.read_byte()):
            self._answer_ranges(reader, reply)
        return reply

    def _accepts_version(self, version: int) -> bool:
        if not 0x60 <= version <= 0x6F:
            raise InvalidVersionByte(f"0x{version:02x} is not a Negentropy version byte")
        if version == PROTOCOL_VERSION:
            return True
        if self._is_initiator:
            raise UnsupportedProtocolVersion(f"peer wants protocol version {version - 0x60}")
        # The spec: answer with the highest version we speak, so the initiator can fall back.
        return False

    def _answer_ranges(self, reader: MessageReader, reply: Reply) -> None:
        bounds = BoundReader()
        position = _Position(START, 0)
        while not reader.at_end():
            upper_bound = bounds.decode(reader)
            upper = self._storage.lower_bound(position.index, len(self._storage), upper_bound)
            checkpoint = reply.checkpoint()
            answered_to = self._answer_range(reader, reply, position, _Position(upper_bound, upper))
            if answered_to is not None:  # an IdList was cut short by the frame limit
                reply.add_remainder(answered_to.bound, self._fingerprint_from(answered_to))
                return
            if reply.is_full():
                reply.rollback(checkpoint)
                reply.add_remainder(position.bound, self._fingerprint_from(position))
                return
            position = _Position(upper_bound, upper)

    def _answer_range(
        self, reader: MessageReader, reply: Reply, lower: _Position, upper: _Position
    ) -> _Position | None:
        mode = reader.read_varint()
        if mode == Mode.SKIP:
            reply.settle()
        elif mode == Mode.FINGERPRINT:
            self._answer_fingerprint(reader.read_bytes(FINGERPRINT_SIZE), reply, lower, upper)
        elif mode == Mode.ID_LIST:
            return self._answer_id_list(_read_id_list(reader), reply, lower, upper)
        else:
            raise UnknownMode(f"range mode {mode} (expected 0, 1 or 2)")
        return None

    def _answer_fingerprint(
        self, theirs: bytes, reply: Reply, lower: _Position, upper: _Position
    ) -> None:
        if theirs == self._storage.fingerprint(lower.index, upper.index):
            reply.settle()
        else:
            reply.flush_skip(lower.bound)
            self._split_range(reply, lower.index, upper)

    def _answer_id_list(
        self, their_ids: bytes, reply: Reply, lower: _Position, upper: _Position
    ) -> _Position | None:
        raise NotImplementedError

    def _split_range(self, reply: Reply, lower: int, upper: _Position) -> None:
        count = upper.index - lower
        if count < _ID_LIST_BELOW:
            ids = self._storage.ids_between(lower, upper.index)
            reply.add_range(upper.bound, Mode.ID_LIST, encode_varint(count) + ids)
            return
        start = lower
        for end in _bucket_ends(lower, count):
            bucket_fingerprint = self._storage.fingerprint(start, end)
            reply.add_range(self._bound_before(end, upper), Mode.FINGERPRINT, bucket_fingerprint)
            start = end

    def _bound_before(self, index: int, upper: _Position) -> Bound:
        if index == upper.index:
            return upper.bound
        return minimal_bound(self._storage.item_at(index - 1), self._storage.item_at(index))

    def _fingerprint_from(self, position: _Position) -> bytes:
        return self._storage.fingerprint(position.index, len(self._storage))


class Initiator(_Reconciler):
    """The side that starts, and the only side that learns the differences."""

    _is_initiator = True

    def __init__(self, storage: Storage, frame_size_limit: int = 0) -> None:
        super().__init__(storage, frame_size_limit)
        self._initiated = False
        self._have: list[bytes] = []  # of the message being read
        self._need: list[bytes] = []
        # With a frame size limit, a responder that runs out of room sends one fingerprint for
        # everything after that point, so ranges we already settled can come back: remember
        # what we reported so each id is reported once per session.
        self._reported: set[bytes] = set()

    def initiate(self) -> bytes:
        """The first message: our whole storage, split."""
        if self._initiated:
            raise UsageError("initiate() was already called on this session")
        self._initiated = True
        reply = Reply(self._frame_size_limit)
        self._split_range(reply, 0, _Position(END, len(self._storage)))
        return reply.to_bytes()

    def reconcile(self, message: bytes) -> ReconcileResult:
        """Read the responder's message; return our next message (None when done) and the
        ids this message showed to be only ours (have) or only theirs (need)."""
        if not self._initiated:
            raise UsageError("call initiate() before reconcile() on the initiator")
        self._have, self._need = [], []
        reply = self._answer(message)
        next_message = None if reply.is_empty() else reply.to_bytes()
        return ReconcileResult(next_message, self._have, self._need)

    def _answer_id_list(
        self, their_ids: bytes, reply: Reply, lower: _Position, upper: _Position
    ) -> _Position | None:
        theirs_only = dict.fromkeys(split_ids(their_ids))  # a dict keeps their order
        for our_id in split_ids(self._storage.ids_between(lower.index, upper.index)):
            if our_id in theirs_only:
                del theirs_only[our_id]
            else:
                self._report(self._have, our_id)
        for their_id in theirs_only:
            self._report(self._need, their_id)
        reply.settle()
        return None

    def _report(self, differences: list[bytes], id_: bytes) -> None:
        if id_ not in self._reported:
            self._reported.add(id_)
            differences.append(id_)


class Responder(_Reconciler):
    """The side that answers; it learns nothing, the initiator fetches and pushes."""

    def reconcile(self, message: bytes) -> bytes:
        """Our answer to one initiator message (always a message, maybe just a version byte)."""
        return self._answer(message).to_bytes()

    def _answer_id_list(
        self, their_ids: bytes, reply: Reply, lower: _Position, upper: _Position
    ) -> _Position | None:
        reply.flush_skip(lower.bound)
        fitting = reply.ids_that_fit(upper.index - lower.index)
        end = lower.index + fitting
        # Cut short by the frame limit, the range ends at the first id left out; the caller
        # then sends the rest as one fingerprint.
        cut = None if end == upper.index else _Position(Bound(*self._storage.item_at(end)), end)
        ids = self._storage.ids_between(lower.index, end)
        reply.add_range((cut or upper).bound, Mode.ID_LIST, encode_varint(fitting) + ids)
        return cut


def _read_id_list(reader: MessageReader) -> bytes:
    count = reader.read_varint()
    if count > reader.remaining // ID_SIZE:  # checked before reading, so no huge allocation
        raise TruncatedMessage(f"IdList of {count} ids but {reader.remaining} bytes remain")
    return reader.read_bytes(count * ID_SIZE)


def _bucket_ends(lower: int, count: int) -> Iterator[int]:
    """End indices of BUCKETS near-equal buckets; the first ones take the remainder."""
    per_bucket, with_extra = divmod(count, BUCKETS)
    end = lower
    for bucket in range(BUCKETS):
        end += per_bucket + (1 if bucket < with_extra else 0)
        yield end
