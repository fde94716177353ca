"""How the node is doing, in one place: ``rhizome status``, the Status page and
``/healthz?verbose`` all read :func:`node_status` and print one of its JSON shapes.

Everything here is read from the home and its database, so it is true whether or not a
``rhizome serve`` runs, and for changes the CLI made in another process.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from archive.key_store import current_key, current_period
from archive.migrations import latest_version, schema_version
from archive.record_facts import record_count
from crypto.errors import KeyFileError
from crypto.keyfile import is_protected
from crypto.node_id import node_id_from_public_key
from federation.exchanges import Exchange, last_exchange, last_inbound, recent_exchanges
from federation.member_notices import doubted_members
from federation.overview import revocations_waiting_per_peer
from federation.peers import Peer, delivery_counts, list_peers
from federation.receipt_status import receipts_missing
from federation.relearn_state import pending_peers
from node import __version__
from node.config import load_config
from node.database import open_database
from node.errors import ConfigError
from node.home import HomePaths
from node.i18n import DEFAULT, language, ngettext
from node.i18n import gettext as _
from node.serialize import iso_time, peer_identity_json
from node.serve_lock import Holder, current_holder
from node.tls import PLAIN_HTTP_WARNING

# Below this much free space on the home's disk, status warns (writes fail when it is full).
LOW_DISK_BYTES = 500 * 1024 * 1024
REACHABLE = ("yes", "no", "unknown")


@dataclass(frozen=True)
class PeerHealth:
    peer: Peer
    reachable: str  # "yes": the last exchange worked; "no": it failed; "unknown": none yet
    last_exchange: int | None  # the last exchange in either direction
    last_inbound: int | None  # the last one the peer started
    withdrawals_waiting: int  # revocations queued for it, not yet delivered
    receipts_missing: int  # our withdrawals it holds a copy of, with no purge receipt back
    sent: int
    received: int
    history: list[Exchange]  # newest first
    # The key that speaks for it now (its node id stays its first key's) and when it became
    # current by a rotation or recovery (None: it never rotated).
    current_key: str = ""
    rotated_at: int | None = None
    # Members it told us were removed or compromised: (name, kind, since), see
    # federation/member_notices.py; their withdrawals from then on are doubtful.
    doubted_members: tuple[tuple[str, str, int], ...] = ()


@dataclass(frozen=True)
class NodeStatus:
    node_id: str
    name: str
    version: str
    schema: int
    schema_latest: int
    key_sealed: bool | None  # None: the key file cannot be read
    served_by: Holder | None
    disk_free: int
    records: int
    peers: list[PeerHealth]
    plain_http_allowed: bool = False  # [federation] allow_plain_http (a lab)
    current_key: str = ""  # the key that signs now (the node id is the first key's)
    # Restored from a backup: the peers it has not yet relearned its own withdrawals from.
    relearning: tuple[str, ...] = ()

    @property
    def withdrawals_waiting(self) -> int:
        return sum(p.withdrawals_waiting for p in self.peers)

    @property
    def receipts_missing(self) -> int:
        return sum(p.receipts_missing for p in self.peers)

    def warnings(self) -> list[str]:
        """What an operator should look at, in plain words (the current language); empty when
        all is well."""
        found = []
        if self.key_sealed is False:
            found.append(
                _(
                    "the node key is not sealed with a passphrase: whoever copies the home can "
                    "sign as this node"
                )
            )
        if self.key_sealed is None:
            found.append(_("the node key file cannot be read"))
        if self.plain_http_allowed:
            found.append(_(PLAIN_HTTP_WARNING))
        if self.disk_free < LOW_DISK_BYTES:
            found.append(
                _("only {megabytes} MB free on the home's disk").format(
                    megabytes=self.disk_free // (1024 * 1024)
                )
            )
        if self.schema < self.schema_latest:
            found.append(
                _("the database schema is older than this Rhizome; open it once to update")
            )
        for health in self.peers:
            if health.peer.status == "active" and health.reachable == "no":
                found.append(
                    _("{peer}: the last sync failed ({error})").format(
                        peer=health.peer.name, error=health.peer.last_error
                    )
                )
        if self.withdrawals_waiting:
            found.append(
                ngettext(
                    "{count} withdrawal still to deliver",
                    "{count} withdrawals still to deliver",
                    self.withdrawals_waiting,
                ).format(count=self.withdrawals_waiting)
            )
        for health in self.peers:
            if health.peer.status == "gone":
                found.append(
                    _(
                        "{peer} said it was wiped: nothing is sent to it any more "
                        "(remove it, or pair again if it came back)"
                    ).format(peer=health.peer.name)
                )
        if self.relearning:
            found.append(
                _(
                    "restored from a backup: this node offers nothing to any peer until "
                    "{peers} told it the withdrawals it made since the backup (at the next "
                    "sync with each)"
                ).format(peers=", ".join(self.relearning))
            )
        return found


def peer_healths(db: sqlite_utils.Database, node_id: str) -> list[PeerHealth]:
    """Every peer we have not removed, with the health of its link (Peers and Status pages)."""
    waiting = revocations_waiting_per_peer(db)
    missing = receipts_missing(db, node_id)
    return [
        _peer_health(db, peer, waiting.get(peer.node_id, 0), missing.get(peer.node_id, 0))
        for peer in list_peers(db)
    ]


def node_status(paths: HomePaths, db: sqlite_utils.Database, node_id: str, name: str) -> NodeStatus:
    peers = peer_healths(db, node_id)
    return NodeStatus(
        node_id=node_id,
        name=name,
        version=__version__,
        schema=schema_version(db),
        schema_latest=latest_version(db),
        key_sealed=_key_sealed(paths.key),
        served_by=current_holder(paths.root),
        disk_free=shutil.disk_usage(paths.root).free,
        records=record_count(db),
        peers=peers,
        plain_http_allowed=_plain_http_allowed(paths),
        current_key=node_id_from_public_key(current_key(db, node_id)),
        relearning=_relearning(db, peers),
    )


def _relearning(db: sqlite_utils.Database, peers: list[PeerHealth]) -> tuple[str, ...]:
    """The names of the peers a restored node still has to relearn its withdrawals from."""
    names = {health.peer.node_id: health.peer.name for health in peers}
    return tuple(names.get(node_id, node_id) for node_id in pending_peers(db))


def _plain_http_allowed(paths: HomePaths) -> bool:
    try:
        return load_config(paths.config).allow_plain_http
    except ConfigError:
        return False  # a config that cannot be read has no switch turned on


def node_status_in_thread(
    paths: HomePaths, node_id: str, name: str, key: bytes | None = None
) -> NodeStatus:
    """:func:`node_status` on a connection of its own (for ``asyncio.to_thread``; ``key``: a
    sealed home's database key)."""
    db = open_database(paths.database, key)
    try:
        return node_status(paths, db, node_id, name)
    finally:
        db.conn.close()


def _peer_health(db: sqlite_utils.Database, peer: Peer, waiting: int, missing: int) -> PeerHealth:
    history = recent_exchanges(db, peer.node_id)
    counts = delivery_counts(db, peer.node_id)
    key, rotated_at = current_period(db, peer.node_id)
    return PeerHealth(
        peer=peer,
        reachable=_reachable(peer, history),
        last_exchange=last_exchange(db, peer.node_id, peer.last_sync),
        last_inbound=last_inbound(db, peer.node_id),
        withdrawals_waiting=waiting,
        receipts_missing=missing,
        sent=counts["sent"],
        received=counts["received"],
        history=history,
        current_key=key,
        rotated_at=rotated_at,
        doubted_members=tuple(doubted_members(db, peer.node_id)),
    )


def _reachable(peer: Peer, history: list[Exchange]) -> str:
    if history:
        return "no" if history[0].error else "yes"
    if peer.last_error:
        return "no"
    return "yes" if peer.last_sync else "unknown"


def _key_sealed(path: Path) -> bool | None:
    try:
        return is_protected(path.read_bytes())
    except (OSError, KeyFileError):
        return None


# ---- the JSON shapes ------------------------------------------------------------------------


def status_json(status: NodeStatus) -> dict[str, Any]:
    """Everything, names included: for the CLI and for signed-in members."""
    return {
        **counts_json(status),
        "node": {"id": status.node_id, "name": status.name, "current_key": status.current_key},
        "key_sealed": status.key_sealed,
        "served_by": None
        if status.served_by is None
        else {"pid": status.served_by.pid, "since": iso_time(status.served_by.since)},
        "disk_free_bytes": status.disk_free,
        "records": status.records,
        "peers": [peer_health_json(health) for health in status.peers],
        "warnings": _english_warnings(status),
    }


def _english_warnings(status: NodeStatus) -> list[str]:
    """The warnings in English: JSON is for programs, whatever language the reader speaks."""
    with language(DEFAULT):
        return status.warnings()


def counts_json(status: NodeStatus) -> dict[str, Any]:
    """Counts only, no names, ids or addresses: what anyone who reaches the node may see."""
    active = [h for h in status.peers if h.peer.status == "active"]
    return {
        "status": "ok",
        "version": status.version,
        "schema": {"version": status.schema, "latest": status.schema_latest},
        "peer_counts": {
            "active": len(active),
            "reachable": sum(h.reachable == "yes" for h in active),
            "failing": sum(h.reachable == "no" for h in active),
        },
        "withdrawals_waiting": status.withdrawals_waiting,
        "receipts_missing": status.receipts_missing,
    }


def peer_health_json(health: PeerHealth) -> dict[str, Any]:
    peer = health.peer
    return {
        **peer_identity_json(peer),
        "current_key": health.current_key or peer.node_id,
        "rotated": iso_time(health.rotated_at),
        "reachable": health.reachable,
        "last_exchange": iso_time(health.last_exchange),
        "last_inbound": iso_time(health.last_inbound),
        "last_sync": iso_time(peer.last_sync),
        "last_error": peer.last_error,
        "withdrawals_waiting": health.withdrawals_waiting,
        "receipts_missing": health.receipts_missing,
        "sent": health.sent,
        "received": health.received,
        "strikes": peer.strikes,
        "history": [exchange_json(exchange) for exchange in health.history],
    }


def exchange_json(exchange: Exchange) -> dict[str, Any]:
    return {
        "at": iso_time(exchange.at),
        "direction": exchange.direction,
        "received": exchange.received,
        "sent": exchange.sent,
        "error": exchange.error,
    }
