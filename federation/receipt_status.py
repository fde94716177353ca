"""Per holder of a withdrawn record, as the origin sees it: purged, pending or unconfirmed.

Purged means a verified receipt and no copy seen since it; pending, no receipt yet (with the
attempts so far) or a copy seen after it (with that evidence); unconfirmed, a node only
named in another holder's receipt that we cannot vouch for (see ``federation.copies``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial

import sqlite_utils

from archive.blobs import records_naming
from archive.key_store import node_for_key
from archive.tombstones import covered_ids, own_withdrawals, revocation_source, tombstone_of
from federation.copies import last_sighting, sighted_holders, vouched_for
from federation.errors import FederationError
from federation.ledger import holders_of
from federation.outbox import waiting
from federation.revocation import Receipt, open_receipt


@dataclass(frozen=True)
class HolderStatus:
    node: str
    # "purged" (its receipt, newer than any copy seen since), "pending", or "unconfirmed"
    # (only named in another holder's receipt, by a node we cannot vouch for)
    status: str
    at: int | None  # receipt time when purged; last contact when pending
    direct: bool
    verified: bool
    attempts: int = 0  # times we handed it the revocation without its receipt yet
    evidence: str | None = None  # why a holder that sent a receipt is pending again


def receipt_status(db: sqlite_utils.Database, record_id: str) -> tuple[str, list[HolderStatus]]:
    """The revocation covering ``record_id`` and, per holder we know of, purged or pending."""
    revocation_id = tombstone_of(db, record_id)
    if revocation_id is None:
        raise FederationError(f"record {record_id[:12]} has not been revoked here")
    # A withdrawal of attachments names blob ids: its holders are those of the lessons.
    covered = covered_ids(db, revocation_id)
    covered += tuple(records_naming(db, covered))
    direct = set(holders_of(db, covered))
    receipts = {}
    for (raw,) in db.execute(
        "SELECT envelope FROM receipts WHERE revocation_id = ?", [revocation_id]
    ):
        receipt = open_receipt(bytes(raw), partial(node_for_key, db))
        receipts[receipt.holder] = receipt
    transitive = {node for receipt in receipts.values() for node in receipt.forwarded_to}
    known = direct | transitive | sighted_holders(db, revocation_id) | set(receipts)
    holders = sorted(known - {_own_id(db, revocation_id)})
    return revocation_id, [
        _holder_status(db, revocation_id, node, receipts.get(node), node in direct)
        for node in holders
    ]


def _own_id(db: sqlite_utils.Database, revocation_id: str) -> str:
    source = revocation_source(db, revocation_id)
    assert source is not None  # the tombstone that named it is bound to the revocation
    return source[0]


def receipts_missing(db: sqlite_utils.Database, node_id: str) -> dict[str, int]:
    """Per peer: our own withdrawals of records we sent it, with no purge receipt from it."""
    withdrawn = own_withdrawals(db, node_id)
    if not withdrawn:
        return {}
    rows = db.execute(
        "SELECT peer_id, count(*) FROM (SELECT DISTINCT w.revocation_id, d.peer_id FROM "
        "(SELECT json_extract(value, '$[0]') AS revocation_id, "
        "json_extract(value, '$[1]') AS record_id FROM json_each(?)) AS w "
        "JOIN deliveries d ON d.record_id = w.record_id AND d.direction = 'sent' "
        "WHERE NOT EXISTS (SELECT 1 FROM receipts c "
        "WHERE c.revocation_id = w.revocation_id AND c.holder = d.peer_id)) GROUP BY peer_id",
        [json.dumps(withdrawn)],
    )
    return {str(peer): int(count) for peer, count in rows}


def _holder_status(
    db: sqlite_utils.Database,
    revocation_id: str,
    node: str,
    receipt: Receipt | None,
    direct: bool,
) -> HolderStatus:
    sighting = last_sighting(db, node, revocation_id)
    # A copy seen after (or without) the receipt it had given makes it pending again.
    contradicted = sighting is not None and (
        receipt is None or sighting.contradicts == receipt.receipt_id
    )
    if receipt is not None and not contradicted:
        return HolderStatus(node, "purged", receipt.purged_at, direct, verified=True)
    if receipt is None and not direct and not vouched_for(db, node, revocation_id):
        return HolderStatus(node, "unconfirmed", None, direct, verified=False)
    item = waiting(db, "revocation", revocation_id, node)
    row = db.execute("SELECT last_sync FROM peers WHERE node_id = ?", [node]).fetchone()
    return HolderStatus(
        node,
        "pending",
        None if row is None else row[0],
        direct,
        verified=False,
        attempts=0 if item is None else item.attempts,
        evidence=None if sighting is None else sighting.text(),
    )
