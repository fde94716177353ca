"""Canonical msgpack: one value, exactly one byte string, and nothing else decodes."""

from __future__ import annotations

from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.canonical import DecodeLimits, pack, unpack
from crypto.errors import CryptoError, MalformedData, NonCanonicalEncoding

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.binary(max_size=300)
    | st.text(max_size=300)
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=20)
        | st.dictionaries(st.text(max_size=40), children, max_size=20)
    ),
    max_leaves=40,
)


@settings(max_examples=100)
@given(values)
def test_pack_unpack_pack_is_identical(value: Any) -> None:
    data = pack(value)
    decoded = unpack(data)
    assert decoded == value
    assert pack(decoded) == data


@settings(max_examples=100)
@given(st.dictionaries(st.text(max_size=10), st.integers(0, 9), min_size=2, max_size=8))
def test_maps_keep_the_callers_key_order(mapping: dict[str, int]) -> None:
    reordered = dict(reversed(list(mapping.items())))
    assert list(unpack(pack(reordered))) == list(reordered)


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (None, b"\xc0"),
        (True, b"\xc3"),
        (5, b"\x05"),
        (-1, b"\xff"),
        (200, b"\xcc\xc8"),
        ("a", b"\xa1a"),
        (b"a", b"\xc4\x01a"),
        ([1], b"\x91\x01"),
        ({"a": 1}, b"\x81\xa1a\x01"),
    ],
)
def test_shortest_form_is_the_canonical_one(value: Any, encoded: bytes) -> None:
    assert pack(value) == encoded
    assert unpack(encoded) == value


# Each decodes to a value whose canonical encoding is different bytes.
NON_CANONICAL = {
    "uint8-for-fixint": b"\xcc\x05",
    "int8-for-fixint": b"\xd0\x05",
    "uint16-for-uint8": b"\xcd\x00\xc8",
    "uint32-for-fixint": b"\xce\x00\x00\x00\x01",
    "uint64-for-fixint": b"\xcf\x00\x00\x00\x00\x00\x00\x00\x01",
    "int16-for-negative-fixint": b"\xd1\xff\xff",
    "int64-for-int8": b"\xd3\xff\xff\xff\xff\xff\xff\xff\x80",
    "str8-for-fixstr": b"\xd9\x01a",
    "str16-for-fixstr": b"\xda\x00\x01a",
    "bin16-for-bin8": b"\xc5\x00\x01a",
    "array16-for-fixarray": b"\xdc\x00\x01\x01",
    "map16-for-fixmap": b"\xde\x00\x01\xa1a\x01",
    "nested-wide-int": b"\x91\xcc\x05",
    "duplicate-map-key": b"\x82\xa1a\x01\xa1a\x02",
    "bytes-map-key": b"\x81\xc4\x01a\x01",
    "nested-float": b"\x91\xcb\x00\x00\x00\x00\x00\x00\x00\x00",
}


@pytest.mark.parametrize("data", NON_CANONICAL.values(), ids=NON_CANONICAL.keys())
def test_non_canonical_encodings_are_refused(data: bytes) -> None:
    with pytest.raises(NonCanonicalEncoding):
        unpack(data)


MALFORMED = {
    "empty": b"",
    "truncated-str": pack("hello")[:-1],
    "truncated-array": b"\x92\x01",
    "truncated-uint32": b"\xce\x00\x00",
    "trailing-bytes": pack(1) + b"\x00",
    "two-values": pack("a") + pack("b"),
    "float64": b"\xcb" + bytes(8),
    "float32": b"\xca" + bytes(4),
    "fixext1": b"\xd4\x01\x00",
    "timestamp-ext": b"\xd6\xff\x00\x00\x00\x01",
    "ext8": b"\xc7\x01\x05a",
    "reserved-byte": b"\xc1",
    "invalid-utf8-str": b"\xa1\xff",
}


@pytest.mark.parametrize("data", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_data_is_refused(data: bytes) -> None:
    with pytest.raises(MalformedData):
        unpack(data)


@pytest.mark.parametrize("cut", range(len(pack({"title": "abc", "tags": [1, 2, b"x"]}))))
def test_every_truncation_is_refused(cut: int) -> None:
    data = pack({"title": "abc", "tags": [1, 2, b"x"]})
    with pytest.raises(CryptoError):
        unpack(data[:cut])


@pytest.mark.parametrize(
    "value",
    [1.5, {1: "int key"}, {b"k": 1}, {"a": {2, 3}}, 2**64, -(2**63) - 1, object(), [1.0]],
    ids=["float", "int-key", "bytes-key", "set", "too-big", "too-small", "object", "nested-float"],
)
def test_pack_refuses_what_cannot_be_signed(value: Any) -> None:
    with pytest.raises(MalformedData):
        pack(value)


def test_integer_range_edges_pack() -> None:
    assert unpack(pack(2**64 - 1)) == 2**64 - 1
    assert unpack(pack(-(2**63))) == -(2**63)


LIMIT_CASES = {
    # name: (value, limits exactly at its size, limits one below)
    "max_bytes": ("x" * 100, DecodeLimits(max_bytes=102), DecodeLimits(max_bytes=101)),
    "max_str_len": ("abcdef", DecodeLimits(max_str_len=6), DecodeLimits(max_str_len=5)),
    "max_bin_len": (b"abcdef", DecodeLimits(max_bin_len=6), DecodeLimits(max_bin_len=5)),
    "max_array_len": ([1, 2, 3], DecodeLimits(max_array_len=3), DecodeLimits(max_array_len=2)),
    "max_map_len": (
        {"a": 1, "b": 2},
        DecodeLimits(max_map_len=2),
        DecodeLimits(max_map_len=1),
    ),
    "nested_str": ([["abcdef"]], DecodeLimits(max_str_len=6), DecodeLimits(max_str_len=5)),
}


@pytest.mark.parametrize(
    ("value", "at_limit", "over_limit"), LIMIT_CASES.values(), ids=LIMIT_CASES.keys()
)
def test_decode_limits_are_enforced(
    value: Any, at_limit: DecodeLimits, over_limit: DecodeLimits
) -> None:
    data = pack(value)
    assert unpack(data, at_limit) == value
    with pytest.raises(MalformedData):
        unpack(data, over_limit)


def test_a_huge_declared_length_is_refused_before_allocating() -> None:
    # A str32 header claiming 4 GiB, followed by almost nothing.
    data = b"\xdb\xff\xff\xff\xff" + b"x" * 10
    with pytest.raises(MalformedData):
        unpack(data)


def test_msgpack_default_encoding_of_a_map_is_what_we_sign() -> None:
    # The record layer hand-builds payloads with msgpack; both must agree byte for byte.
    value = {"v": 1, "title": "é", "blob": b"\x00", "n": [1, -1, 300]}
    assert pack(value) == msgpack.packb(value, use_bin_type=True)
