"""Peers learn of a member's compromise: hub A's admin marks a curator's key compromised
from a moment; A signs a member notice and hands it to B at the next sync; B stores it,
lists the withdrawals that member signed from that moment on (event
``peer.member_compromised``) and flags any that arrives later; a notice forged by another
peer is refused whole and nothing is stored.
"""

from __future__ import annotations

import json

from crypto.canonical import pack
from crypto.envelope import seal
from federation import endpoints, wire
from federation.member_notices import NOTICE_CONTEXT
from federation.propagation import revoke
from federation.revocation import Actor
from node.actions.member_keys import MarkCompromised, mark_member_compromised
from node.home import HomePaths, create_member
from node.status import peer_healths
from tests.integration.conftest import Cluster, RunningNode
from tests.integration.test_malicious_peer import Hostile


def add_curator(running: RunningNode, name: str) -> Actor:
    node = running.node
    create_member(HomePaths(running.home), node.db, node.identity, name, ("curator", "steward"),
                  None, node.now())  # fmt: skip
    member = node.member(name)
    return Actor(member.name, node.member_identity(name), member.certificate)


def events(running: RunningNode, kind: str) -> list[dict]:  # type: ignore[type-arg]
    rows = running.node.db.execute(
        "SELECT detail FROM events WHERE kind = ? ORDER BY seq", [kind]
    ).fetchall()
    return [json.loads(row[0]) for row in rows]


async def test_a_peer_is_told_and_lists_what_the_member_withdrew(cluster: Cluster) -> None:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    await cluster.pair(b, a)
    chidi = add_curator(a, "chidi")
    early, late, later = a.add("Kept"), a.add("Withdrawn by chidi"), a.add("Also withdrawn")
    assert (await cluster.sync(a, b)).errors == []
    moment = a.node.now()
    withdrawal = revoke(a.node.local_node(), late.id_hex, chidi, "safety", None)
    assert (await cluster.sync(a, b)).errors == []
    assert not b.has(late) and b.has(early)

    # chidi withdraws again; B learns it only after the notice, in the same sync.
    second = revoke(a.node.local_node(), later.id_hex, chidi, "safety", None)
    admin = a.node.member("admin")
    mark_member_compromised(a.node, MarkCompromised(admin, "chidi", moment))
    assert (await cluster.sync(a, b)).errors == []
    [told] = events(b, "peer.member_compromised")
    assert told == {
        "member": "chidi", "kind": "compromised", "since": moment,
        "withdrawals_after": [withdrawal.revocation_id],
    }  # fmt: skip
    flagged = [e for e in events(b, "record.purged") if e["revocation"] == second.revocation_id]
    assert [e.get("member_compromised") for e in flagged] != [None] and len(flagged) == 1
    assert not b.has(later)  # honoured all the same: the operator is told why it is doubtful
    assert b.count("member_notices", "origin = ?", [a.node_id]) == 1
    assert a.count("member_notices_told", "peer_id = ?", [b.node_id]) == 1
    [health] = [h for h in peer_healths(b.node.db, b.node_id) if h.peer.node_id == a.node_id]
    assert health.doubted_members == (("chidi", "compromised", moment),)  # the Peers page
    assert (await cluster.sync(a, b)).errors == []  # told once: nothing new the next time
    assert len(events(b, "peer.member_compromised")) == 1


async def test_a_notice_forged_by_another_peer_is_refused(cluster: Cluster) -> None:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    c = await cluster.start("Hub C")
    await cluster.pair(b, a)
    await cluster.pair(b, c)
    # C claims that A's admin is compromised, signing with its own key.
    forged = seal(
        c.node.identity, NOTICE_CONTEXT,
        pack([1, a.node_id, "compromised", "admin", bytes(32), 0, c.node.now()]),
    ).raw  # fmt: skip
    body = wire.encode(endpoints.MEMBER_NOTICES.request, {"notices": [forged]})
    answer = await Hostile(cluster, b, c.node.identity).send(endpoints.MEMBER_NOTICES.path, body)
    assert answer.status == 400 and b"invalid_member_notice" in answer.body
    assert b.count("member_notices") == 0
    assert events(b, "peer.member_compromised") == []
    assert await cluster.healthy(b)
