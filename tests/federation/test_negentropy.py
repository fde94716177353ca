"""Negentropy protocol v1, section by section of the spec (docs/negentropy-protocol-v1.md in
hoytech/negentropy): varints, fingerprints, storage order, messages, reconciliation between an
in-memory pair, frame size limits, malformed input and protocol version negotiation.
"""

from __future__ import annotations

import hashlib
import random
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.errors import MalformedData, RhizomeError
from federation.negentropy import (
    INFINITY,
    Bound,
    Initiator,
    InvalidVersionByte,
    MalformedMessage,
    Negentropy,
    NegentropyError,
    ReconcileResult,
    Responder,
    Storage,
    StorageError,
    TrailingData,
    TruncatedMessage,
    UnknownMode,
    UnsupportedProtocolVersion,
    UsageError,
    encode_varint,
    fingerprint_of_ids,
)
from federation.negentropy.bound import BoundReader
from federation.negentropy.varint import MessageReader

REPO_ROOT = Path(__file__).resolve().parents[2]
Item = tuple[int, bytes]


# ---------------------------------------------------------------- Varint


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (0, "00"),
        (1, "01"),
        (127, "7f"),
        (128, "8100"),
        (300, "822c"),
        (16_383, "ff7f"),
        (16_384, "818000"),
        (2**64 - 1, "81ffffffffffffffff7f"),
    ],
)
def test_varint_is_base128_most_significant_digit_first(value: int, encoded: str) -> None:
    assert encode_varint(value).hex() == encoded
    assert MessageReader(bytes.fromhex(encoded)).read_varint() == value


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_varint_round_trips_every_64_bit_value(value: int) -> None:
    reader = MessageReader(encode_varint(value))
    assert reader.read_varint() == value
    assert reader.at_end()


@pytest.mark.parametrize("encoded", ["82808080808080808000", "8080808080808080808000"])
def test_varint_beyond_64_bits_is_malformed(encoded: str) -> None:
    with pytest.raises(MalformedMessage):
        MessageReader(bytes.fromhex(encoded)).read_varint()


def test_varint_without_last_digit_is_truncated() -> None:
    with pytest.raises(TruncatedMessage):
        MessageReader(b"\x81\x80").read_varint()


# ---------------------------------------------------------------- Fingerprint


def spec_fingerprint(ids: list[bytes]) -> bytes:
    """The spec's definition, written out independently of the implementation."""
    total = sum(int.from_bytes(id_, "little") for id_ in ids) % 2**256
    return hashlib.sha256(total.to_bytes(32, "little") + encode_varint(len(ids))).digest()[:16]


def id_filled_with(byte: int) -> bytes:
    return bytes([byte]) * 32


# Cross-checked against the Accumulator of @nostr-dev-kit/sync, an independent implementation.
@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        ([], "7f9c9e31ac8256ca2f258583df262dbc"),
        ([id_filled_with(1), id_filled_with(2)], "12a7b248579deb04f68dac6d3db20efd"),
        ([id_filled_with(0xFF), b"\x02" + bytes(31)], "6092a26dea6bc7bdc57a942f1df2d0d7"),
        ([id_filled_with(byte) for byte in range(200)], "ee324757553658b9258bb21e203f8fe6"),
    ],
    ids=["empty", "two-ids", "sum-wraps-mod-2**256", "count-needs-two-varint-bytes"],
)
def test_fingerprint_known_answers(ids: list[bytes], expected: str) -> None:
    assert spec_fingerprint(ids).hex() == expected
    assert fingerprint_of_ids(b"".join(ids)).hex() == expected


@given(st.lists(st.binary(min_size=32, max_size=32), unique=True, max_size=60), st.data())
def test_range_fingerprint_from_prefix_sums_matches_the_definition(
    ids: list[bytes], data: st.DataObject
) -> None:
    storage = Storage.from_sorted((7, id_) for id_ in sorted(ids))
    begin = data.draw(st.integers(0, len(ids)))
    end = data.draw(st.integers(begin, len(ids)))
    assert storage.fingerprint(begin, end) == spec_fingerprint(sorted(ids)[begin:end])


# ---------------------------------------------------------------- Storage


def test_items_are_sorted_by_timestamp_then_id() -> None:
    storage = Storage()
    for timestamp, id_ in [(5, id_filled_with(1)), (3, id_filled_with(9)), (5, id_filled_with(0))]:
        storage.insert(timestamp, id_)
    storage.seal()
    assert [storage.item_at(index) for index in range(len(storage))] == [
        (3, id_filled_with(9)),
        (5, id_filled_with(0)),
        (5, id_filled_with(1)),
    ]


def test_from_sorted_equals_insert_then_seal() -> None:
    items = random_items(random.Random(5), 500, timestamp_spread=20)
    inserted = storage_of(items)
    streamed = Storage.from_sorted(sorted(items))
    assert len(inserted) == len(streamed) == 500
    assert inserted.ids_between(0, 500) == streamed.ids_between(0, 500)
    assert inserted.fingerprint(0, 500) == streamed.fingerprint(0, 500)


@pytest.mark.parametrize(
    ("items", "problem"),
    [
        ([(2, id_filled_with(1)), (1, id_filled_with(2))], "not sorted"),
        ([(1, id_filled_with(1)), (1, id_filled_with(1))], "duplicated"),
        ([(1, b"short")], "32 bytes"),
        ([(INFINITY, id_filled_with(1))], "reserved"),
        ([(-1, id_filled_with(1))], "outside"),
    ],
)
def test_from_sorted_refuses_bad_items(items: list[Item], problem: str) -> None:
    with pytest.raises(StorageError, match=problem):
        Storage.from_sorted(items)


def test_seal_refuses_duplicates_and_storage_must_be_sealed() -> None:
    storage = Storage()
    with pytest.raises(StorageError, match="not sealed"):
        len(storage)
    storage.insert(1, id_filled_with(1))
    storage.insert(1, id_filled_with(1))
    with pytest.raises(StorageError, match="twice"):
        storage.seal()


def test_lower_bound_pads_the_id_prefix_with_zero_bytes() -> None:
    storage = Storage.from_sorted(
        [(1, id_filled_with(0x10)), (1, id_filled_with(0x20)), (2, id_filled_with(0x00))]
    )
    assert storage.lower_bound(0, 3, Bound(1)) == 0
    assert storage.lower_bound(0, 3, Bound(1, b"\x10")) == 0  # 10 00.. < 10 10..
    assert storage.lower_bound(0, 3, Bound(1, b"\x11")) == 1
    assert storage.lower_bound(0, 3, Bound(1, b"\x20" * 32)) == 1
    assert storage.lower_bound(0, 3, Bound(2)) == 2
    assert storage.lower_bound(0, 3, Bound(INFINITY)) == 3


# ---------------------------------------------------------------- Messages

ONE_ID = "ee" * 32


def test_initiator_sends_small_sets_as_one_id_list_to_infinity() -> None:
    initiator = Initiator(Storage.from_sorted([(12345, bytes.fromhex(ONE_ID))]))
    # version 0x61, bound (timestamp 0 = infinity, no id prefix), mode 2, one id
    assert initiator.initiate().hex() == "61" + "00" + "00" + "02" + "01" + ONE_ID


def test_responder_answers_an_empty_id_list_like_the_reference() -> None:
    responder = Responder(Storage.from_sorted([(12345, bytes.fromhex(ONE_ID))]))
    assert responder.reconcile(bytes.fromhex("6100000200")).hex() == "6100000201" + ONE_ID


def test_large_ranges_are_split_into_16_fingerprinted_buckets() -> None:
    storage = storage_of(random_items(random.Random(1), 100, timestamp_spread=1000))
    reader = MessageReader(Initiator(storage).initiate())
    assert reader.read_byte() == 0x61
    bounds = BoundReader()
    modes = []
    while not reader.at_end():
        bounds.decode(reader)
        modes.append(reader.read_varint())
        reader.read_bytes(16)
    assert modes == [1] * 16


# ---------------------------------------------------------------- Reconciliation


@dataclass
class Session:
    """An in-memory initiator/responder pair passing bytes, as h11's ConnectionPair does."""

    initiator: Initiator
    responder: Responder
    have: list[bytes] = field(default_factory=list)
    need: list[bytes] = field(default_factory=list)
    messages: list[bytes] = field(default_factory=list)

    @classmethod
    def between(cls, ours: list[Item], theirs: list[Item], frame_size_limit: int = 0) -> Session:
        return cls(
            Initiator(storage_of(ours), frame_size_limit),
            Responder(storage_of(theirs), frame_size_limit),
        )

    def run(self, max_round_trips: int = 10_000) -> Session:
        message: bytes | None = self.initiator.initiate()
        while message is not None:
            assert self.round_trips < max_round_trips, "did not converge"
            answer = self.responder.reconcile(message)
            self.messages += [message, answer]
            message, have, need = self.initiator.reconcile(answer)
            self.have += have
            self.need += need
        return self

    @property
    def round_trips(self) -> int:
        return len(self.messages) // 2


def random_items(rng: random.Random, count: int, timestamp_spread: int) -> list[Item]:
    return [
        (1_700_000_000 + rng.randrange(timestamp_spread), rng.randbytes(32)) for _ in range(count)
    ]


def storage_of(items: list[Item]) -> Storage:
    storage = Storage()
    for timestamp, id_ in items:
        storage.insert(timestamp, id_)
    storage.seal()
    return storage


def ids_of(items: list[Item]) -> set[bytes]:
    return {id_ for _, id_ in items}


# Few timestamps, so ties are common and bounds need id prefixes; and the largest legal one.
timestamps = st.integers(0, 40) | st.just(INFINITY - 1)
items_strategy = st.lists(
    st.tuples(timestamps, st.binary(min_size=32, max_size=32)),
    unique_by=lambda item: item[1],
    max_size=250,
)


@settings(max_examples=60)
@given(common=items_strategy, only_ours=items_strategy, only_theirs=items_strategy)
def test_initiator_learns_exactly_what_each_side_lacks(
    common: list[Item], only_ours: list[Item], only_theirs: list[Item]
) -> None:
    only_ours = [item for item in only_ours if item[1] not in ids_of(common)]
    only_theirs = [
        item for item in only_theirs if item[1] not in ids_of(common) | ids_of(only_ours)
    ]
    session = Session.between(common + only_ours, common + only_theirs).run()
    assert sorted(session.have) == sorted(ids_of(only_ours))
    assert sorted(session.need) == sorted(ids_of(only_theirs))


def test_identical_sets_agree_in_one_round_trip() -> None:
    items = random_items(random.Random(2), 5000, timestamp_spread=100)
    session = Session.between(items, items).run()
    assert (session.round_trips, session.have, session.need) == (1, [], [])
    assert session.messages[1] == b"\x61"  # the responder has nothing to add


def test_ten_differences_among_ten_thousand_take_at_most_three_round_trips() -> None:
    rng = random.Random(3)
    common = random_items(rng, 10_000, timestamp_spread=10_000)
    ours, theirs = random_items(rng, 5, 10_000), random_items(rng, 5, 10_000)
    session = Session.between(common + ours, common + theirs).run()
    assert session.round_trips <= 3
    assert set(session.have) == ids_of(ours) and set(session.need) == ids_of(theirs)


@pytest.mark.parametrize("empty_side", ["ours", "theirs"])
def test_one_empty_side_gets_everything(empty_side: str) -> None:
    items = random_items(random.Random(4), 300, timestamp_spread=50)
    ours, theirs = ([], items) if empty_side == "ours" else (items, [])
    session = Session.between(ours, theirs).run()
    assert set(session.have) == ids_of(ours) and set(session.need) == ids_of(theirs)


# ---------------------------------------------------------------- Frame size limits


@pytest.mark.parametrize("frame_size_limit", [4096, 5000, 10_000])
@pytest.mark.parametrize("timestamp_spread", [1, 20, 100_000])
def test_every_message_respects_the_frame_size_limit_and_still_converges(
    frame_size_limit: int, timestamp_spread: int
) -> None:
    rng = random.Random(frame_size_limit + timestamp_spread)
    common = random_items(rng, 3000, timestamp_spread)
    ours = random_items(rng, 700, timestamp_spread)
    theirs = random_items(rng, 900, timestamp_spread)
    session = Session.between(common + ours, common + theirs, frame_size_limit).run()
    assert max(len(message) for message in session.messages) <= frame_size_limit
    # Each id is reported once, although a responder out of room makes us re-cover ranges.
    assert sorted(session.have) == sorted(ids_of(ours))
    assert sorted(session.need) == sorted(ids_of(theirs))


def test_a_cut_message_ends_with_the_fingerprint_of_exactly_the_rest() -> None:
    rng = random.Random(9)
    theirs = random_items(rng, 2000, timestamp_spread=500)
    responder_storage = storage_of(theirs)
    # We have nothing, so the responder must send all 2000 ids: far more than one frame.
    answer = Responder(responder_storage, 4096).reconcile(Initiator(storage_of([])).initiate())
    reader, bounds = MessageReader(answer), BoundReader()
    reader.read_byte()
    last_bound = None
    while True:
        bound = bounds.decode(reader)
        mode = reader.read_varint()
        if bound.timestamp == INFINITY:
            break
        assert mode == 2
        reader.read_bytes(32 * reader.read_varint())
        last_bound = bound
    assert mode == 1 and last_bound is not None and reader.remaining == 16
    rest_start = responder_storage.lower_bound(0, 2000, last_bound)
    assert reader.read_bytes(16) == responder_storage.fingerprint(rest_start, 2000)


def test_frame_size_limit_below_4096_is_refused() -> None:
    with pytest.raises(UsageError):
        Responder(storage_of([]), frame_size_limit=1000)


# ---------------------------------------------------------------- Malformed messages


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ("", TruncatedMessage),
        ("61 00 00 01 aabb", TruncatedMessage),  # fingerprint cut short
        ("61 00 00 02 03" + "ee" * 64, TruncatedMessage),  # three ids announced, two sent
        ("61 00 00", TruncatedMessage),  # a bound without a mode
        ("61 00 00 03", UnknownMode),
        ("00", InvalidVersionByte),
        ("70 00 00 00", InvalidVersionByte),
        ("ff", InvalidVersionByte),
        ("61 00 00 00 ffff", TrailingData),  # junk after the range that ends at infinity
        ("61 00 00 00 00 00 00", TrailingData),
        ("61 01 21" + "00" * 33 + "00", MalformedMessage),  # id prefix longer than 32 bytes
        ("61 05 01 20 00 01 01 10 00", MalformedMessage),  # second bound below the first
    ],
    ids=[
        "empty",
        "short-fingerprint",
        "short-id-list",
        "no-mode",
        "mode-3",
        "version-00",
        "version-70",
        "version-ff",
        "junk",
        "range-after-infinity",
        "long-prefix",
        "descending-bounds",
    ],
)
@pytest.mark.parametrize("role", ["initiator", "responder"])
def test_malformed_messages_raise_a_clear_error(message: str, error: type, role: str) -> None:
    storage = storage_of(random_items(random.Random(6), 40, timestamp_spread=10))
    side: Initiator | Responder
    if role == "initiator":
        side = Initiator(storage)
        side.initiate()
    else:
        side = Responder(storage)
    with pytest.raises(error) as raised:
        side.reconcile(bytes.fromhex(message.replace(" ", "")))
    assert type(raised.value) is error
    assert isinstance(raised.value, NegentropyError)
    assert isinstance(raised.value, MalformedData)
    assert str(raised.value)


def test_peer_errors_are_malformed_data() -> None:
    assert issubclass(TruncatedMessage, MalformedData)
    assert issubclass(UnsupportedProtocolVersion, RhizomeError)


# ---------------------------------------------------------------- Protocol version


def test_responder_answers_an_unknown_version_with_the_version_it_speaks() -> None:
    responder = Responder(Storage.from_sorted([(12345, bytes.fromhex(ONE_ID))]))
    assert responder.reconcile(bytes.fromhex("62aabbccddeeff")) == b"\x61"
    # The initiator falls back to v1 and gets the usual answer (test/protoversion.pl).
    assert responder.reconcile(bytes.fromhex("6100000200")).hex() == "6100000201" + ONE_ID


def test_initiator_refuses_a_version_it_cannot_speak() -> None:
    initiator = Initiator(storage_of([]))
    initiator.initiate()
    with pytest.raises(UnsupportedProtocolVersion, match="version 2"):
        initiator.reconcile(b"\x62")


# ---------------------------------------------------------------- API use


def test_roles_are_used_in_turn() -> None:
    initiator = Initiator(storage_of([]))
    with pytest.raises(UsageError):
        initiator.reconcile(b"\x61")
    initiator.initiate()
    with pytest.raises(UsageError):
        initiator.initiate()


def test_reference_shaped_facade_takes_its_role_from_the_first_call() -> None:
    items = random_items(random.Random(8), 100, timestamp_spread=10)
    ours, theirs = Negentropy(storage_of(items[:60])), Negentropy(storage_of(items[40:]))
    message: bytes | None = ours.initiate()
    have: list[bytes] = []
    need: list[bytes] = []
    while message is not None:
        answer = theirs.reconcile(message)
        assert isinstance(answer, bytes)
        result = ours.reconcile(answer)
        assert isinstance(result, ReconcileResult)
        message = result.next_message
        have += result.have_ids
        need += result.need_ids
    assert ours.is_initiator and not theirs.is_initiator
    assert set(have) == ids_of(items[:40]) and set(need) == ids_of(items[60:])
    with pytest.raises(UsageError):
        theirs.initiate()


def test_line_harness_negotiates_the_version_like_the_reference_harness() -> None:
    item = f"item,12345,{ONE_ID}\nseal\n"
    commands = item + "msg,62aabbccddeeff\nmsg,6100000200\n"
    result = subprocess.run(
        [sys.executable, "-m", "federation.negentropy"],
        input=commands,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=30,
        check=True,
    )
    assert result.stdout.splitlines() == ["msg,61", f"msg,6100000201{ONE_ID}"]


def test_line_harness_reports_have_need_and_done() -> None:
    theirs_only = "11" * 32
    commands = f"item,5,{ONE_ID}\nseal\ninitiate\nmsg,6100000201{theirs_only}\n"
    result = subprocess.run(
        [sys.executable, "-m", "federation.negentropy"],
        input=commands,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=30,
        check=True,
    )
    assert result.stdout.splitlines() == [
        f"msg,6100000201{ONE_ID}",
        f"have,{ONE_ID}",
        f"need,{theirs_only}",
        "done",
    ]


def test_line_harness_fails_with_one_line_on_bad_input() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "federation.negentropy"],
        input="seal\nmsg,\n",
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=30,
    )
    assert result.returncode == 1
    assert "TruncatedMessage" in result.stderr
