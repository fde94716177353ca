"""Forged key rotation: a peer tries to make a hub believe another node's key changed.

The attacker is C, an active peer of B; B is also paired with A. C hands B (``POST
/federation/v1/key-history``) a history of A whose rotation to C's key is signed by C, not by
A's current key; then one whose rotation follows a statement B was never shown; then a
rotation with one byte changed. What must hold: B refuses each whole (400, a clear error),
stores none of it, A's current key at B stays A's own, B keeps serving, and B still syncs
with A.
"""

from __future__ import annotations

from archive.key_store import current_key, statements_of
from crypto.canonical import unpack
from crypto.envelope import seal
from crypto.key_statements import KEY_HISTORY_CONTEXT, make_rotation, open_statement
from crypto.signing import SigningIdentity
from federation import endpoints, wire
from tests.integration.conftest import Cluster
from tests.integration.key_helpers import give_genesis
from tests.integration.test_malicious_peer import Hostile

PATH = endpoints.KEY_HISTORY.path


async def test_a_forged_rotation_is_refused_whole(cluster: Cluster) -> None:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    c = await cluster.start("Hub C")
    await cluster.pair(b, a)
    await cluster.pair(b, c)
    give_genesis(a)
    assert (await cluster.sync(a, b)).errors == []  # B holds A's genesis
    genesis = statements_of(a.node.db, a.node_id)[0]
    mallory = SigningIdentity.from_seed(c.node.identity.seed)
    hostile = Hostile(cluster, b, mallory)
    now = a.node.now()
    # A rotation A's key could sign (never sent): the attacker's starting material.
    honest = make_rotation(a.node.identity, open_statement(genesis), mallory.public_key, now)

    # Signed by C's key, not A's: the same payload, another signer.
    resealed = seal(mallory, KEY_HISTORY_CONTEXT, _payload(honest.raw)).raw
    # Following a statement B never saw.
    later = make_rotation(mallory, honest, mallory.public_key, now + 1).raw
    # One byte changed in an honest-looking rotation.
    flipped = bytearray(honest.raw)
    flipped[-70] ^= 1

    for forged in ([genesis, resealed], [genesis, later], [genesis, bytes(flipped)]):
        before = b.counts()
        body = wire.encode(endpoints.KEY_HISTORY.request, {"statements": forged})
        answer = await hostile.send(PATH, body)
        assert answer.status == 400, answer
        assert answer.error()["code"] == "invalid_key_statement"
        assert b.counts() == before
        assert len(statements_of(b.node.db, a.node_id)) == 1
        assert current_key(b.node.db, a.node_id) == a.node.public_key
    assert await cluster.healthy(b)
    assert (await cluster.sync(b, a)).errors == []
    assert b.peer(a).status == "active"  # type: ignore[union-attr]


def _payload(raw: bytes) -> bytes:
    payload = unpack(raw)[2]
    assert isinstance(payload, bytes)
    return payload
