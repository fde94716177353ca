"""The federation endpoints, in one table: path, request message, answer message.

The routes (``federation/routes.py``) are registered from it, the responder decodes and
encodes with its messages, and the client (``PeerClient.call``) takes an endpoint instead of
a path and two schemas, so the two sides cannot name different messages for one path.
docs/reference/federation-protocol.md describes each one (tests/test_docs.py checks it).
"""

from __future__ import annotations

from dataclasses import dataclass

from federation import blob_wire, wire

PREFIX = "/federation/v1/"


@dataclass(frozen=True)
class Endpoint:
    """One federation route: ``name`` is its aiohttp route name, the path follows from it."""

    name: str
    request: wire.Schema
    answer: wire.Schema

    @property
    def path(self) -> str:
        return PREFIX + self.name

    @property
    def route_name(self) -> str:
        return f"federation_{self.name}"


PAIR = Endpoint("pair", wire.PAIR_REQUEST, wire.PAIR_RESPONSE)
RECONCILE = Endpoint("reconcile", wire.RECONCILE_REQUEST, wire.RECONCILE_RESPONSE)
FETCH = Endpoint("fetch", wire.FETCH_REQUEST, wire.FETCHED)
PUSH = Endpoint("push", wire.RECORDS, wire.PUSH_RESPONSE)
NOTIFY = Endpoint("notify", wire.NOTIFY, wire.NOTIFY)
REVOCATIONS = Endpoint("revocations", wire.REVOCATIONS, wire.RECEIPTS)
RECEIPTS = Endpoint("receipts", wire.RECEIPTS, wire.ACCEPTED)
OUTBOX = Endpoint("outbox", wire.NOTIFY, wire.OUTBOX)
ACK = Endpoint("ack", wire.ACK, wire.ACKED)
TOMBSTONES = Endpoint("tombstones", wire.TOMBSTONE_QUERY, wire.TOMBSTONES)
ECHO = Endpoint("echo", wire.ECHO_REQUEST, wire.ECHO_ANSWER)
ADDRESS = Endpoint("address", wire.ADDRESS, wire.ADDRESS_ANSWER)
GONE = Endpoint("gone", wire.GONE_NOTICE, wire.GONE_ANSWER)
OWN_REVOCATIONS = Endpoint("own-revocations", wire.OWN_REVOCATIONS_QUERY, wire.OWN_REVOCATIONS)
KEY_HISTORY = Endpoint("key-history", wire.KEY_HISTORY, wire.KEY_HISTORY_ANSWER)
PURPOSES = Endpoint("purposes", wire.PURPOSES, wire.PURPOSES_ANSWER)
KEY_HISTORIES = Endpoint("key-histories", wire.KEY_HISTORIES_QUERY, wire.KEY_HISTORIES)

ENDPOINTS: tuple[Endpoint, ...] = (
    PAIR, RECONCILE, FETCH, PUSH, NOTIFY, REVOCATIONS, RECEIPTS, OUTBOX, ACK, TOMBSTONES, ECHO,
    ADDRESS, GONE, OWN_REVOCATIONS, KEY_HISTORY, KEY_HISTORIES, PURPOSES,
)  # fmt: skip

# Attachment bytes, chunk by chunk (federation/blob_transfer.py, federation/blob_fetch.py).
BLOB = Endpoint("blob", blob_wire.BLOB_REQUEST, blob_wire.BLOB_CHUNK)
ENDPOINTS = (*ENDPOINTS, BLOB)
# A node recovered with no backup: the recovery itself, then its own records back
# (federation/recovery.py, federation/own_records.py; routes in federation/recovery_routes.py).
RECOVER = Endpoint("recover", wire.RECOVER_REQUEST, wire.RECOVER_ANSWER)
OWN_RECORDS = Endpoint("own-records", wire.OWN_RECORDS_QUERY, wire.OWN_RECORDS)
# Members removed or compromised, told to peers (federation/member_notices.py).
MEMBER_NOTICES = Endpoint("member-notices", wire.MEMBER_NOTICES, wire.MEMBER_NOTICES_ANSWER)
ENDPOINTS = (*ENDPOINTS, RECOVER, OWN_RECORDS, MEMBER_NOTICES)
