"""Attack: a holder's receipt names nodes that never held the record.

A paired holder (B) purges a withdrawn lesson and signs a purge receipt whose "forwarded
to" list names dozens of made-up nodes (valid node ids, never peers of anyone here). Before
the fix the origin listed fifty "pending" holders that will never answer: the operator can
no longer tell real missing receipts from noise, and a receipt could name any number.

What must hold: a receipt names at most 48 forwarded nodes (more is refused with a strike,
nothing stored); a forwarded name counts as a holder only when the origin can vouch for it
(its own peer, its own receipt, or a copy seen): the origin's own peers named there get
the revocation from the origin too and end *purged*; the made-up names are listed as
*unconfirmed*, never as pending holders.
"""

from __future__ import annotations

from crypto.canonical import pack
from crypto.envelope import seal
from crypto.signing import SigningIdentity
from federation import endpoints
from federation.propagation import receipt_status, revoke
from federation.revocation import MAX_FORWARDED, RECEIPT_CONTEXT, issue_receipt
from federation.revocation_client import ExchangeReport, push_outbox
from tests.integration.conftest import Cluster, RunningNode
from tests.integration.revocation_helpers import admin_actor, statuses


def made_up_nodes(count: int) -> list[str]:
    return [SigningIdentity.generate().node_id for _ in range(count)]


async def send_receipt(cluster: Cluster, b: RunningNode, a: RunningNode, raw: bytes) -> int:
    answer = await cluster.client(b).call(
        endpoints.RECEIPTS,
        {"receipts": [raw]},
        recipient=a.node_id,
        base_url=a.url,
    )
    return int(answer["accepted"])


async def test_made_up_forwarded_holders_are_unconfirmed_and_bounded(cluster: Cluster) -> None:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    c = await cluster.start("Hub C")  # A's peer; never received the lesson
    await cluster.pair(a, b)
    await cluster.pair(a, c)
    record = a.add("Where the printers are", "Back room.\n")
    assert (await cluster.sync(b, a)).errors == []
    revocation = revoke(a.node.local_node(), record.id_hex, admin_actor(a.node), "safety", None)
    assert (await cluster.sync(b, a)).errors == []  # B purges honestly...
    assert statuses(a, record.id_hex) == {b.node_id: "purged"}
    phantoms = made_up_nodes(MAX_FORWARDED - 2)  # the issue saw fifty; now the cap bounds it

    # ...then signs a later receipt naming dozens of made-up nodes and A's other peer C.
    lying = issue_receipt(
        b.node.identity, revocation.revocation_id, int(b.node.clock()) + 1, [*phantoms, c.node_id]
    )
    assert await send_receipt(cluster, b, a, lying.envelope) == 1

    shown = statuses(a, record.id_hex)
    assert sorted(node for node, status in shown.items() if status == "pending") == [c.node_id]
    assert sorted(node for node, status in shown.items() if status == "unconfirmed") == sorted(
        phantoms
    )
    assert shown[b.node_id] == "purged"
    (_, holders) = receipt_status(a.node.db, record.id_hex)
    assert all(not h.verified for h in holders if h.status == "unconfirmed")

    # A's own peer named there gets the revocation from A and answers for itself.
    peer_c = a.peer(c)
    assert peer_c is not None
    assert await push_outbox(cluster.client(a), peer_c, ExchangeReport()) == 1
    assert statuses(a, record.id_hex)[c.node_id] == "purged"
    assert a.count("outbox") == 0

    # A receipt naming more than the cap is refused whole, with a strike.
    before = {table: a.count(table) for table in ("receipts", "copies_seen", "outbox")}
    strikes = a.count("strikes")
    flood = _with_forwarded(b, revocation.revocation_id, made_up_nodes(MAX_FORWARDED + 1))
    assert await send_receipt(cluster, b, a, flood) == 0
    assert {table: a.count(table) for table in before} == before
    assert a.count("strikes") == strikes + 1
    assert len(statuses(a, record.id_hex)) == 2 + len(phantoms)  # B, C and the claims
    assert await cluster.healthy(a)


def _with_forwarded(b: RunningNode, revocation_id: str, forwarded: list[str]) -> bytes:
    """A receipt signed by B naming ``forwarded`` whole (issue_receipt would cap it)."""
    payload = pack([1, bytes.fromhex(revocation_id), b.node_id, 1, sorted(forwarded)])
    return seal(b.node.identity, RECEIPT_CONTEXT, payload).raw


def test_a_honest_holder_with_many_peers_still_signs_a_valid_receipt() -> None:
    """Past the cap the holder still forwards to every peer; its receipt names the first 48."""
    holder = SigningIdentity.generate()
    receipt = issue_receipt(holder, "ab" * 32, 1, made_up_nodes(MAX_FORWARDED + 10))
    assert len(receipt.forwarded_to) == MAX_FORWARDED
