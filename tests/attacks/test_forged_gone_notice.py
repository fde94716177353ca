"""Forged "gone" notice: a peer tries to make a hub forget another node (as if it was wiped).

The attacker is C, an active peer of B; B is also paired with A. C wants B to stop sending to
A (withdrawals included), so C sends B a "this node is gone" notice (``POST
/federation/v1/gone``) about A: one signed by C's own key but naming A, one where C copies a
real notice A made for another node, and one too old; and C also tries a request claiming
A's key id. What must hold: B refuses each (a clear error, 400/401), A stays active at B,
nothing is logged as gone, B keeps serving and still syncs with A. An honest notice, signed
by A about itself for B, makes A gone at B (and only A), logged, and B sends A nothing more.
"""

from __future__ import annotations

import time

from crypto.canonical import pack
from crypto.envelope import seal
from crypto.signing import SigningIdentity
from federation import endpoints, wire
from federation.gone import GONE_CONTEXT, issue_gone_notice, tell_peers_gone
from federation.peers import list_peers
from node.status import node_status
from tests.integration.conftest import Cluster, RunningNode
from tests.integration.test_malicious_peer import Hostile

PATH = endpoints.GONE.path


def notice_body(raw: bytes) -> bytes:
    return wire.encode(endpoints.GONE.request, {"notice": raw})


def status_at(holder: RunningNode, peer: RunningNode) -> str:
    found = holder.peer(peer)
    assert found is not None
    return found.status


async def three(cluster: Cluster) -> tuple[RunningNode, RunningNode, RunningNode]:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    c = await cluster.start("Hub C")
    await cluster.pair(b, a)
    await cluster.pair(b, c)
    return a, b, c


def gone_events(node: RunningNode) -> int:
    return node.count("events", "kind = 'peer.gone'")


async def test_a_notice_about_another_node_is_refused(cluster: Cluster) -> None:
    a, b, c = await three(cluster)
    hostile = Hostile(cluster, b, c.node.identity)
    now = int(time.time())

    # C's own key, naming A as the node that is gone.
    payload = pack({"node": a.node_id, "to": b.node_id, "at": now})
    forged = seal(c.node.identity, GONE_CONTEXT, payload).raw
    answer = await hostile.send(PATH, notice_body(forged))
    assert answer.status == 400 and answer.error()["code"] == "invalid_gone_notice"
    assert "names another node than its signer" in answer.error()["message"]
    # A's real notice, meant for another node, relayed by C: not signed by C.
    real_for_other = issue_gone_notice(a.node.identity, a.node_id, c.node_id, now)
    answer = await hostile.send(PATH, notice_body(real_for_other))
    assert answer.status == 400 and "not signed by the node sending it" in answer.error()["message"]
    # A key made up on the spot, naming nothing we know.
    stranger_key = SigningIdentity.generate()
    stranger = issue_gone_notice(stranger_key, stranger_key.node_id, b.node_id, now)
    assert (await hostile.send(PATH, notice_body(stranger))).status == 400
    # C claiming to be A in the request signature: the signature does not verify.
    body = notice_body(issue_gone_notice(a.node.identity, a.node_id, b.node_id, now))
    headers = hostile.headers(PATH, body)
    signed_by = headers["Signature-Input"].split('keyid="')[1].split('"')[0]
    headers["Signature-Input"] = headers["Signature-Input"].replace(signed_by, a.node_id)
    assert (await hostile.send(PATH, body, headers)).status == 401

    assert status_at(b, a) == "active" and status_at(b, c) == "active"
    assert gone_events(b) == 0
    record = a.add("Still for A and B")
    report = await cluster.sync(b, a)
    assert report.errors == [] and b.has(record)


async def test_a_stale_or_misaddressed_notice_of_the_sender_is_refused(cluster: Cluster) -> None:
    a, b, c = await three(cluster)
    hostile = Hostile(cluster, b, c.node.identity)
    stale = issue_gone_notice(c.node.identity, c.node_id, b.node_id, int(time.time()) - 3600)
    answer = await hostile.send(PATH, notice_body(stale))
    assert answer.status == 400 and "stale" in answer.error()["message"]
    elsewhere = issue_gone_notice(c.node.identity, c.node_id, a.node_id, int(time.time()))
    answer = await hostile.send(PATH, notice_body(elsewhere))
    assert answer.status == 400 and "meant for another node" in answer.error()["message"]
    assert status_at(b, c) == "active" and gone_events(b) == 0


async def test_an_honest_notice_makes_only_its_signer_gone(cluster: Cluster) -> None:
    a, b, c = await three(cluster)
    await cluster.pair(a, c)
    told = await tell_peers_gone(cluster.client(c), list_peers(c.node.db))
    assert sorted(t.peer.node_id for t in told if t.error is None) == sorted(
        [a.node_id, b.node_id]
    )
    assert status_at(b, c) == "gone" and status_at(a, c) == "gone"
    assert status_at(b, a) == "active"
    assert gone_events(b) == 1
    shown = node_status(b.node.paths, b.node.db, b.node_id, b.name).warnings()
    assert any(w.startswith("Hub C said it was wiped") for w in shown), shown
    # B sends C nothing more: a sync B starts with C is refused before any exchange.
    peer = b.peer(c)
    assert peer is not None
    report = await cluster.sync(b, c)
    assert report.errors and "gone" in report.errors[0]
    # And C, still running, is no longer an active peer at B.
    body = wire.encode(endpoints.NOTIFY.request, {})
    answer = await Hostile(cluster, b, c.node.identity).send(endpoints.NOTIFY.path, body)
    assert answer.status == 403
