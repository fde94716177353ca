"""Key statements: the signed links of a node's key history.

A node's id is its *first* key, for ever. What signs for the node today is the key named by
the last statement of its history, a chain like Keybase's sigchain or did:plc's operation log:

* **genesis**: "my first key is K, my recovery key is R", signed by K (seq 0);
* **rotation**: "after statement P, my key is K'", signed by the key P made current;
* **recovery**: "after statement P, my key is K' (and my recovery key R'); what key S signed
  at or after T is suspect", signed by the recovery key P named. A recovery may override
  rotations signed by a stolen node key (see :mod:`crypto.key_history`).

Each statement is a signed envelope (:mod:`crypto.envelope`) in the context
``rhizome/key-history/v1``; its payload is the canonical map below, and its id (the content id)
is what the next statement names as ``prev``. docs/reference/key-history.md shows the format.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crypto.canonical import DecodeLimits, pack, unpack
from crypto.envelope import open_envelope, seal
from crypto.errors import CryptoError, MalformedData
from crypto.signing import SigningIdentity

KEY_HISTORY_CONTEXT = b"rhizome/key-history/v1"
STATEMENT_VERSION = 1
GENESIS = "genesis"
ROTATION = "rotation"
RECOVERY = "recovery"
KINDS = (GENESIS, ROTATION, RECOVERY)
FIELD_ORDER = ("v", "kind", "node", "seq", "prev", "key", "recovery", "at", "suspect")
MAX_STATEMENT_BYTES = 4096
MAX_SUSPECT_KEYS = 16
STATEMENT_LIMITS = DecodeLimits(
    max_bytes=MAX_STATEMENT_BYTES, max_str_len=64, max_bin_len=MAX_STATEMENT_BYTES,
    max_array_len=MAX_SUSPECT_KEYS + 4, max_map_len=len(FIELD_ORDER),
)  # fmt: skip


class InvalidKeyStatement(CryptoError):
    """A key statement is malformed, does not verify, or breaks the rules of the chain (a
    rotation signed by a key that was not current, a recovery not signed by the recovery key).

    It is refused and nothing of it is stored. If a peer sent it, its key history is forged
    or damaged: ask its operator, over another channel, for its node id and current key."""

    code = "invalid_key_statement"


@dataclass(frozen=True)
class KeyStatement:
    """One verified statement: only :func:`open_statement` and the ``make_*`` functions make
    these, so ``signer`` signed ``raw``. Keys are 32-byte Ed25519 public keys."""

    kind: str
    node: bytes  # the first key: the node's identity
    seq: int
    prev: bytes  # id of the statement before (empty for genesis)
    key: bytes  # the node key from this statement on
    recovery: bytes  # the recovery public key from this statement on
    at: int  # when it was signed (the signer's clock, Unix seconds)
    suspect: tuple[tuple[bytes, int], ...]  # (key, since): signed by key at/after since
    signer: bytes
    statement_id: bytes
    raw: bytes

    @property
    def id_hex(self) -> str:
        return self.statement_id.hex()


def make_genesis(first: SigningIdentity, recovery_key: bytes, at: int) -> KeyStatement:
    """The first statement of a node's history, signed by its first key."""
    key = first.public_key
    return _sealed(first, GENESIS, key, 0, b"", key, recovery_key, at, ())


def make_rotation(
    current: SigningIdentity, previous: KeyStatement, new_key: bytes, at: int
) -> KeyStatement:
    """Hand the node over from the current key to ``new_key`` (signed by the current key).
    A rotation never changes the recovery key: a stolen node key must not be able to."""
    if current.public_key != previous.key:
        raise InvalidKeyStatement("only the current node key may sign a rotation")
    return _sealed(
        current, ROTATION, previous.node, previous.seq + 1, previous.statement_id, new_key,
        previous.recovery, max(at, previous.at), (),
    )  # fmt: skip


def make_recovery(
    recovery: SigningIdentity,
    previous: KeyStatement,
    new_key: bytes,
    at: int,
    suspect: tuple[tuple[bytes, int], ...] = (),
    new_recovery_key: bytes | None = None,
) -> KeyStatement:
    """Take the node back with the recovery key, after ``previous`` (the last statement the
    operator trusts), naming keys whose signatures from a moment on are suspect."""
    if recovery.public_key != previous.recovery:
        raise InvalidKeyStatement("this is not the node's recovery key")
    return _sealed(
        recovery, RECOVERY, previous.node, previous.seq + 1, previous.statement_id, new_key,
        new_recovery_key or previous.recovery, max(at, previous.at), suspect,
    )  # fmt: skip


def _sealed(
    signer: SigningIdentity, kind: str, node: bytes, seq: int, prev: bytes, key: bytes,
    recovery: bytes, at: int, suspect: tuple[tuple[bytes, int], ...],
) -> KeyStatement:  # fmt: skip
    payload = pack(
        {
            "v": STATEMENT_VERSION, "kind": kind, "node": node, "seq": seq, "prev": prev,
            "key": key, "recovery": recovery, "at": at,
            "suspect": [[suspect_key, since] for suspect_key, since in suspect],
        }
    )  # fmt: skip
    return open_statement(seal(signer, KEY_HISTORY_CONTEXT, payload).raw)


def open_statement(raw: bytes) -> KeyStatement:
    """Verify one statement's signature and fields (not yet its place in a chain)."""
    try:
        envelope = open_envelope(raw, KEY_HISTORY_CONTEXT, STATEMENT_LIMITS)
        fields = unpack(envelope.payload, STATEMENT_LIMITS)
    except CryptoError as error:
        raise InvalidKeyStatement(f"key statement: {error}") from error
    if not isinstance(fields, dict) or tuple(fields) != FIELD_ORDER:
        raise InvalidKeyStatement(f"key statement: a map of {', '.join(FIELD_ORDER)} in order")
    try:
        statement = KeyStatement(
            kind=_kind(fields["kind"]), node=_key(fields["node"]), seq=_count(fields["seq"]),
            prev=_prev(fields["prev"]), key=_key(fields["key"]),
            recovery=_key(fields["recovery"]), at=_count(fields["at"]),
            suspect=_suspect(fields["suspect"]), signer=envelope.signer,
            statement_id=envelope.content_id, raw=raw,
        )  # fmt: skip
    except MalformedData as error:
        raise InvalidKeyStatement(f"key statement: {error}") from error
    if fields["v"] != STATEMENT_VERSION:
        raise InvalidKeyStatement(f"key statement version {fields['v']!r} is not supported")
    _check_own_shape(statement)
    return statement


def _check_own_shape(statement: KeyStatement) -> None:
    """What a statement must say of itself, whatever comes before it."""
    if statement.kind == GENESIS:
        if statement.seq != 0 or statement.prev or statement.suspect:
            raise InvalidKeyStatement("a genesis statement has seq 0, no prev, no suspects")
        if not statement.signer == statement.node == statement.key:
            raise InvalidKeyStatement("a genesis statement is signed by the node's first key")
    elif statement.seq == 0 or not statement.prev:
        raise InvalidKeyStatement(f"a {statement.kind} statement follows another one")
    if statement.kind == ROTATION and statement.suspect:
        raise InvalidKeyStatement("only a recovery marks keys as suspect")


def _kind(value: Any) -> str:
    if value not in KINDS:
        raise MalformedData(f"kind must be one of {', '.join(KINDS)}")
    return str(value)


def _key(value: Any) -> bytes:
    if not isinstance(value, bytes) or len(value) != 32:
        raise MalformedData("a key is 32 bytes")
    return value


def _prev(value: Any) -> bytes:
    if not isinstance(value, bytes) or len(value) not in (0, 32):
        raise MalformedData("prev is a 32-byte statement id (empty for genesis)")
    return value


def _count(value: Any) -> int:
    if type(value) is not int or value < 0:
        raise MalformedData("seq and at are integers of zero or more")
    return value


def _suspect(value: Any) -> tuple[tuple[bytes, int], ...]:
    if not isinstance(value, list) or len(value) > MAX_SUSPECT_KEYS:
        raise MalformedData(f"suspect is a list of at most {MAX_SUSPECT_KEYS} [key, since]")
    marks = []
    for item in value:
        if not isinstance(item, list) or len(item) != 2:
            raise MalformedData("each suspect entry is [key, since]")
        marks.append((_key(item[0]), _count(item[1])))
    return tuple(marks)
