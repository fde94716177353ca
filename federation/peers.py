"""The peer directory: who we trust, their address and standing, and strikes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import sqlite_utils

from archive.db import transaction
from crypto.errors import InvalidNodeId
from crypto.node_id import normalize_node_id
from federation.errors import UnknownPeer
from federation.exchanges import record_outbound
from federation.peer_state import PAIR, STORED_STATES, UNPAIRED, PeerStateError, next_state
from federation.purposes import PurposesDeclaredByPeer, clean_purposes, declared_by_peer
from governance.decisions import PeerFacts

PEER_STATUSES = STORED_STATES
_COLUMNS = (
    "node_id, name, region, url, status, added_at, last_sync, last_error, strikes, purposes"
)


@dataclass(frozen=True)
class Peer:
    node_id: str
    name: str
    region: str
    url: str
    status: str
    added_at: int
    last_sync: int | None
    last_error: str | None
    strikes: int
    # What the peer declared it uses lessons for (JSON list in the row; consent purposes).
    purposes: tuple[str, ...] = ()

    @classmethod
    def from_row(cls, row: Any) -> Peer:
        node_id, name, region, url, status, added_at, last_sync, last_error, strikes, said = row
        return cls(
            node_id, name, region, url, status, added_at, last_sync, last_error, strikes,
            tuple(json.loads(said or "[]")),
        )  # fmt: skip

    @property
    def facts(self) -> PeerFacts:
        return PeerFacts(
            node_id=self.node_id, name=self.name, region=self.region, status=self.status,
            purposes=self.purposes,
        )  # fmt: skip


def get_peer(db: sqlite_utils.Database, node_id: str) -> Peer | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM peers WHERE node_id = ?", [node_id]).fetchone()
    return None if row is None else Peer.from_row(row)


def list_peers(db: sqlite_utils.Database, include_removed: bool = False) -> list[Peer]:
    where = "" if include_removed else "WHERE status != 'removed'"
    rows = db.execute(f"SELECT {_COLUMNS} FROM peers {where} ORDER BY name").fetchall()
    return [Peer.from_row(row) for row in rows]


def resolve_peer(db: sqlite_utils.Database, text: str, include_removed: bool = False) -> Peer:
    """A peer by node id (any spelling) or by its unique name; a removed one only when
    asked (a status change must find it, to say it was removed)."""
    try:
        peer = get_peer(db, normalize_node_id(text))
    except InvalidNodeId:
        peer = None
    if peer is not None and (include_removed or peer.status != "removed"):
        return peer
    known = list_peers(db, include_removed)
    matches = [p for p in known if p.name.casefold() == text.strip().casefold()]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise UnknownPeer(f"several peers are named {text!r}: use the node id")
    raise UnknownPeer(f"no peer {text!r}; `rhizome peer list` shows your peers")


def is_peer_url(url: str) -> bool:
    """An address we may call back: http(s), a host, nothing else."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not parts.username


def unique_name(db: sqlite_utils.Database, node_id: str, name: str) -> str:
    """The name a peer chose, unless another peer has it: then with its short id added.

    Names are chosen by the peers themselves; policy sections and commands find peers by
    name, so a newcomer must never take over the name of a peer we already trust.
    """
    taken = db.execute(
        "SELECT 1 FROM peers WHERE name = ? COLLATE NOCASE AND node_id != ?", [name, node_id]
    ).fetchone()
    return f"{name} ({node_id.split('-', 1)[0]})" if taken else name


def save_peer(
    db: sqlite_utils.Database, node_id: str, name: str, region: str, url: str, now: int
) -> None:
    """Add a peer as active, or re-activate one we knew and update its address.

    A peer's name and region are what the operator saw and confirmed when it first paired;
    a later pairing answer or request never changes them, so a peer cannot rename itself
    into another's policy section or move itself into a region the policy or a record's
    consent allows (issue 11). The node id is what policy follows.
    """
    known = get_peer(db, node_id)
    status = next_state(UNPAIRED if known is None else known.status, PAIR)
    name = unique_name(db, node_id, name.strip())
    db.execute(
        "INSERT INTO peers (node_id, name, region, url, status, added_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (node_id) DO UPDATE SET "
        "url = excluded.url, status = excluded.status",
        [node_id, name, region, url, status, now],
    )


def change_peer_status(db: sqlite_utils.Database, node_id: str, event: str) -> str:
    """Move a peer by ``event`` (``suspend``, ``resume``, ``remove``) as the table in
    :mod:`federation.peer_state` allows, and return its new status; raises
    :class:`~federation.peer_state.PeerStateError` (naming its state) when it may not."""
    with transaction(db):
        known = get_peer(db, node_id)
        if known is None:
            raise PeerStateError(UNPAIRED, event)
        status = next_state(known.status, event)
        db.execute("UPDATE peers SET status = ? WHERE node_id = ?", [status, node_id])
    return status


def add_strike(
    db: sqlite_utils.Database, node_id: str, reason: str, now: int, record_id: str | None = None
) -> None:
    """Remember that a peer broke a rule (shown in ``peer list``)."""
    with transaction(db):
        db.execute(
            "INSERT INTO strikes (peer_id, at, reason, record_id) VALUES (?, ?, ?, ?)",
            [node_id, now, reason, record_id],
        )
        db.execute("UPDATE peers SET strikes = strikes + 1 WHERE node_id = ?", [node_id])


def note_sync(
    db: sqlite_utils.Database,
    node_id: str,
    now: int,
    error: str | None,
    received: int = 0,
    sent: int = 0,
) -> None:
    """A sync we started ended: the peer's standing, and a line in its exchange history."""
    with transaction(db):
        record_outbound(db, node_id, now, received, sent, error)
        if error is None:
            db.execute(
                "UPDATE peers SET last_sync = ?, last_error = NULL WHERE node_id = ?",
                [now, node_id],
            )
        else:
            db.execute("UPDATE peers SET last_error = ? WHERE node_id = ?", [error, node_id])


def delivery_counts(db: sqlite_utils.Database, node_id: str) -> dict[str, int]:
    """How many records we sent to and received from a peer."""
    rows = db.execute(
        "SELECT direction, count(*) FROM deliveries WHERE peer_id = ? GROUP BY direction", [node_id]
    ).fetchall()
    counts = {"sent": 0, "received": 0}
    counts.update({direction: int(count) for direction, count in rows})
    return counts


def record_deliveries(
    db: sqlite_utils.Database, peer_id: str, record_ids: list[str], direction: str, now: int
) -> None:
    """Add to the delivery ledger (idempotent): revocation will follow these rows."""
    db.conn.executemany(
        "INSERT OR IGNORE INTO deliveries (record_id, peer_id, direction, at) VALUES (?, ?, ?, ?)",
        [(record_id, peer_id, direction, now) for record_id in record_ids],
    )


def set_peer_purposes(db: sqlite_utils.Database, node_id: str, purposes: list[str]) -> Peer:
    """Record here what a peer older than purposes declarations uses lessons for (consent
    ``purposes`` decide on it). A peer that declared its purposes itself, signed, keeps
    them: they change only when it declares again (federation/purposes.py)."""
    cleaned = clean_purposes(purposes)
    with transaction(db):
        if declared_by_peer(db, node_id) is not None:
            peer = get_peer(db, node_id)
            name = peer.name if peer else node_id
            raise PurposesDeclaredByPeer(
                f"{name} declared its purposes itself, signed: "
                f"{', '.join(peer.purposes) if peer and peer.purposes else 'none'}; they "
                "change only when it declares again (rhizome purposes set, on that hub)"
            )
        db.execute(
            "UPDATE peers SET purposes = ? WHERE node_id = ?", [json.dumps(list(cleaned)), node_id]
        )
    peer = get_peer(db, node_id)
    if peer is None:
        raise UnknownPeer(f"no peer {node_id}")
    return peer
