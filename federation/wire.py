"""Federation messages on the wire, sans-IO: msgpack maps checked at the edge.

Each body is decoded with hard caps *before* anything is allocated (see
:data:`BODY_LIMITS`), then checked against the message's schema: exact field names, types
and sizes. Anything else is a :class:`PeerProtocolError`, which the HTTP layer turns into a
400 with the one error shape. The limits are documented in docs/reference/federation-protocol.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crypto.canonical import DecodeLimits, pack, unpack_message
from crypto.errors import CryptoError
from federation.errors import PeerProtocolError

MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_RECORDS_PER_MESSAGE = 500
MAX_IDS_PER_MESSAGE = 2_000
MAX_RECONCILE_BYTES = 256 * 1024
FRAME_SIZE_LIMIT = 128 * 1024
MAX_TEXT = 1_000
MAX_DECLARATION_BYTES = 2048  # federation.purposes.MAX_DECLARATION_BYTES
BODY_LIMITS = DecodeLimits(
    max_bytes=MAX_BODY_BYTES,
    max_str_len=MAX_TEXT,
    max_bin_len=MAX_RECONCILE_BYTES * 4,
    max_array_len=MAX_IDS_PER_MESSAGE,
    max_map_len=16,
)


@dataclass(frozen=True)
class Field:
    """One field of a message: its Python type and a bound (bytes length, text length,
    number value or number of items, checked exactly when ``exact``). Lists always hold
    byte strings of at most ``item_bound`` bytes. An ``optional`` field may be absent."""

    kind: type
    bound: int
    exact: bool = False
    item_bound: int = 0
    exact_items: bool = False
    # A field a node older than it does not send: absent is allowed, never another type.
    optional: bool = False


Schema = dict[str, Field]

# A node's key history (federation/key_exchange.py): its signed statements, either way.
MAX_KEY_STATEMENTS = 256  # crypto.key_history.MAX_STATEMENTS
MAX_KEY_STATEMENT_BYTES = 4096  # crypto.key_statements.MAX_STATEMENT_BYTES
KEY_HISTORY: Schema = {
    "statements": Field(list, MAX_KEY_STATEMENTS, item_bound=MAX_KEY_STATEMENT_BYTES)
}
# Pairing carries each side's own key history ("statements"; empty for a node made before
# key histories): a node that rotated signs with a key the other cannot yet tie to its id.
PAIR_REQUEST: Schema = {
    "invite": Field(bytes, 32, exact=True),
    "proof": Field(bytes, 32, exact=True),
    "node_id": Field(str, 80),
    "name": Field(str, 200),
    "region": Field(str, 200),
    "url": Field(str, 500),
    **KEY_HISTORY,
    # The sender's signed purposes declaration (federation/purposes.py), when it made one.
    "purposes": Field(bytes, MAX_DECLARATION_BYTES, optional=True),
}
PAIR_RESPONSE: Schema = {
    "node_id": Field(str, 80),
    "name": Field(str, 200),
    "region": Field(str, 200),
    "url": Field(str, 500),
    "signature": Field(bytes, 64, exact=True),
    **KEY_HISTORY,
    "purposes": Field(bytes, MAX_DECLARATION_BYTES, optional=True),
}
RECONCILE_REQUEST: Schema = {
    "session": Field(str, 64),
    "msg": Field(bytes, MAX_RECONCILE_BYTES),
}
RECONCILE_RESPONSE: Schema = {"msg": Field(bytes, MAX_RECONCILE_BYTES)}
FETCH_REQUEST: Schema = {
    "ids": Field(list, MAX_RECORDS_PER_MESSAGE, item_bound=32, exact_items=True)
}
# Records leave in answers of at most BATCH_BYTES, well under the body limit whatever the
# records' sizes; ``handled`` says how many of the asked ids this answer covers.
BATCH_BYTES = MAX_BODY_BYTES // 2
FETCHED: Schema = {
    "records": Field(list, MAX_RECORDS_PER_MESSAGE, item_bound=1 << 20),
    "handled": Field(int, MAX_RECORDS_PER_MESSAGE),
}
RECORDS: Schema = {
    "records": Field(list, MAX_RECORDS_PER_MESSAGE, item_bound=1 << 20),
}
MAX_REVOCATIONS_PER_MESSAGE = 100
MAX_STATEMENT_BYTES = 64 * 1024
# A push answer carries the revocations of any withdrawn record the sender offered, so a
# stale copy purges in the same exchange, whichever address its node id is known by.
PUSH_RESPONSE: Schema = {
    "stored": Field(int, 1 << 31),
    "duplicates": Field(int, 1 << 31),
    "rejected": Field(int, 1 << 31),
    "revocations": Field(list, MAX_REVOCATIONS_PER_MESSAGE, item_bound=MAX_STATEMENT_BYTES),
}
NOTIFY: Schema = {}
MAX_RECEIPTS_PER_MESSAGE = 1_000
REVOCATIONS: Schema = {
    "revocations": Field(list, MAX_REVOCATIONS_PER_MESSAGE, item_bound=MAX_STATEMENT_BYTES)
}
RECEIPTS: Schema = {
    "receipts": Field(list, MAX_RECEIPTS_PER_MESSAGE, item_bound=MAX_STATEMENT_BYTES)
}
# Receipts pushed to a peer are answered with its signed ack of them (federation.acks):
# only that removes them from our outbox.
ACCEPTED: Schema = {
    "accepted": Field(int, 1 << 31),
    "ack": Field(bytes, MAX_STATEMENT_BYTES),
}
OUTBOX: Schema = {**REVOCATIONS, **RECEIPTS}
# After a pull, the puller acks the receipts it processed; revocations are acked by the
# purge receipts it sends.
ACK: Schema = {"ack": Field(bytes, MAX_STATEMENT_BYTES)}
ACKED: Schema = {"removed": Field(int, 1 << 31)}
# Ids the asker holds and the answerer lacks (from reconciliation): the answer carries the
# revocations the answerer knows for any of them, so a stale copy purges in the same exchange.
TOMBSTONE_QUERY: Schema = {
    "ids": Field(list, MAX_IDS_PER_MESSAGE, item_bound=32, exact_items=True)
}
TOMBSTONES: Schema = {
    "revocations": Field(list, MAX_REVOCATIONS_PER_MESSAGE, item_bound=MAX_STATEMENT_BYTES)
}
# The signed echo (federation/echo.py): the asker's nonce in, the peer's signed statement out.
MAX_ECHO_BYTES = 4 * 1024
ECHO_REQUEST: Schema = {"nonce": Field(bytes, 16, exact=True)}
ECHO_ANSWER: Schema = {"statement": Field(bytes, MAX_ECHO_BYTES)}
# A node's own address, told to a peer in a request signed with its node key
# (federation/address.py): how peers paired over http:// learn the https:// one.
ADDRESS: Schema = {"url": Field(str, 500)}
ADDRESS_ANSWER: Schema = {"updated": Field(int, 1)}
# The key-history exchange (KEY_HISTORY above) is answered with the answerer's own and with
# what it holds of the caller's history ("yours"): a node restored from an old backup learns
# its later rotations, and a stolen key's, there.
# Key histories of other nodes (federation/key_relay.py): a relay that passed on a record
# signed by a later key of its origin answers with the origin's history it verified.
MAX_HISTORIES_ASKED = 4
KEY_HISTORIES_QUERY: Schema = {
    "nodes": Field(list, MAX_HISTORIES_ASKED, item_bound=32, exact_items=True)
}
KEY_HISTORIES: Schema = {
    "statements": Field(
        list, MAX_HISTORIES_ASKED * MAX_KEY_STATEMENTS, item_bound=MAX_KEY_STATEMENT_BYTES
    )
}
# A node's purposes declaration after a change (federation/purposes_announce.py).
PURPOSES: Schema = {"declaration": Field(bytes, MAX_DECLARATION_BYTES)}
PURPOSES_ANSWER: Schema = {"updated": Field(int, 1)}
KEY_HISTORY_ANSWER: Schema = {
    **KEY_HISTORY,
    "yours": Field(list, MAX_KEY_STATEMENTS, item_bound=MAX_KEY_STATEMENT_BYTES),
}
# "This node is gone" (federation/gone.py): a wiped node's signed notice, one per peer.
MAX_GONE_NOTICE_BYTES = 1024
GONE_NOTICE: Schema = {"notice": Field(bytes, MAX_GONE_NOTICE_BYTES)}
GONE_ANSWER: Schema = {"noted": Field(int, 1)}
# A node restored from a backup asks each peer for the revocations it issued itself
# (federation/relearn.py), a page at a time: ``after`` is the last revocation id it got.
OWN_REVOCATIONS_QUERY: Schema = {"after": Field(str, 64)}
OWN_REVOCATIONS: Schema = {
    "revocations": Field(list, MAX_REVOCATIONS_PER_MESSAGE, item_bound=MAX_STATEMENT_BYTES),
    "more": Field(int, 1),
}
# A node recovered on a fresh machine with no backup (federation/recovery.py): asked with
# no statements, signed by its recovery key, a peer answers with the node's history as it
# holds it; then with the recovery statement, signed by the new node key, it takes the
# recovery and answers with what the node needs to rebuild the pairing.
RECOVER_REQUEST: Schema = {
    "node": Field(str, 80),
    "statements": Field(list, MAX_KEY_STATEMENTS, item_bound=MAX_KEY_STATEMENT_BYTES),
}
RECOVER_ANSWER: Schema = {
    "yours": Field(list, MAX_KEY_STATEMENTS, item_bound=MAX_KEY_STATEMENT_BYTES),
    "your_name": Field(str, 200),
    "your_region": Field(str, 200),
    "node_id": Field(str, 80),
    "name": Field(str, 200),
    "region": Field(str, 200),
    "url": Field(str, 500),
    "statements": Field(list, MAX_KEY_STATEMENTS, item_bound=MAX_KEY_STATEMENT_BYTES),
}
# The recovered node asks each peer for the records it originated that the peer holds
# (federation/own_records.py), a page at a time: ``after`` is the last record id it got.
OWN_RECORDS_QUERY: Schema = {"after": Field(str, 64)}
OWN_RECORDS: Schema = {
    "records": Field(list, MAX_RECORDS_PER_MESSAGE, item_bound=1 << 20),
    "more": Field(int, 1),
}
# A hub's signed notices that a member was removed or had their key compromised
# (federation/member_notices.py), handed to each peer until it acknowledged them.
MAX_MEMBER_NOTICES = 64
MEMBER_NOTICES: Schema = {"notices": Field(list, MAX_MEMBER_NOTICES, item_bound=1024)}
MEMBER_NOTICES_ANSWER: Schema = {"noted": Field(int, MAX_MEMBER_NOTICES)}


def encode(schema: Schema, values: dict[str, Any]) -> bytes:
    """The body of a message; checks our own output against the same schema."""
    ordered = {
        name: values[name] for name, spec in schema.items()
        if not (spec.optional and values.get(name) is None)
    }  # fmt: skip
    _check(schema, ordered)
    return pack(ordered)


def decode(schema: Schema, body: bytes) -> dict[str, Any]:
    """Decode and check a message body from the other node.

    A body need not be in canonical form: it is covered as bytes by the request's signed
    digest, and what it carries that is signed (records, revocations, receipts, acks) is
    opened and proven canonical on its own. A repeated key is still refused."""
    try:
        value = unpack_message(body, BODY_LIMITS)
    except CryptoError as error:
        raise PeerProtocolError(f"body is not a valid message: {error}") from error
    if not isinstance(value, dict):
        raise PeerProtocolError("body must be a msgpack map")
    _check(schema, value)
    return value


def _check(schema: Schema, value: dict[str, Any]) -> None:
    required = {name for name, spec in schema.items() if not spec.optional}
    if not required <= set(value) <= set(schema):
        expected = ", ".join(
            name + (" (optional)" if spec.optional else "") for name, spec in schema.items()
        )
        raise PeerProtocolError(f"message fields must be exactly: {expected or 'no fields'}")
    for name, spec in schema.items():
        if name in value:
            _check_field(name, spec, value[name])


def _check_field(name: str, spec: Field, value: Any) -> None:
    if not isinstance(value, spec.kind) or (spec.kind is int and isinstance(value, bool)):
        raise PeerProtocolError(f"field '{name}' must be {spec.kind.__name__}")
    item: Any = value  # isinstance with a runtime type narrows to object; keep it Any
    size = item if spec.kind is int else len(item)
    if size > spec.bound or size < 0 or (spec.exact and size != spec.bound):
        raise PeerProtocolError(f"field '{name}' is out of bounds")
    if spec.kind is list:
        for element in item:
            too_long = len(element) > spec.item_bound if isinstance(element, bytes) else True
            if too_long or (spec.exact_items and len(element) != spec.item_bound):
                raise PeerProtocolError(f"field '{name}' holds an item of the wrong type or size")
