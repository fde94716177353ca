"""Forged relayed key: a peer passes on records that name a third node as their origin but
are signed by a key of its own, hoping they pass as "a later key of that node, not learnt
yet" (which earns a relay no strike: tests/integration/test_relayed_rotation.py).

The attacker is B, the relay between A and C (A and C never meet). What must hold: C holds
the record, learns A's real key history from B, and then refuses it and strikes B; nothing
of it is stored. A relay that answers with a forged history, or with one C did not ask for,
is refused with nothing stored, and a query over the limit is refused while B serves on.
"""

from __future__ import annotations

import pytest

from archive.key_store import statements_of
from archive.record import encode_lesson
from archive.signed_record import SignedRecord
from archive.store import insert_record
from crypto.canonical import pack
from crypto.envelope import seal
from crypto.http_signatures import sign_request
from crypto.key_statements import InvalidKeyStatement
from crypto.signing import RECORD_CONTEXT, SigningIdentity
from federation import endpoints
from federation.errors import PeerProtocolError
from federation.key_relay import _take_histories
from tests.integration.conftest import Cluster, RunningNode
from tests.integration.key_helpers import give_genesis, rotated, statements_at
from tests.integration.test_relayed_rotation import chain


def forged_by(thief: SigningIdentity, origin: RunningNode, title: str) -> SignedRecord:
    """A record that names ``origin`` but is signed by a key on no chain of it."""
    lesson = origin.lesson(title, reshare=True)
    envelope = seal(thief, RECORD_CONTEXT, encode_lesson(lesson))
    return SignedRecord(lesson, envelope.raw, envelope.content_id)


async def test_a_relayed_record_still_not_signed_by_its_origin_counts_against_the_relay(
    cluster: Cluster,
) -> None:
    a, b, c = await chain(cluster)
    a, _ = await rotated(cluster, a)
    assert (await cluster.sync(a, b)).errors == []
    # B (the relay) holds a record naming A, signed by a key that is on no chain of A's.
    forged = forged_by(SigningIdentity.generate(), a, "Not from A")
    insert_record(b.node.db, forged, a.node_id, int(b.node.clock()))

    report = await cluster.sync(c, b)

    assert not c.has(forged) and report.rejected == 1
    assert statements_at(c, a) == 2  # C did learn A's history first
    strikes = [str(row[0]) for row in c.node.db.execute("SELECT reason FROM strikes")]
    assert len(strikes) == 1 and "not signed by the node it names" in strikes[0], strikes
    assert await cluster.healthy(c)


async def test_a_relay_answering_with_a_forged_or_unasked_history_is_refused(
    cluster: Cluster,
) -> None:
    a, b, c = await chain(cluster)
    give_genesis(b)
    a, _ = await rotated(cluster, a)
    history = statements_of(a.node.db, a.node_id)
    local = c.node.local_node()
    tampered = history[-1][:-1] + bytes([history[-1][-1] ^ 1])  # its signature broken

    with pytest.raises(PeerProtocolError, match="did not ask for"):
        _take_histories(local, [a.node.public_key], statements_of(b.node.db, b.node_id))
    with pytest.raises(InvalidKeyStatement, match="does not verify"):
        _take_histories(local, [a.node.public_key], [*history[:-1], tampered])
    assert statements_at(c, a) == 0 and statements_at(c, b) == 0  # nothing of either kept

    # Asking for more histories than a message allows is refused by the relay, which serves on.
    body = pack({"nodes": [bytes(32)] * 5})
    url = b.url + endpoints.KEY_HISTORIES.path
    headers = sign_request(c.node.identity, "POST", url, body, created=int(b.node.clock()),
                           recipient=b.node_id)  # fmt: skip
    headers["Content-Type"] = "application/msgpack"
    async with cluster.session.post(url, data=body, headers=headers) as answer:
        assert answer.status == 400
        assert "out of bounds" in (await answer.json())["error"]["message"]
    assert (await cluster.sync(c, b)).errors == []
