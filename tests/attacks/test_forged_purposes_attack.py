"""Forged purposes declaration: a peer tries to change what another hub (or it) declared.

A lesson whose consent names purposes goes only to peers whose declared purposes are all
among them, so a declaration decides what a hub receives. The attacker is C, an active peer
of B; B also pairs with A, which declared it uses lessons for research only. C sends B
declarations (``POST /federation/v1/purposes``, signed with C's real node key): one naming
A; A's own genuine declaration, relayed; one for itself signed by another key; one with no
signature at all; one whose signature was tampered with. And at pairing, a joiner whose
pairing request carries a declaration signed by another key, and an inviter whose answer
does (the joiner then stores no peer and no purposes). What must hold: B refuses
each with a clear error (``invalid_purposes_declaration``), stores nothing (A's and C's
purposes, B's event log, the invite stays unused), keeps serving, and still syncs with A;
an honest declaration by C changes only C's purposes.
"""

from __future__ import annotations

from typing import Any

import pytest

from crypto.canonical import pack
from crypto.envelope import seal
from crypto.http_signatures import sign_request
from crypto.signing import SigningIdentity
from federation import endpoints, responder, wire
from federation.invites import decode_invite, pairing_proof
from federation.pairing import INVITE_HEADER
from federation.purposes import (
    PURPOSES_CONTEXT,
    Declaration,
    InvalidPurposesDeclaration,
    declare_own_purposes,
    issue_declaration,
)
from tests.integration.conftest import Cluster, RunningNode
from tests.integration.test_malicious_peer import MSGPACK, Hostile

PATH = endpoints.PURPOSES.path
REFUSED = "invalid_purposes_declaration"


def state(b: RunningNode, *others: RunningNode) -> tuple[Any, ...]:
    """What a forged declaration could change at B."""
    rows = [
        b.node.db.execute(
            "SELECT purposes, purposes_declared_at, purposes_statement FROM peers "
            "WHERE node_id = ?", [other.node_id],
        ).fetchone()
        for other in others
    ]  # fmt: skip
    return (b.counts(), rows)


def body(raw: bytes) -> bytes:
    return wire.encode(endpoints.PURPOSES.request, {"declaration": raw})


async def three(cluster: Cluster) -> tuple[RunningNode, RunningNode, RunningNode]:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    c = await cluster.start("Hub C")
    node = a.node
    declare_own_purposes(node.db, node.identity, node.node_id, ["research"], node.now())
    await cluster.pair(b, a)  # A's declaration reaches B in its pairing request
    await cluster.pair(b, c)
    return a, b, c


async def test_forged_declarations_are_refused_and_store_nothing(cluster: Cluster) -> None:
    a, b, c = await three(cluster)
    assert b.peer(a) is not None and b.peer(a).purposes == ("research",)  # type: ignore[union-attr]
    hostile = Hostile(cluster, b, c.node.identity)
    now = a.node.now() + 60
    naming_a = issue_declaration(c.node.identity, Declaration(a.node_id, ("press",), now))
    genuine_a = issue_declaration(a.node.identity, Declaration(a.node_id, ("press",), now))
    other_key = issue_declaration(SigningIdentity.generate(), Declaration(c.node_id, (), now))
    payload = pack({"node": c.node_id, "purposes": ["press"], "at": now})
    unsigned = pack([1, c.node.identity.public_key, payload, b""])
    real = seal(c.node.identity, PURPOSES_CONTEXT, payload).raw
    tampered = real[:-1] + bytes([real[-1] ^ 1])
    before = state(b, a, c)
    expected = {
        "names another node": naming_a,
        "not signed by the node sending it": genuine_a,  # relayed: C cannot speak for A
        "not signed by the node sending it ": other_key,
        "not a signed declaration": unsigned,
        "not a signed declaration ": tampered,
    }
    for words, raw in expected.items():
        answer = await hostile.send(PATH, body(raw))
        assert answer.status == 400, (words, answer)
        error = answer.error()
        assert error["code"] == REFUSED and words.strip() in error["message"], error
    assert state(b, a, c) == before
    assert await cluster.healthy(b)
    record = a.add("Still for B")
    report = await cluster.sync(b, a)
    assert report.errors == [] and b.has(record)
    assert b.peer(a).purposes == ("research",)  # type: ignore[union-attr]


async def test_an_honest_declaration_changes_only_its_signer(cluster: Cluster) -> None:
    a, b, c = await three(cluster)
    now = c.node.now() + 60
    honest = issue_declaration(c.node.identity, Declaration(c.node_id, ("press",), now))
    assert (await Hostile(cluster, b, c.node.identity).send(PATH, body(honest))).message() == {
        "updated": 1
    }
    assert b.peer(c).purposes == ("press",)  # type: ignore[union-attr]
    assert b.peer(a).purposes == ("research",)  # type: ignore[union-attr]
    # The same again, or an older one replayed, changes nothing.
    older = issue_declaration(c.node.identity, Declaration(c.node_id, ("training",), now - 1))
    for raw in (honest, older):
        again = await Hostile(cluster, b, c.node.identity).send(PATH, body(raw))
        assert again.message() == {"updated": 0}
    assert b.peer(c).purposes == ("press",)  # type: ignore[union-attr]


async def test_a_pairing_request_with_a_forged_declaration_pairs_no_one(cluster: Cluster) -> None:
    b = await cluster.start("Hub B")
    joiner = SigningIdentity.generate()
    code = decode_invite(cluster.invite(b))
    forged = issue_declaration(
        SigningIdentity.generate(), Declaration(joiner.node_id, ("training",), b.node.now())
    )
    request = {
        "invite": code.invite_id, "proof": pairing_proof(code.secret, b.node_id, joiner.node_id),
        "node_id": joiner.node_id, "name": "Hub J", "region": "East Africa",
        "url": "https://127.0.0.1:9", "statements": [], "purposes": forged,
    }  # fmt: skip
    raw = wire.encode(endpoints.PAIR.request, request)
    url = b.url + endpoints.PAIR.path
    headers = sign_request(joiner, "POST", url, raw, created=b.node.now(), recipient=b.node_id)
    headers.update({"Content-Type": MSGPACK, INVITE_HEADER: code.invite_id.hex()})
    before = b.counts()
    async with cluster.session.post(url, data=raw, headers=headers) as response:
        assert response.status == 400
        error = (await response.json())["error"]
    assert error["code"] == REFUSED and "not signed by the node sending it" in error["message"]
    assert b.counts() == before  # no peer, no event, the invite still unused
    assert await cluster.healthy(b)


async def test_an_inviter_answering_with_a_forged_declaration_is_not_paired(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The attacker is the inviter A: its answer declares purposes for A, signed by a key that
    # is not A's (say, to pass as a hub that only trains). B must not pair.
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    forged = issue_declaration(
        SigningIdentity.generate(), Declaration(a.node_id, ("training",), a.node.now())
    )
    monkeypatch.setattr(responder, "declaration_for_pairing", lambda local: forged)
    before = b.counts()
    with pytest.raises(InvalidPurposesDeclaration, match="not signed by the node sending it"):
        await cluster.pair(a, b)
    assert b.counts() == before and b.peer(a) is None  # no peer, no purposes, no event
    assert await cluster.healthy(b)
