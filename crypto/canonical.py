"""Canonical msgpack: one value, exactly one byte string.

Signatures and ids are computed over bytes, so every value we sign must have a single
encoding. We allow only nil, booleans, integers, UTF-8 strings, byte strings, arrays and
maps with string keys; no floats (their text form is ambiguous) and no extension types.
msgpack-python always picks the shortest form for integers and lengths, and maps keep the
insertion order the caller chose, so ``pack`` is canonical as long as callers fix their key
order; ``unpack`` proves it by re-encoding and comparing.

Only bytes that something signs in their re-encoded form need that proof. A federation
request body is covered as bytes by its signed digest, and the records, revocations and
receipts it carries are each opened with ``unpack``; so a body is read with
:func:`unpack_message`: the same caps and types, a repeated key refused, no re-encoding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgpack

from crypto.errors import MalformedData, NonCanonicalEncoding

_MAX_INT = 2**64 - 1
_MIN_INT = -(2**63)


@dataclass(frozen=True)
class DecodeLimits:
    """Caps applied *while* decoding, so junk cannot make us allocate before we check it."""

    max_bytes: int = 1 << 20
    max_str_len: int = 1 << 20
    max_bin_len: int = 1 << 20
    max_array_len: int = 10_000
    max_map_len: int = 1_000


DEFAULT_LIMITS = DecodeLimits()


MAX_DEPTH = 32


class NestedTooDeep(MalformedData):
    """Arrays or maps nested deeper than any Rhizome structure (a stack-exhaustion probe)."""


def _check_value(value: Any, path: str, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise NestedTooDeep(f"{path}: nested more than {MAX_DEPTH} levels deep")
    if value is None or isinstance(value, bool | str | bytes):
        return
    if isinstance(value, int):
        if not _MIN_INT <= value <= _MAX_INT:
            raise MalformedData(f"{path}: integer out of range")
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_value(item, f"{path}[{index}]", depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise MalformedData(f"{path}: map keys must be strings")
            _check_value(item, f"{path}.{key}", depth + 1)
        return
    raise MalformedData(f"{path}: {type(value).__name__} cannot be signed")


_PLAIN = frozenset({type(None), bool, str, bytes})


def _plainly_packable(value: Any, depth: int = 0) -> bool:
    """The fast check every value we pack takes (no paths built); only a value that fails
    it goes through :func:`_check_value`, which names where the problem is."""
    kind = type(value)
    if kind in _PLAIN:
        return True
    if kind is int:
        return bool(_MIN_INT <= value <= _MAX_INT)
    if depth >= MAX_DEPTH:
        return False
    if kind is list or kind is tuple:
        return all(_plainly_packable(item, depth + 1) for item in value)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not _plainly_packable(item, depth + 1):
                return False
        return True
    return False


def pack(value: Any) -> bytes:
    """The canonical bytes of ``value`` (maps in the caller's key order)."""
    if not _plainly_packable(value):
        _check_value(value, "value")
    data: bytes = msgpack.packb(value, use_bin_type=True, strict_types=False)
    return data


def unpack(data: bytes, limits: DecodeLimits = DEFAULT_LIMITS) -> Any:
    """Decode ``data`` and prove it is canonical; raise on junk, limits or other encodings."""
    value = _decode(data, limits)
    try:
        again = pack(value)
    except NestedTooDeep:
        raise
    except MalformedData as error:
        raise NonCanonicalEncoding(f"not canonical: {error}") from error
    if again != data:
        _refuse_duplicate_keys(data, limits)
        raise NonCanonicalEncoding("msgpack is valid but not in canonical form")
    return value


def unpack_message(data: bytes, limits: DecodeLimits = DEFAULT_LIMITS) -> Any:
    """Decode ``data`` under the same caps and types as :func:`unpack`, refusing a map that
    names a key twice, without proving the encoding canonical (see the module doc)."""
    value = _decode(data, limits, _no_duplicates)
    if not _plainly_packable(value):
        _check_value(value, "value")
    return value


def _decode(data: bytes, limits: DecodeLimits, pairs_hook: Any = None) -> Any:
    """One msgpack value, under ``limits``, with nothing after it and not a float."""
    if len(data) > limits.max_bytes:
        raise MalformedData(f"{len(data)} bytes is over the limit of {limits.max_bytes}")
    unpacker = _unpacker(limits, pairs_hook)
    try:
        unpacker.feed(data)
        value = unpacker.unpack()
    except msgpack.OutOfData as error:
        raise MalformedData("truncated msgpack") from error
    except (ValueError, TypeError, msgpack.UnpackException) as error:
        raise MalformedData(f"not valid msgpack ({error})") from error
    except RecursionError as error:
        raise NestedTooDeep("msgpack nested too deeply") from error
    if unpacker.tell() != len(data):
        raise MalformedData("trailing bytes after msgpack value")
    if isinstance(value, float):
        raise MalformedData("floats cannot be signed")
    return value


def _unpacker(limits: DecodeLimits, pairs_hook: Any = None) -> msgpack.Unpacker:
    return msgpack.Unpacker(
        raw=False,
        strict_map_key=True,
        use_list=True,
        object_pairs_hook=pairs_hook,
        max_buffer_size=max(limits.max_bytes, 1),
        max_str_len=limits.max_str_len,
        max_bin_len=limits.max_bin_len,
        max_array_len=limits.max_array_len,
        max_map_len=limits.max_map_len,
        max_ext_len=0,
    )


class DuplicateKey(NonCanonicalEncoding):
    """A map names the same key twice: msgpack would keep the last, so two readers could
    see two different values. Refused whole, whatever the key."""


def _refuse_duplicate_keys(data: bytes, limits: DecodeLimits) -> None:
    """Say plainly when a duplicate key is why ``data`` is not canonical. Only bytes that
    failed the canonical check come here, so the usual path pays nothing for it."""
    unpacker = _unpacker(limits, _no_duplicates)
    unpacker.feed(data)
    unpacker.unpack()


def _no_duplicates(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        keys = [key for key, _ in pairs]
        twice = next(key for index, key in enumerate(keys) if key in keys[:index])
        raise DuplicateKey(f"a map names the key {str(twice)[:64]!r} twice")
    return value
