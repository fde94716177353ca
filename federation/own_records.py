"""A node recovered with no backup gets its own records back from the peers that hold them.

Sync never sends a record to its origin (``decide_outbound``: the origin already holds it),
and never takes one in that claims to come from us (``decide_inbound``: ``own_origin``). A
node rebuilt from its recovery code holds nothing, so this is the one path that carries
records back to their origin: ``POST /federation/v1/own-records``, a page at a time.

* The holder answers only a peer whose current key was made by a **recovery** (its key
  history ends in a recovery statement): a node that merely rotated, or a thief with a
  stolen node key, cannot empty a peer of the node's records this way. It sends only
  records whose origin is the asker, that it keeps out of quarantine (a record signed by
  a key the recovery named compromised stays with its curators): what the records' consent
  already let it hold, back to the node that wrote them.
* The recovered node asks each peer marked in ``own_records_pending`` (federation m080),
  and only once no active peer is left to relearn its own withdrawals from
  (:mod:`federation.relearn`, as after a restore): a withdrawal wins, so a lesson the node
  had withdrawn is refused here by its tombstone even if a stale peer still sends it.
  Each record is verified against the node's own key history, stored as its own, and the
  peer is noted as a holder (a later withdrawal reaches it).
"""

from __future__ import annotations

import logging

import sqlite_utils

from archive.db import transaction
from archive.derivation import withdrawn_link
from archive.event_log import append_event
from archive.key_store import is_suspect, load_key_history, record_key_check
from archive.own_revocations import records_originated_by
from archive.signed_record import open_record
from archive.store import has_record, insert_record
from archive.tombstones import tombstone_for
from crypto.errors import RhizomeError
from crypto.key_statements import RECOVERY
from federation import endpoints, wire
from federation.client import PeerClient
from federation.errors import NotAPeer, PeerProtocolError
from federation.local import LocalNode
from federation.peers import Peer, record_deliveries
from federation.relearn_state import offers_held
from federation.workers import in_worker

MAX_PAGES = 10_000  # a guard against a peer paging forever: five million records
PAGE_BYTES = wire.BATCH_BYTES
log = logging.getLogger("rhizome.federation")


def mark_for_refetch(db: sqlite_utils.Database, peer_ids: list[str], now: int) -> None:
    """Ask these peers for our own records at the next exchange (caller's transaction)."""
    db.conn.executemany(
        "INSERT OR IGNORE INTO own_records_pending (peer_id, since) VALUES (?, ?)",
        [(peer_id, now) for peer_id in peer_ids],
    )


def refetch_pending(db: sqlite_utils.Database) -> list[str]:
    rows = db.execute("SELECT peer_id FROM own_records_pending ORDER BY peer_id").fetchall()
    return [str(row[0]) for row in rows]


def answer_own_records(local: LocalNode, asker: Peer, body: bytes) -> bytes:
    """The holder's side: one page of the asker's own records (worker thread)."""
    after = wire.decode(endpoints.OWN_RECORDS.request, body)["after"]
    head = load_key_history(local.db, asker.node_id, local.now()).head
    if head is None or head.kind != RECOVERY:
        raise NotAPeer(
            "own records go back only to a node that recovered its key (`rhizome key "
            "recover`); sync brings everything else"
        )
    rows = records_originated_by(local.db, asker.node_id, after, wire.MAX_RECORDS_PER_MESSAGE + 1)
    page: list[bytes] = []
    size = 0
    for _, envelope in rows[: wire.MAX_RECORDS_PER_MESSAGE]:
        if page and size + len(envelope) > PAGE_BYTES:
            break
        page.append(bytes(envelope))
        size += len(envelope)
    more = len(page) < len(rows)
    return wire.encode(endpoints.OWN_RECORDS.answer, {"records": page, "more": int(more)})


async def refetch_own_records(client: PeerClient, peer: Peer) -> int | None:
    """Our own records back from ``peer`` if it is marked and no withdrawal is left to
    relearn first; how many were stored (None when there was nothing to do yet). The
    database work (the mark, each page, the end) runs in a worker thread."""
    local = client.local
    if not await in_worker(local, _is_due, peer):
        return None
    after, stored = "", 0
    for _ in range(MAX_PAGES):
        answer = await client.call(
            endpoints.OWN_RECORDS, {"after": after}, recipient=peer.node_id, base_url=peer.url
        )
        records = list(answer["records"])
        if not records:
            break
        last, added = await _store_page(client, peer, records)
        after, stored = max(after, last), stored + added
        if not answer["more"]:
            break
    await in_worker(local, _finish, peer, stored)
    log.info("own records refetched after a recovery",
             extra={"peer": peer.node_id, "records": stored})  # fmt: skip
    return stored


def _is_due(local: LocalNode, peer: Peer) -> bool:
    return peer.node_id in refetch_pending(local.db) and not offers_held(local.db)


def _finish(local: LocalNode, peer: Peer, stored: int) -> None:
    with transaction(local.db):
        local.db.execute("DELETE FROM own_records_pending WHERE peer_id = ?", [peer.node_id])
        append_event(
            local.db, local.identity, "recovery.refetched", peer.node_id,
            {"records": stored}, local.now(),
        )  # fmt: skip


async def _store_page(client: PeerClient, peer: Peer, records: list[bytes]) -> tuple[str, int]:
    return await in_worker(client.local, store_own_records, peer, records)


def store_own_records(local: LocalNode, peer: Peer, envelopes: list[bytes]) -> tuple[str, int]:
    """Verify and store one page of our own records (one transaction): the last id of the
    page and how many were new. A record we withdrew, or signed by a key our recovery
    named compromised, is not taken back."""
    db, now, last, stored = local.db, local.now(), "", 0
    with transaction(db):
        for raw in envelopes:
            try:
                record = open_record(raw, "own record", record_key_check(db))
            except RhizomeError as error:
                raise PeerProtocolError(
                    f"the peer sent a record of ours that fails: {error}"
                ) from error
            lesson, record_id = record.lesson, record.id_hex
            if lesson.origin_id != local.node_id:
                raise PeerProtocolError("asked for our own records, the peer sent another node's")
            last = max(last, record_id)
            if has_record(db, record_id) or is_suspect(db, record):
                continue
            if tombstone_for(db, record_id, lesson.origin_id) or withdrawn_link(db, lesson):
                continue  # we withdrew it: the tombstone wins
            insert_record(db, record, None, now)
            record_deliveries(db, peer.node_id, [record_id], "sent", now)  # the peer holds it
            append_event(db, local.identity, "record.refetched", record_id,
                         {"from": peer.node_id}, now)  # fmt: skip
            stored += 1
    return last, stored
