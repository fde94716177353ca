"""Negentropy protocol v1: range-based set reconciliation, sans-IO.

Two nodes find which record ids each lacks in a few round trips and a few kilobytes, however
many records they share. Build a ``Storage`` of (timestamp, id) items, then exchange the bytes
of an ``Initiator`` and a ``Responder`` over any transport::

    storage = Storage.from_sorted(rows)  # rows: (created, id) ORDER BY created, id
    initiator = Initiator(storage, frame_size_limit=60_000)
    message = initiator.initiate()
    while message is not None:
        answer = transport(message)  # the peer runs Responder(...).reconcile(message)
        message, have_ids, need_ids = initiator.reconcile(answer)

Spec: docs/negentropy-protocol-v1.md in the hoytech/negentropy repository.
"""

from federation.negentropy.bound import INFINITY, Bound
from federation.negentropy.errors import (
    InvalidVersionByte,
    MalformedMessage,
    NegentropyError,
    StorageError,
    TrailingData,
    TruncatedMessage,
    UnknownMode,
    UnsupportedProtocolVersion,
    UsageError,
)
from federation.negentropy.facade import Negentropy
from federation.negentropy.fingerprint import FINGERPRINT_SIZE, ID_SIZE, fingerprint_of_ids
from federation.negentropy.protocol import Initiator, ReconcileResult, Responder
from federation.negentropy.reply import MIN_FRAME_SIZE_LIMIT, PROTOCOL_VERSION, Mode
from federation.negentropy.storage import Storage
from federation.negentropy.varint import encode_varint

__all__ = [
    "FINGERPRINT_SIZE",
    "ID_SIZE",
    "INFINITY",
    "MIN_FRAME_SIZE_LIMIT",
    "PROTOCOL_VERSION",
    "Bound",
    "Initiator",
    "InvalidVersionByte",
    "MalformedMessage",
    "Mode",
    "Negentropy",
    "NegentropyError",
    "ReconcileResult",
    "Responder",
    "Storage",
    "StorageError",
    "TrailingData",
    "TruncatedMessage",
    "UnknownMode",
    "UnsupportedProtocolVersion",
    "UsageError",
    "encode_varint",
    "fingerprint_of_ids",
]
