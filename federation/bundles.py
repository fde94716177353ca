"""Offline bundles: records carried by hand between two paired hubs.

A bundle file is ``RHZBNDL1`` followed by a sealed box (``crypto.sealing``) to the receiving
node, holding an envelope signed by the sending node (context ``rhizome/bundle/v1``) over::

    [1, from node id, to node id, bundle id (16 bytes), created, since or nil,
     [revocations], [receipts], [member certificates], [approvals], [records]]

Tombstones come first, so an old bundle can never bring back a revoked record. What goes in
is what the outbound decision lets that peer have; what comes out passes the same checks as
sync (signatures, tombstones, the inbound decision), all in one transaction. The format is
documented in docs/reference/bundle-format.md.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from archive.db import transaction
from archive.event_log import last_event_seq
from archive.key_store import current_key, key_standing
from archive.lesson_file import parse_timestamp
from archive.purge import scrub_free_space
from archive.record_facts import arrivals_since
from archive.tombstones import revocations_covering
from crypto.canonical import DecodeLimits, pack, unpack
from crypto.envelope import open_envelope, seal
from crypto.errors import CryptoError, RhizomeError
from crypto.key_history import RETIRED, SUSPECT, VALID
from crypto.node_id import node_id_from_public_key
from crypto.sealing import NotForThisNode, open_sealed, seal_to_key
from federation.bundle_blobs import blob_items, take_blob_items
from federation.errors import FederationError
from federation.local import LocalNode
from federation.peers import Peer, get_peer, record_deliveries
from federation.propagation import (
    accept_receipts,
    outgoing_for,
    queue_receipt,
    receipt_for,
    take_revocation,
)
from federation.receiving import Receiver
from federation.revocation import InvalidRevocation, Revocation
from federation.sharing import Offer, known_held
from governance.approvals import signed_approvals

MAGIC = b"RHZBNDL1"
BUNDLE_CONTEXT = b"rhizome/bundle/v1"
MAX_BUNDLE_BYTES = 512 * 1024 * 1024
MAX_BUNDLE_RECORDS = 1_000_000
_OUTER_LIMITS = DecodeLimits(
    max_bytes=MAX_BUNDLE_BYTES, max_bin_len=MAX_BUNDLE_BYTES, max_array_len=8
)
_INNER_LIMITS = DecodeLimits(
    max_bytes=MAX_BUNDLE_BYTES, max_bin_len=1 << 20, max_array_len=MAX_BUNDLE_RECORDS, max_map_len=4
)
Progress = Callable[[int], None]


class BadBundle(FederationError):
    """The file is not a bundle this node can use: damaged, truncated, not a bundle, made for
    another node or by a node we do not trust. Nothing from it was stored."""

    code = "bad_bundle"


@dataclass
class BundleContents:
    sender: str
    recipient: str
    bundle_id: str
    created: int
    since: int | None
    left_out: int = 0  # records that did not fit: export again with --since this bundle
    revocations: list[bytes] = field(default_factory=list)
    receipts: list[bytes] = field(default_factory=list)
    certificates: list[bytes] = field(default_factory=list)
    approvals: list[bytes] = field(default_factory=list)
    records: list[bytes] = field(default_factory=list)
    blobs: list[bytes] = field(default_factory=list)  # attachment chunks (bundle_blobs.py)


@dataclass
class ImportReport:
    sender: str
    records: int = 0
    stored: int = 0
    quarantined: int = 0
    duplicates: int = 0
    rejected: int = 0
    # Signed by a key of their origin (a third node) we have not learnt yet: not stored, no
    # strike; learn that node's key history (a sync with a peer that knows it), import again.
    held: int = 0
    revocations: int = 0
    dry_run: bool = False
    attachments: int = 0  # files stored (their hash checked)


# -- the file format (sans-IO) -----------------------------------------------------------


def write_bundle(local: LocalNode, contents: BundleContents) -> bytes:
    payload = pack(
        [
            1, contents.sender, contents.recipient, bytes.fromhex(contents.bundle_id),
            contents.created, contents.since, contents.revocations, contents.receipts,
            contents.certificates, contents.approvals, contents.records,
            *([contents.blobs] if contents.blobs else []),
        ]
    )  # fmt: skip
    signed = seal(local.identity, BUNDLE_CONTEXT, payload).raw
    # To the key the peer holds now (its first key until it rotates): only it can open it.
    return MAGIC + seal_to_key(current_key(local.db, contents.recipient), signed)


def read_bundle(local: LocalNode, data: bytes) -> BundleContents:
    """Open, verify and decode a bundle meant for us; :class:`BadBundle` otherwise."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise BadBundle(f"the file is larger than the bundle limit of {MAX_BUNDLE_BYTES} bytes")
    if not data.startswith(MAGIC):
        raise BadBundle("this file is not a Rhizome bundle")
    try:
        signed = open_sealed(local.identity, data[len(MAGIC) :])
    except NotForThisNode as error:
        raise BadBundle(
            "this bundle was made for another node, or the file is damaged (or it was sealed "
            "to a key this hub retired by a key rotation: ask for a new bundle)"
        ) from error
    try:
        envelope = open_envelope(signed, BUNDLE_CONTEXT, _OUTER_LIMITS)
        fields = unpack(envelope.payload, _INNER_LIMITS)
        contents = _contents(fields, local.node_id)
        standing = key_standing(local.db, contents.sender, envelope.signer, contents.created)
    except (CryptoError, ValueError, TypeError) as error:
        raise BadBundle(f"the bundle does not verify ({error})") from error
    if standing != VALID:
        raise BadBundle(_signer_words(standing, contents.sender, envelope.signer))
    return contents


def _signer_words(standing: str, sender: str, signer: bytes) -> str:
    """Why a bundle's signing key does not speak for the node it names, and what to do."""
    short = sender.split("-", 1)[0]
    if standing == RETIRED:
        return "the bundle is signed by a key its node had retired by the time it was made"
    if standing == SUSPECT:
        return (
            "the bundle is signed by a key its node's recovery named compromised by the time "
            "it was made: ask its operator for a new bundle"
        )
    return (
        f"the bundle is not signed by the node it names ({short}), or by a key of it this hub "
        f"has not learnt yet ({node_id_from_public_key(signer)}): if that hub rotated its "
        "key, learn its key history first (sync with it once, or let it sync with this hub), "
        f"then import again; `rhizome key history {short}` shows what this hub knows"
    )


def _contents(fields: Any, our_id: str) -> BundleContents:
    version, sender, recipient, bundle_id, created, since, *lists = fields
    if version != 1 or len(lists) not in (5, 6):  # the sixth: attachment chunks, if any
        raise BadBundle("unsupported bundle version")
    if recipient != our_id:
        raise BadBundle("this bundle was made for another node")
    if not all(
        isinstance(items, list) and all(isinstance(i, bytes) for i in items) for items in lists
    ):
        raise BadBundle("the bundle's lists hold something other than signed statements")
    if not (isinstance(sender, str) and isinstance(recipient, str)):
        raise BadBundle("the bundle names its nodes wrongly")
    if not (isinstance(bundle_id, bytes) and len(bundle_id) == 16 and type(created) is int):
        raise BadBundle("the bundle's id or time is malformed")
    if since is not None and type(since) is not int:
        raise BadBundle("the bundle's since time is malformed")
    revocations, receipts, certificates, approvals, records, *blobs = lists
    return BundleContents(
        sender, recipient, bytes(bundle_id).hex(), int(created), since,
        revocations=revocations, receipts=receipts, certificates=certificates,
        approvals=approvals, records=records, blobs=blobs[0] if blobs else [],
    )  # fmt: skip


# -- export ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Since:
    """Where an incremental bundle starts: records stored at or after ``time`` (an operator's
    ISO time), or that arrived after event-log entry ``after_seq`` (an earlier bundle: the
    log's sequence never repeats, so nothing is sent twice and nothing stored in the same
    second is missed)."""

    time: int | None = None
    after_seq: int | None = None


@dataclass
class Export:
    """A bundle ready to write; :func:`record_export` notes it once the file exists."""

    data: bytes
    contents: BundleContents
    sent_ids: list[str]
    resume_seq: int  # what ``--since`` this bundle means: where a later bundle picks up


def export_bundle(local: LocalNode, peer: Peer, since: Since | None) -> Export:
    """What ``peer`` may have (stored since ``since``), signed and sealed to it."""
    db, now = local.db, local.now()
    offer = Offer.of(local)
    since = since or Since()
    last_seq = last_event_seq(db)
    rows = _records_for(offer, peer, since)
    bundle_id = os.urandom(16).hex()
    contents = BundleContents(local.node_id, peer.node_id, bundle_id, now, since.time)
    # Every revocation covering a record this peer got from us or gave us.
    contents.revocations = revocations_covering(db, sorted(known_held(db, peer.node_id)))
    contents.receipts = [
        envelope for _, envelope in outgoing_for(db, peer.node_id, 100_000).receipts
    ]
    wanted = [bytes.fromhex(record_id) for record_id, _ in rows]
    found, handled = offer.envelopes_for(wanted, peer, MAX_BUNDLE_BYTES // 2)
    contents.records = [envelope for _, envelope in found]
    contents.left_out = len(wanted) - handled
    contents.approvals, contents.certificates = signed_approvals(db, [i for i, _ in found])
    room = MAX_BUNDLE_BYTES // 2 - sum(len(envelope) for envelope in contents.records)
    contents.blobs = blob_items(local, [i for i, _ in found], room)
    # Records that did not fit wait for the next bundle: it starts at the first of them.
    resume_seq = rows[handled][1] - 1 if contents.left_out else last_seq
    return Export(write_bundle(local, contents), contents, [i for i, _ in found], resume_seq)


def record_export(local: LocalNode, peer: Peer, export: Export) -> None:
    """Note in the delivery ledger what the written bundle carries (for revocation)."""
    db, now = local.db, local.now()
    with transaction(db):
        record_deliveries(db, peer.node_id, export.sent_ids, "sent", now)
        db.execute(
            "INSERT OR REPLACE INTO bundles_sent "
            "(file_hash, bundle_id, peer_id, created, resume_seq, records) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                hashlib.sha256(export.data).hexdigest(),
                export.contents.bundle_id,
                peer.node_id,
                export.contents.created,
                export.resume_seq,
                len(export.sent_ids),
            ],
        )


def _records_for(offer: Offer, peer: Peer, since: Since) -> list[tuple[str, int]]:
    """(id, arrival entry in the event log) of the records since ``since``, in arrival order."""
    after = since.after_seq or 0
    return arrivals_since(offer.db, peer.node_id, since.time or -1, after)


def since_of(db: Any, text: str, peer: Peer) -> Since:
    """``--since``: an earlier bundle file we exported for this peer, or an ISO 8601 time."""
    if os.path.isfile(text):
        with open(text, "rb") as handle:
            file_hash = hashlib.sha256(handle.read()).hexdigest()
        row = db.execute(
            "SELECT resume_seq, peer_id FROM bundles_sent WHERE file_hash = ?", [file_hash]
        ).fetchone()
        if row is None:
            raise BadBundle(f"{text}: not a bundle this node exported")
        if row[1] != peer.node_id:
            raise BadBundle(f"{text}: that bundle was made for another peer")
        return Since(after_seq=int(row[0]))
    return Since(time=parse_timestamp(text, "--since", "time"))


# -- import ------------------------------------------------------------------------------


class _DryRun(Exception):
    """Raised to roll the import back after counting what it would do."""


def import_bundle(
    local: LocalNode, data: bytes, *, dry_run: bool = False, progress: Progress | None = None
) -> ImportReport:
    """Apply a bundle exactly as a sync would, in one transaction (rolled back for a dry run)."""
    contents = read_bundle(local, data)
    sender = get_peer(local.db, contents.sender)
    if sender is None or sender.status != "active":
        raise BadBundle("this bundle comes from a node that is not an active peer here")
    report = ImportReport(sender.node_id, records=len(contents.records), dry_run=dry_run)
    withdrawn: list[Revocation] = []
    try:
        with transaction(local.db):
            withdrawn = _apply(local, contents, sender, report, progress)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    except (RhizomeError, ValueError) as error:
        raise BadBundle(f"the bundle could not be applied, nothing was stored ({error})") from error
    if not dry_run:
        scrub_free_space(local.db)
        report.attachments, _ = take_blob_items(local, sender, contents.blobs)
        # Our receipts go back to the sender (by network, or in the next bundle for it),
        # signed only now that the purge is durable (PurgeNotDurable otherwise: importing
        # the bundle again once the node finished the scrub sends them).
        for revocation in withdrawn:
            receipt = receipt_for(local, revocation)
            queue_receipt(local.db, receipt.receipt_id, sender.node_id, local.now())
    return report


def _apply(
    local: LocalNode,
    contents: BundleContents,
    sender: Peer,
    report: ImportReport,
    progress: Progress | None,
) -> list[Revocation]:
    withdrawn = []
    for raw in contents.revocations:  # tombstones first: they beat every copy below
        try:
            revocation, _ = take_revocation(local, raw, sender)
        except InvalidRevocation as error:
            raise BadBundle(f"a revocation in it does not verify ({error})") from error
        report.revocations += 1
        withdrawn.append(revocation)
    accept_receipts(local, contents.receipts, sender)
    receiver = Receiver.of(local)
    for start in range(0, len(contents.records), 500):
        batch = contents.records[start : start + 500]
        result = receiver.receive(batch, sender)
        report.stored += len(result.stored)
        report.quarantined += len(result.quarantined)
        report.duplicates += result.duplicates
        report.rejected += len(result.rejected)
        report.held += len(result.held)
        if progress:
            progress(len(batch))
    return withdrawn
