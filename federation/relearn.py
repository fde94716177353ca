"""A node restored from a backup relearns its own withdrawals before it offers anything.

A backup is a picture of the past: withdrawals the origin issued after it was made are not in
it, and a restored origin would hold those lessons again and could offer them to its peers.
Every peer that held such a lesson keeps the signed revocation forever, so:

* ``rhizome restore`` marks every paired peer (active or suspended) as *to relearn from*
  (``federation.relearn_state.mark_restored``, the ``relearn_pending`` table);
* while any active peer is still marked, the node offers nothing to anyone
  (``relearn_state.offers_held``, checked by :class:`federation.sharing.Offer`): no reconciliation
  item, no fetched record, no pushed one, no bundle;
* the first thing of every exchange with a marked peer (``sync_with_peer``, and right after
  the restore) is to ask it for the revocations we issued (``POST
  /federation/v1/own-revocations``, :func:`relearn_from`); each one, signed by our own key,
  is stored again, purges what it withdrew and is queued for its holders. Only then is the
  peer unmarked.

A peer that never answers keeps everything held; the operator may suspend or remove it
(then it no longer holds the others back), knowing that a withdrawal only it knew of would
not be relearned. Withdrawals of lessons that never left the node (``scope: local``) are
known to no peer: a backup brings those lessons back (docs/how-to/back-up-and-restore.md).
"""

from __future__ import annotations

import logging

from archive.db import transaction
from archive.errors import PurgeNotDurable
from archive.event_log import append_event
from archive.own_revocations import revocations_issued_by
from archive.purge import finish_pending_purges
from federation import endpoints, wire
from federation.client import PeerClient
from federation.errors import PeerProtocolError
from federation.local import LocalNode
from federation.peers import Peer
from federation.propagation import take_revocation
from federation.relearn_state import pending_peers, unmark
from federation.revocation import InvalidRevocation, open_revocation
from federation.workers import in_worker

MAX_PAGES = 10_000  # a guard against a peer paging forever: a million revocations
log = logging.getLogger("rhizome.federation")


def answer_own_revocations(local: LocalNode, asker: Peer, body: bytes) -> bytes:
    """A peer asks for the revocations it issued that we keep: one page of them."""
    after = wire.decode(endpoints.OWN_REVOCATIONS.request, body)["after"]
    limit = wire.MAX_REVOCATIONS_PER_MESSAGE
    found = revocations_issued_by(local.db, asker.node_id, after, limit + 1)
    page = [envelope for _, envelope in found[:limit]]
    return wire.encode(
        endpoints.OWN_REVOCATIONS.answer, {"revocations": page, "more": int(len(found) > limit)}
    )


async def relearn_from(client: PeerClient, peer: Peer) -> int | None:
    """Relearn our withdrawals from ``peer`` if it is marked; how many were new (None when
    it was not marked). Raises a federation error if the peer does not answer: it stays
    marked, and the next exchange asks again."""
    # Checking the mark, verifying and storing each page (purging what it withdrew) and
    # making the purges durable all run in a worker thread (federation/workers.py).
    local = client.local
    if not await in_worker(local, _is_marked, peer):
        return None
    after, learned = "", 0
    for _ in range(MAX_PAGES):
        answer = await client.call(
            endpoints.OWN_REVOCATIONS, {"after": after}, recipient=peer.node_id, base_url=peer.url
        )
        after = await in_worker(local, _take_page, answer["revocations"], peer, after)
        learned += len(answer["revocations"])
        if not answer["more"] or not answer["revocations"]:
            break
    await in_worker(local, _finish, peer, learned)
    return learned


def _is_marked(local: LocalNode, peer: Peer) -> bool:
    return peer.node_id in pending_peers(local.db)


def _take_page(local: LocalNode, raws: list[bytes], peer: Peer, after: str) -> str:
    """Store one page of our own revocations again; the last id taken so far."""
    for raw in raws:
        after = max(after, _take_own(local, raw, peer))
    return after


def _take_own(local: LocalNode, raw: bytes, peer: Peer) -> str:
    """Store one of our own revocations again (purging what it withdrew); its id."""
    try:
        revocation = open_revocation(raw)
    except InvalidRevocation as error:
        raise PeerProtocolError(f"the peer sent a revocation that fails: {error}") from error
    if revocation.origin != local.node_id:
        raise PeerProtocolError("asked for our own revocations, the peer sent another node's")
    take_revocation(local, raw, peer)
    return revocation.revocation_id


def _finish(local: LocalNode, peer: Peer, learned: int) -> None:
    """Once the purges are durable, unmark the peer and log it."""
    if not finish_pending_purges(local.db):
        raise PurgeNotDurable("the relearned withdrawals are not yet scrubbed from the disk")
    with transaction(local.db):
        unmark(local.db, peer.node_id)
        append_event(
            local.db, local.identity, "restore.relearned", peer.node_id,
            {"revocations": learned}, local.now(),
        )  # fmt: skip
    log.info("relearned our withdrawals after a restore", extra={"peer": peer.node_id,
             "revocations": learned})  # fmt: skip
