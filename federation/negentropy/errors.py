"""Errors raised by the Negentropy reconciliation code.

Two families, as h11 splits them: the peer broke the protocol (``MalformedMessage`` and its
subclasses, ``UnsupportedProtocolVersion``), or we used the API wrong (``StorageError``,
``UsageError``). Every one is a ``RhizomeError``, so the CLI and the HTTP error middleware
report it in one line instead of a traceback.
"""

from __future__ import annotations

from crypto.errors import MalformedData, RhizomeError


class NegentropyError(RhizomeError):
    """A set reconciliation failed; the session cannot go on.

    Start a new session; the stored records are not affected.
    """


class MalformedMessage(NegentropyError, MalformedData):
    """The peer sent bytes that are not a Negentropy v1 message.

    Drop the session. If it happens again with the same peer, its software is broken or
    hostile: ask its operator which version they run.
    """


class TruncatedMessage(MalformedMessage):
    """The message ends in the middle of a field (lost bytes, or a cut-off frame)."""


class InvalidVersionByte(MalformedMessage):
    """The first byte is not a Negentropy protocol version (0x60 to 0x6F)."""


class UnknownMode(MalformedMessage):
    """A range names a mode other than Skip (0), Fingerprint (1) or IdList (2)."""


class TrailingData(MalformedMessage):
    """Bytes follow the range that already ends at infinity; nothing may come after it."""


class UnsupportedProtocolVersion(NegentropyError):
    """The peer answered with a protocol version we do not speak (we speak v1 only).

    The peer's software is newer and cannot fall back to v1: upgrade Rhizome.
    """


class StorageError(NegentropyError):
    """The items given to a storage are invalid (bad id size, reserved timestamp, duplicate,
    out of order) or the storage was used before ``seal()``. This is a bug in the caller."""


class UsageError(NegentropyError):
    """The reconciler was used out of turn (initiated twice, wrong role, tiny frame limit).
    This is a bug in the caller."""
