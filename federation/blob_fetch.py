"""Fetching attachment bytes from a peer: after the records, chunk by chunk, resumable.

What we fetch: the attachments of records we got from this peer (or that it wrote) whose
bytes we lack, that no withdrawal names, and whose consent lets them travel at all (the
subjects' part of the decision does not depend on the peer: a photo Heron did not agree to
be photographed in was never going to come, so we do not ask). Each chunk is checked
against its digest, added to ``blobs/partial/<hash>.part`` and kept there when the transfer
breaks: the next sync continues from its end. A finished download whose SHA-256 is not the
hash the signed record names is deleted, never stored, and the peer gets a strike; so does
a peer whose chunk does not match its own digest or runs past the signed size.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from typing import Protocol

from archive.attachment import Attachment
from archive.blobs import BlobStore, is_blob_withdrawn, records_with_blobs_from
from archive.queries import load_record
from federation import endpoints
from federation.blob_transfer import attachment_consents
from federation.client import PeerClient
from federation.errors import PeerProtocolError, PeerRefused
from federation.local import LocalNode
from federation.peers import Peer, add_strike
from federation.workers import in_worker
from governance.attachment_consent import decide_attachment


@dataclass
class BlobReport:
    fetched: int = 0
    bytes: int = 0
    withheld: int = 0
    resumed: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class WantedBlob:
    record_id: str
    attachment: Attachment


def blobs_to_fetch(local: LocalNode, peer: Peer) -> list[WantedBlob]:
    """The attachments we lack of records this peer gave us (or wrote)."""
    store = BlobStore.of(local.db)
    wanted = []
    for record_id in records_with_blobs_from(local.db, peer.node_id):
        lesson = load_record(local.db, record_id).lesson
        consents = attachment_consents(local.db, record_id, lesson.consent)
        for attachment in lesson.attachments:
            digest = attachment.hash_hex
            if store.has(digest) or is_blob_withdrawn(local.db, digest, lesson.origin_id):
                continue
            if decide_attachment(attachment, consents, local.now()).allowed:
                wanted.append(WantedBlob(record_id, attachment))
    return wanted


async def fetch_attachments(client: PeerClient, peer: Peer) -> BlobReport:
    """Fetch every attachment we may get from ``peer`` and lack; errors end the run (the
    partial downloads stay for the next one)."""
    report = BlobReport()
    # Reading and verifying the records is work: a worker thread, not the event loop.
    for wanted in await in_worker(client.local, blobs_to_fetch, peer):
        try:
            await fetch_blob(client, peer, wanted, report)
        except PeerRefused as refusal:
            if refusal.code != "blob_withheld":
                raise
            report.withheld += 1
    return report


async def fetch_blob(
    client: PeerClient, peer: Peer, wanted: WantedBlob, report: BlobReport
) -> None:
    local = client.local
    store = BlobStore.of(local.db)
    digest, size = wanted.attachment.hash_hex, wanted.attachment.size
    offset = store.partial_size(digest)
    if offset > size:  # a partial longer than the signed size cannot be right: start over
        store.drop_partial(digest)
        offset = 0
    report.resumed += offset > 0
    while offset < size:
        answer = await client.call(
            endpoints.BLOB,
            {"record": bytes.fromhex(wanted.record_id), "blob": bytes.fromhex(digest),
             "offset": offset},
            recipient=peer.node_id, base_url=peer.url,
        )  # fmt: skip
        chunk = answer["data"]
        if (
            hashlib.sha256(chunk).digest() != answer["digest"]
            or answer["size"] != size
            or not chunk
            or offset + len(chunk) > size
        ):
            await _strike(local, store, peer, digest, "blob_chunk_mismatch")
            raise PeerProtocolError("the peer sent a chunk that does not match the attachment")
        try:
            await asyncio.to_thread(store.append_partial, digest, offset, chunk)
        except ValueError as error:  # a short chunk before the end: not how a peer sends
            await _strike(local, store, peer, digest, "blob_chunk_mismatch")
            raise PeerProtocolError(
                f"the peer's chunk does not fit the download ({error})"
            ) from error
        offset += len(chunk)
        report.bytes += len(chunk)
    if not await asyncio.to_thread(store.finish_partial, digest):
        await _strike(local, store, peer, digest, "blob_hash_mismatch")
        raise PeerProtocolError("the peer sent a file whose hash is not the one the lesson signs")
    report.fetched += 1


async def _strike(local: LocalNode, store: BlobStore, peer: Peer, digest: str, reason: str) -> None:
    """Nothing of a bad transfer is kept; the peer is struck."""
    store.drop_partial(digest)
    add_strike(local.db, peer.node_id, f"{reason}: {digest[:16]}", local.now())


class _Paced(Protocol):
    moved: int


async def fetch_attachments_in_sync(client: PeerClient, peer: Peer, sync: _Paced) -> None:
    """The attachment step of a sync (after the records): its bytes count towards the
    exchange's pace (federation/pace.py)."""
    report = await fetch_attachments(client, peer)
    sync.moved += report.bytes
