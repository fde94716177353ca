"""Serving attachment bytes to a peer, sans-IO: request bytes in, answer bytes out.

A blob leaves only as an attachment of a record the outbound decision lets the peer have
(:meth:`federation.sharing.Offer.explain`), and only if the consent of every person it shows
or records allows it (:func:`governance.attachment_consent.decide_attachment`, with the
consent of the record's later versions narrowing it). A blob its origin withdrew is never
served. The first chunk of each blob sent to a peer is logged in the event log.
"""

from __future__ import annotations

import hashlib

import sqlite_utils

from archive.attachment import Attachment
from archive.blobs import BlobStore, is_blob_withdrawn
from archive.db import transaction
from archive.event_log import append_event
from archive.queries import load_record
from archive.record import Consent
from federation import endpoints, wire
from federation.blob_wire import CHUNK_BYTES
from federation.errors import FederationError, PeerProtocolError
from federation.local import LocalNode
from federation.peers import Peer
from federation.sharing import Offer
from governance.attachment_consent import AttachmentDecision, decide_attachment
from governance.effective_consent import bounds_of


class BlobWithheld(FederationError):
    """This node does not give you that attachment: the lesson or the consent of a person in
    it keeps it here, or it is not held. Nothing to do: sync asks again only for what may
    come."""

    http_status = 403
    code = "blob_withheld"


def attachment_consents(db: sqlite_utils.Database, record_id: str, own: Consent) -> list[Consent]:
    """The record's consent, then those of its later versions (they narrow it)."""
    later = [
        bound.consent
        for bound in bounds_of(db, record_id)
        if bound.relation == "later" and bound.consent is not None
    ]
    return [own, *later]


def decide_blob(
    local: LocalNode, peer: Peer, record_id: str, blob: str
) -> tuple[Attachment, AttachmentDecision]:
    """The attachment and its decision for ``peer``, or :class:`BlobWithheld`."""
    decision = Offer.of(local).explain(record_id, peer)
    if decision is None or not decision.allowed:
        raise BlobWithheld("the lesson that attaches it does not go to your node")
    lesson = load_record(local.db, record_id).lesson
    attachment = next((a for a in lesson.attachments if a.hash_hex == blob), None)
    if attachment is None:
        raise BlobWithheld("that lesson attaches no such file")
    if is_blob_withdrawn(local.db, blob, lesson.origin_id):
        raise BlobWithheld("that attachment was withdrawn")
    consents = attachment_consents(local.db, record_id, lesson.consent)
    verdict = decide_attachment(attachment, consents, local.now())
    if not verdict.allowed:
        raise BlobWithheld(verdict.words)
    return attachment, verdict


def answer_blob_request(local: LocalNode, peer: Peer, body: bytes) -> bytes:
    """One chunk of a blob the decision lets ``peer`` have."""
    request = wire.decode(endpoints.BLOB.request, body)
    record_id, blob, offset = request["record"].hex(), request["blob"].hex(), request["offset"]
    attachment, _ = decide_blob(local, peer, record_id, blob)
    store = BlobStore.of(local.db)
    if not store.has(blob):
        raise BlobWithheld("this node does not hold that file (yet)")
    if offset > attachment.size:
        raise PeerProtocolError("the offset is past the end of the file")
    data = store.read(blob, offset, CHUNK_BYTES)
    if offset == 0:
        with transaction(local.db):
            detail = {"record": record_id, "peer": peer.node_id, "size": attachment.size}
            append_event(local.db, local.identity, "attachment.sent", blob, detail, local.now())
    answer = {"data": data, "size": attachment.size, "digest": hashlib.sha256(data).digest()}
    return wire.encode(endpoints.BLOB.answer, answer)


def attachment_decisions(
    db: sqlite_utils.Database, record_id: str, now: int
) -> list[AttachmentDecision]:
    """Each attachment of a record we hold, decided by the consent of the people in it (the
    same for every peer; the record's own decision comes first): for explain and the pages."""
    lesson = load_record(db, record_id).lesson
    consents = attachment_consents(db, record_id, lesson.consent)
    return [decide_attachment(item, consents, now) for item in lesson.attachments]
