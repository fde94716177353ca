"""The node's own key history: start it, rotate the node key, recover with the recovery key.

Every change goes the same way: the new key file is written beside the old one first
(``node.key.next``), then the statement is stored with an event-log entry in one
transaction, then the new file replaces the old one. A crash in between leaves the history
naming a key that ``node.key.next`` holds: :func:`check_node_key` says so, and moving the
file finishes the change. The old key is overwritten, never kept: a retired key that still
rests on the disk only helps whoever seizes it.

The recovery key is never stored in the home: :func:`rotate_node_key` makes one when the
node has no history yet (a home made before key histories) and hands it back once, for the
operator to print or share out (crypto/recovery_code.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlite_utils

from archive.db import transaction
from archive.event_log import append_event
from archive.key_store import (
    current_key,
    keys_of,
    load_key_history,
    save_key_history,
    statements_of,
)
from crypto.errors import KeyFileError
from crypto.key_history import KeyHistory
from crypto.key_statements import (
    InvalidKeyStatement,
    KeyStatement,
    make_genesis,
    make_recovery,
    make_rotation,
    open_statement,
)
from crypto.keyfile import write_key_file
from crypto.node_id import node_id_from_public_key, public_key_from_node_id
from crypto.signing import SigningIdentity
from node.errors import NodeError
from node.serve_lock import current_holder
from node.tls import ensure_certificate

if TYPE_CHECKING:
    from node.node import Node


@dataclass(frozen=True)
class KeyChange:
    """What a rotation or a recovery did."""

    statement: KeyStatement
    previous_key: bytes
    new_recovery: SigningIdentity | None = None  # made now: show it once, never store it


def start_key_history(
    db: sqlite_utils.Database, first: SigningIdentity, recovery_key: bytes, now: int
) -> KeyStatement:
    """The genesis statement of a new node (``init``): its first key and recovery key."""
    genesis = make_genesis(first, recovery_key, now)
    # No event-log entry: the statement is signed and stored by itself, and `rhizome verify`
    # checks the whole history; init's one entry stays the operator member's.
    save_key_history(db, first.node_id, [genesis.raw], now)
    return genesis


def own_key_history(node: Node) -> KeyHistory:
    return load_key_history(node.db, node.node_id, node.now())


def check_node_key(db: sqlite_utils.Database, node_id: str, key_path: Path,
                   identity: SigningIdentity) -> SigningIdentity:  # fmt: skip
    """``identity`` (read from ``key_path``) speaking for ``node_id``, if it is the node's
    current key; a clear error otherwise (a retired key, another node's key)."""
    expected = current_key(db, node_id)
    if identity.public_key not in keys_of(db, node_id):
        raise KeyFileError(
            f"{key_path}: this key belongs to node {identity.key_id}, not to {node_id} "
            "named in config.toml"
        )
    if identity.public_key != expected:
        pending = _next_path(key_path)
        hint = (
            f" A key rotation was interrupted: {pending.name} holds the current key; move it "
            f"to {key_path.name}."
            if pending.exists()
            else " If the key was rotated elsewhere, restore this home's latest backup."
        )
        raise KeyFileError(
            f"{key_path}: this key ({identity.key_id}) was retired by a key rotation; the "
            f"current key of node {node_id} is {node_id_from_public_key(expected)}.{hint}"
        )
    return SigningIdentity.from_seed(identity.seed, public_key_from_node_id(node_id))


class ServedWhileChangingKey(NodeError):
    """``rhizome serve`` runs on this home: it holds the old key in memory and presents it in
    TLS. Stop it (Ctrl-C, or ``kill PID``), run the key command, then start it again."""


def _require_not_served(node: Node) -> None:
    holder = current_holder(node.paths.root)
    if holder is not None:
        raise ServedWhileChangingKey(
            f"rhizome serve runs on this home ({holder.describe()}): stop it, change the key, "
            "then start it again (it must present the new key to peers)"
        )


def rotate_node_key(node: Node, *, recovery_key: bytes | None = None) -> KeyChange:
    """Hand the node over to a fresh key, signed by the current one."""
    _require_not_served(node)
    current, now = node.identity, node.now()
    new_recovery = None
    if not statements_of(node.db, node.node_id):  # a home made before key histories
        if recovery_key is None:
            new_recovery = SigningIdentity.generate()
            recovery_key = new_recovery.public_key
        if current.public_key != public_key_from_node_id(node.node_id):
            raise KeyFileError("this home has no key history, yet its key is not its first key")
        start_key_history(node.db, SigningIdentity.from_seed(current.seed), recovery_key, now)
    head = _head(node)
    fresh = SigningIdentity.generate()
    statement = make_rotation(current, head, fresh.public_key, now)
    _switch_key(node, fresh, statement, "key.rotated")
    return KeyChange(statement, current.public_key, new_recovery)


def recover_node_key(
    node: Node,
    recovery: SigningIdentity,
    *,
    compromised_since: int | None,
    after: str | None = None,
    new_recovery: bool = False,
) -> KeyChange:
    """Take the node back with its recovery key: a new node key, signed by the recovery key,
    following the last statement the operator trusts (``after``, a statement id prefix; by
    default the last one signed before ``compromised_since``, else the head). What the
    replaced key signed from ``compromised_since`` on is marked suspect for every peer."""
    _require_not_served(node)
    history = own_key_history(node)
    trusted = trusted_statement(history, after, compromised_since)
    if recovery.public_key != trusted.recovery:
        raise InvalidKeyStatement("this recovery key is not the one this node's history names")
    suspect = () if compromised_since is None else ((trusted.key, compromised_since),)
    fresh, replacement = SigningIdentity.generate(), None
    if new_recovery:
        replacement = SigningIdentity.generate()
    statement = make_recovery(
        recovery, trusted, fresh.public_key, node.now(), suspect,
        replacement.public_key if replacement else None,
    )  # fmt: skip
    _switch_key(node, fresh, statement, "key.recovered")
    return KeyChange(statement, trusted.key, replacement)


def trusted_statement(
    history: KeyHistory, after: str | None, compromised_since: int | None
) -> KeyStatement:
    chosen = [*history.chain, *history.overridden, *(history.fork or ())]
    if after is not None:
        matches: dict[bytes, KeyStatement] = {
            s.statement_id: s for s in chosen if s.id_hex.startswith(after.lower())
        }
        if len(matches) != 1:
            raise InvalidKeyStatement(f"--after {after}: names {len(matches)} statements")
        return next(iter(matches.values()))
    if not history.chain:
        raise InvalidKeyStatement("this node has no key history to recover (rotate first)")
    if compromised_since is None:
        return history.chain[-1]
    before = [s for s in history.chain if s.at < compromised_since]
    return before[-1] if before else history.chain[0]


def _head(node: Node) -> KeyStatement:
    history = own_key_history(node)
    if history.fork is not None:
        raise InvalidKeyStatement(
            "this node's own key history forked: only a recovery (`rhizome key recover`) settles it"
        )
    head = history.head
    assert head is not None  # statements exist: checked or made by the caller
    return head


def _switch_key(node: Node, fresh: SigningIdentity, statement: KeyStatement, kind: str) -> None:
    """Write the new key beside the old, store the statement, then swap the files."""
    key_path, pending = node.paths.key, _next_path(node.paths.key)
    pending.unlink(missing_ok=True)
    _write_node_key(node, pending, fresh.seed)
    now = node.now()
    with transaction(node.db):
        save_key_history(node.db, node.node_id, [statement.raw], now)
        detail = {
            "statement": statement.id_hex,
            "key": node_id_from_public_key(statement.key),
            "signed_by": node_id_from_public_key(statement.signer),
        }
        signer = SigningIdentity.from_seed(fresh.seed, public_key_from_node_id(node.node_id))
        append_event(node.db, signer, kind, node.node_id, detail, now)
    _overwrite(key_path)
    os.replace(pending, key_path)
    node.__dict__.pop("identity", None)  # the cached key is the old one
    ensure_certificate(node.paths.root, node.identity)  # TLS presents the new key


def _write_node_key(node: Node, path: Path, seed: bytes) -> None:
    """Seal the new key as the home seals keys: with the home key in a sealed home, else
    with the node key's passphrase when it had one."""
    keys = getattr(node, "keys", None)  # node/sealed_home.py's holder, in a sealed home
    home_key = keys.home_key() if keys is not None and keys.sealed else None
    if home_key is not None:
        sealed_writer: Any = write_key_file  # takes home_key in a sealed home's code
        sealed_writer(path, seed, None, home_key=home_key)
    else:
        write_key_file(path, seed, node.passphrase_if_sealed())


def _overwrite(path: Path) -> None:
    """Zero the retired key file's bytes before it is replaced (best effort: a journaling or
    copy-on-write file system may keep old blocks; the passphrase still seals them)."""
    try:
        size = path.stat().st_size
        with path.open("r+b") as handle:
            handle.write(b"\0" * size)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError:
        return  # nothing there to scrub


def _next_path(key_path: Path) -> Path:
    return key_path.with_name(key_path.name + ".next")


def statement_summary(statement: KeyStatement) -> dict[str, object]:
    """One statement in words and ids, for ``key history`` and the JSON API."""
    return {
        "seq": statement.seq,
        "kind": statement.kind,
        "id": statement.id_hex,
        "at": statement.at,
        "key": node_id_from_public_key(statement.key),
        "signed_by": node_id_from_public_key(statement.signer),
        "suspect": [
            {"key": node_id_from_public_key(key), "since": since}
            for key, since in statement.suspect
        ],
    }


def peer_statements(raws: list[bytes]) -> list[KeyStatement]:
    return [open_statement(raw) for raw in raws]
