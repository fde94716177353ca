"""Varints and a bounds-checked reader for incoming messages.

A Negentropy varint is base-128, most significant digit first, the high bit set on every
byte but the last. Every value on the wire fits in 64 bits, so a longer varint is refused
rather than decoded into an unbounded Python int.
"""

from __future__ import annotations

from federation.negentropy.errors import MalformedMessage, TruncatedMessage

MAX_VARINT = 2**64 - 1
_MAX_VARINT_BYTES = 10  # ceil(64 / 7)


def encode_varint(value: int) -> bytes:
    """Encode a non-negative integer as a Negentropy varint (``0`` is one zero byte)."""
    if value < 0:
        raise ValueError(f"varint must be non-negative, got {value}")
    digits = [value & 0x7F]
    value >>= 7
    while value:
        digits.append((value & 0x7F) | 0x80)
        value >>= 7
    digits.reverse()
    return bytes(digits)


class MessageReader:
    """Reads fields from one incoming message, front to back, never past its end."""

    __slots__ = ("_data", "_position")

    def __init__(self, data: bytes) -> None:
        self._data = bytes(data)
        self._position = 0

    @property
    def remaining(self) -> int:
        return len(self._data) - self._position

    def at_end(self) -> bool:
        return self._position == len(self._data)

    def read_byte(self) -> int:
        if self.at_end():
            raise TruncatedMessage("message ends where a byte was expected")
        byte = self._data[self._position]
        self._position += 1
        return byte

    def read_bytes(self, count: int) -> bytes:
        if count > self.remaining:
            raise TruncatedMessage(f"message ends {count - self.remaining} bytes early")
        start = self._position
        self._position += count
        return self._data[start : self._position]

    def read_varint(self) -> int:
        value = 0
        for _ in range(_MAX_VARINT_BYTES):
            byte = self.read_byte()
            value = (value << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        else:
            raise MalformedMessage("varint longer than 10 bytes")
        if value > MAX_VARINT:
            raise MalformedMessage("varint does not fit in 64 bits")
        return value
