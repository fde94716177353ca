"""The serving side of federation, sans-IO: message bytes in, message bytes out.

The aiohttp routes (``federation.routes``) authenticate the request and find the peer,
then call these methods; everything a peer can send is decoded and checked here.
Negentropy responders keep no state between messages, only the set they reconcile: every
session of a peer reads the offer set kept for that peer (federation/offer_sets.py). The
routes call these methods in a worker thread, on a connection of its own (``in_worker``).
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TypeVar

from archive.db import transaction
from archive.event_log import append_event
from crypto.errors import InvalidNodeId
from crypto.key_statements import InvalidKeyStatement
from crypto.node_id import normalize_node_id, public_key_from_node_id
from federation import endpoints, wire
from federation.acks import issue_ack
from federation.copies import answer_tombstone_query
from federation.errors import PeerProtocolError, TooBusy
from federation.exchanges import begin_inbound, count_inbound
from federation.gone import take_gone_notice
from federation.invites import redeem_invite, sign_acceptance
from federation.key_exchange import history_at_pairing, keep_paired_history, own_history
from federation.key_relay import answer_key_histories
from federation.local import LocalNode
from federation.negentropy import NegentropyError, Responder
from federation.outbox import acknowledge_signed, hand_out, outgoing_for
from federation.peers import Peer, is_peer_url, record_deliveries, save_peer
from federation.propagation import accept_revocation, revocation_envelopes, take_receipts
from federation.purposes_announce import check_paired, declaration_for_pairing, take_paired
from federation.rate import RateLimit
from federation.receiving import Receiver
from federation.relearn import answer_own_revocations
from federation.revocation import InvalidRevocation
from federation.sharing import Offer, kept_offer_storage
from federation.workers import in_worker

T = TypeVar("T")
log = logging.getLogger("rhizome.federation")
SESSION_SECONDS = 120
MAX_SESSIONS = 64
SESSIONS_PER_PEER = 2  # so one peer cannot take every session from the others
# A new session may bring the peer's offer set up to date (or build it, a scan of the
# archive): a burst covers an honest peer's syncs and pulls; a peer that churns sessions
# waits its turn.
NEW_SESSIONS_BURST = 8
NEW_SESSIONS_PER_SECOND = 1 / 5
# Sessions share the kept offer sets (federation/offer_sets.py); a session reading an
# older snapshot keeps it alive. The distinct snapshots all sessions hold stay within
# this many bytes: past it the least recently used sessions end (the peer starts again).
SESSION_BYTES = 128 * 2**20


@dataclass
class _Session:
    responder: Responder
    expires: float
    nbytes: int = 0
    storage_id: int = 0


@dataclass
class FederationResponder:
    local: LocalNode
    sessions: dict[tuple[str, str], _Session] = field(default_factory=dict)
    new_sessions: RateLimit = field(
        default_factory=lambda: RateLimit(NEW_SESSIONS_BURST, NEW_SESSIONS_PER_SECOND)
    )
    # Called when something new waits in the outbox, so it leaves at once.
    on_outbox: Callable[[], None] = lambda: None
    # Sessions and the rate limit are shared by the worker threads that serve requests.
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def in_worker(self, work: Callable[[FederationResponder], T]) -> T:
        """``work(twin)`` in a worker thread, ``twin`` being this responder on a database
        connection of its own (federation/workers.py): every message that reads or
        writes the archive is handled off the event loop."""
        loop = asyncio.get_running_loop()
        wake = self.on_outbox

        def on_outbox() -> None:  # the outbox loop waits on the event loop
            loop.call_soon_threadsafe(wake)

        return await in_worker(
            self.local, lambda local: work(replace(self, local=local, on_outbox=on_outbox))
        )

    def pair(self, signer_key_id: str, body: bytes, named_invite: bytes | None = None) -> bytes:
        """A node redeems our invite: check the proof, add it, answer with our signature.

        ``signer_key_id`` is the key that signed the request: the joiner's id, or after a
        rotation its current key, which the key history it shows must lead to.
        ``named_invite`` is the invite the request named before its body was read."""
        request = wire.decode(endpoints.PAIR.request, body)
        if named_invite is not None and request["invite"] != named_invite:
            raise PeerProtocolError("the pairing request names another invite than its header")
        joiner_id = _named_node(request["node_id"])
        if not is_peer_url(request["url"]):
            raise PeerProtocolError(
                "the joining node's URL must be http:// or https:// with a host"
            )
        db, now = self.local.db, self.local.now()
        raws = list(request["statements"])
        try:
            history = history_at_pairing(
                joiner_id, public_key_from_node_id(signer_key_id), raws, now
            )
        except InvalidKeyStatement as error:
            if not raws:  # a node without a history signs with its id's key
                raise PeerProtocolError(
                    "the pairing request is signed by another node than it names"
                ) from error
            raise
        signer_key = public_key_from_node_id(signer_key_id)
        declared = request.get("purposes")  # the joiner's own, signed by the pairing's key
        check_paired(declared, joiner_id, signer_key)
        with transaction(db):
            redeem_invite(
                db, request["invite"], request["proof"], self.local.node_id, joiner_id, now
            )
            save_peer(db, joiner_id, request["name"], request["region"], request["url"], now)
            keep_paired_history(self.local, joiner_id, history)
            append_event(db, self.local.identity, "peer.added", joiner_id, {"via": "invite"}, now)
            take_paired(self.local, joiner_id, declared, signer_key)
        log.info("paired by invite", extra={"peer": joiner_id})
        return wire.encode(
            endpoints.PAIR.answer,
            {
                "node_id": self.local.node_id,
                "name": self.local.name,
                "region": self.local.region,
                "url": self.local.url,
                "signature": sign_acceptance(self.local.identity, joiner_id, request["proof"]),
                "statements": own_history(self.local),
                "purposes": declaration_for_pairing(self.local),
            },
        )

    def reconcile(self, peer: Peer, body: bytes) -> bytes:
        request = wire.decode(endpoints.RECONCILE.request, body)
        session = self._session(peer, request["session"])
        try:
            answer = session.responder.reconcile(request["msg"])
        except NegentropyError as error:
            raise PeerProtocolError(f"bad reconciliation message: {error}") from error
        return wire.encode(endpoints.RECONCILE.answer, {"msg": answer})

    def opens_session(self, peer: Peer, body: bytes) -> bool:
        """Whether this reconcile message would open a new session (which may build the
        peer's offer set): cheap, for the route to queue such messages before a thread."""
        try:
            session_id = wire.decode(endpoints.RECONCILE.request, body)["session"]
        except PeerProtocolError:
            return False  # the worker refuses it with the same error
        with self.lock:
            return (peer.node_id, session_id) not in self.sessions

    def fetch(self, peer: Peer, body: bytes) -> bytes:
        """Send the requested records the decision lets this peer have (others are skipped)."""
        request = wire.decode(endpoints.FETCH.request, body)
        if not request["ids"]:
            raise PeerProtocolError("ask for at least one record")
        db, now = self.local.db, self.local.now()
        found, handled = Offer.of(self.local).envelopes_for(
            request["ids"], peer, wire.BATCH_BYTES
        )
        with transaction(db):
            record_deliveries(db, peer.node_id, [record_id for record_id, _ in found], "sent", now)
            count_inbound(db, peer.node_id, received=0, sent=len(found))
        answer = {"records": [envelope for _, envelope in found], "handled": handled}
        return wire.encode(endpoints.FETCH.answer, answer)

    def push(self, peer: Peer, body: bytes) -> bytes:
        request = wire.decode(endpoints.PUSH.request, body)
        result = Receiver.of(self.local).receive(request["records"], peer, pushed=True)
        stored = len(result.stored) + len(result.quarantined)
        with transaction(self.local.db):
            count_inbound(self.local.db, peer.node_id, received=stored, sent=0)
        self.on_outbox()
        return wire.encode(
            endpoints.PUSH.answer,
            {
                "stored": len(result.stored) + len(result.quarantined),
                "duplicates": result.duplicates,
                # Held (signed by a key of a third origin not learnt yet): not stored, no
                # strike; our next sync fetches it from the peer and learns the history.
                "rejected": len(result.rejected) + len(result.held),
                "revocations": revocation_envelopes(self.local.db, result.revoked)[
                    : wire.MAX_REVOCATIONS_PER_MESSAGE
                ],
            },
        )

    def revocations(self, peer: Peer, body: bytes) -> bytes:
        """A peer withdraws records: purge each, answer with our signed receipts."""
        request = wire.decode(endpoints.REVOCATIONS.request, body)
        receipts = []
        for raw in request["revocations"]:
            try:
                receipts.append(accept_revocation(self.local, raw, peer).envelope)
            except InvalidRevocation:
                continue  # struck and logged; the others still count
        log.info(
            "withdrawals received",
            extra={"peer": peer.node_id, "offered": len(request["revocations"]),
                   "purged": len(receipts)},
        )  # fmt: skip
        self.on_outbox()
        return wire.encode(endpoints.REVOCATIONS.answer, {"receipts": receipts})

    def receipts(self, peer: Peer, body: bytes) -> bytes:
        """Receipts from a peer: kept (and relayed), answered with our signed ack of every one
        that verified, so the peer may forget them."""
        request = wire.decode(endpoints.RECEIPTS.request, body)
        kept, processed = take_receipts(self.local, request["receipts"], peer)
        ack = issue_ack(self.local.identity, peer.node_id, processed, self.local.now())
        self.on_outbox()
        return wire.encode(endpoints.RECEIPTS.answer, {"accepted": kept, "ack": ack.envelope})

    def ack(self, peer: Peer, body: bytes) -> bytes:
        """The peer acknowledges receipts it pulled from us: only now do they leave."""
        request = wire.decode(endpoints.ACK.request, body)
        removed = acknowledge_signed(
            self.local.db, request["ack"], peer.node_id, self.local.node_id
        )
        return wire.encode(endpoints.ACK.answer, {"removed": removed})

    def tombstones(self, peer: Peer, body: bytes) -> bytes:
        """The peer holds these ids and we lack them: the revocations we know for any of
        them (a stale copy purges in this exchange; we keep the sighting as evidence)."""
        request = wire.decode(endpoints.TOMBSTONES.request, body)
        revocations = answer_tombstone_query(self.local, peer, request["ids"])
        if revocations:
            self.on_outbox()
        return wire.encode(endpoints.TOMBSTONES.answer, {"revocations": revocations})

    def gone(self, peer: Peer, body: bytes) -> bytes:
        """The peer says it was wiped (federation/gone.py): checked, then it is gone here."""
        return take_gone_notice(self.local, peer, body)

    def key_histories(self, peer: Peer, body: bytes) -> bytes:
        """The key histories we hold of the nodes the peer names (federation/key_relay.py):
        it got a record we passed on, signed by a later key of its origin."""
        return answer_key_histories(self.local, body)

    def own_revocations(self, peer: Peer, body: bytes) -> bytes:
        """The peer, restored from a backup, relearns the withdrawals it issued
        (federation/relearn.py): one page of those we keep."""
        return answer_own_revocations(self.local, peer, body)

    def outbox(self, peer: Peer, body: bytes) -> bytes:
        """Hand a peer what waits for it here (it was offline when we tried). Every item not
        yet acknowledged goes, each time it asks: handing out removes nothing."""
        wire.decode(endpoints.OUTBOX.request, body)
        waiting = outgoing_for(self.local.db, peer.node_id)
        hand_out(self.local.db, peer.node_id, waiting.items(), self.local.now())
        return wire.encode(
            endpoints.OUTBOX.answer,
            {
                "revocations": [envelope for _, envelope in waiting.revocations],
                "receipts": [envelope for _, envelope in waiting.receipts],
            },
        )

    def _make_room_for(self, node_id: str) -> None:
        """A peer opening more sessions than its share drops its own oldest one: it can only
        crowd out itself, never the other peers."""
        own = sorted(
            (session.expires, key) for key, session in self.sessions.items() if key[0] == node_id
        )
        for _, key in own[: max(0, len(own) - SESSIONS_PER_PEER + 1)]:
            del self.sessions[key]

    def _session(self, peer: Peer, session_id: str) -> _Session:
        now = self.local.clock()
        key = (peer.node_id, session_id)
        with self.lock:
            for gone in [k for k, s in self.sessions.items() if s.expires <= now]:
                del self.sessions[gone]
            session = self.sessions.get(key)
            if session is not None:
                session.expires = now + SESSION_SECONDS
                return session
            self._admit_new_session(peer.node_id, now)
        # Outside the lock: bringing the offer set up to date may take a while (a first
        # build scans the archive); other peers' sessions go on meanwhile.
        storage = kept_offer_storage(self.local, peer)
        session = _Session(
            Responder(storage, wire.FRAME_SIZE_LIMIT), now + SESSION_SECONDS, storage.nbytes,
            id(storage),
        )  # fmt: skip
        with self.lock:
            self.sessions[key] = session
            self._keep_within_bytes(key)
        with transaction(self.local.db):
            begin_inbound(self.local.db, peer.node_id, int(now))
        return session

    def _admit_new_session(self, node_id: str, now: float) -> None:
        """Refuse a new session past the peer's pace or the node's room (under the lock)."""
        if wait := self.new_sessions.take(node_id, now):
            raise TooBusy(
                f"too many new sync sessions from your node; retry in {math.ceil(wait)} s",
                retry_after=wait,
            )
        self._make_room_for(node_id)
        if len(self.sessions) >= MAX_SESSIONS:
            raise TooBusy("too many sync sessions at once; try again shortly")

    def _keep_within_bytes(self, newest: tuple[str, str]) -> None:
        """End the least recently used sessions while the snapshots they hold (each
        counted once: sessions of one offer set share it) exceed :data:`SESSION_BYTES`."""
        while session_bytes(self.sessions) > SESSION_BYTES and len(self.sessions) > 1:
            oldest = min((s.expires, k) for k, s in self.sessions.items() if k != newest)[1]
            del self.sessions[oldest]


def session_bytes(sessions: dict[tuple[str, str], _Session]) -> int:
    """Bytes of the distinct offer set snapshots the sessions hold."""
    return sum({s.storage_id: s.nbytes for s in sessions.values()}.values())


def _named_node(text: str) -> str:
    """The joiner's node id as its pairing request spells it: canonical, or refused."""
    try:
        if normalize_node_id(text) == text:
            return text
    except InvalidNodeId:
        pass
    raise PeerProtocolError("the pairing request names a malformed node id")
