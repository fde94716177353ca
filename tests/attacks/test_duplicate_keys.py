"""A paired peer sends msgpack maps that name the same key twice.

msgpack keeps the last value of a repeated key, so a message or record read by two programs
could mean two things (one checks the first "title", another shows the last). The attacker
pushes a body whose map names ``records`` twice, and a record it really signed whose lesson
names ``title`` twice. What must hold: both are refused whole with an error that says a key is
repeated (400 in the one error shape for the body; a rejection and a strike for the record),
nothing is stored, and the node keeps serving.
"""

from __future__ import annotations

import json
import time

import msgpack
import pytest

from archive.record import Consent, Lesson, encode_lesson
from archive.signed_record import sign_lesson
from crypto.canonical import DuplicateKey, unpack
from crypto.envelope import seal
from crypto.http_signatures import sign_request
from crypto.signing import RECORD_CONTEXT, SigningIdentity
from federation import wire
from tests.integration.conftest import Cluster, RunningNode

PUSH = "/federation/v1/push"


def with_key_repeated(canonical_map: bytes, key: str, value: object) -> bytes:
    """The same map with ``key`` added once more at the end (a map 16 header for the count)."""
    count = len(msgpack.unpackb(canonical_map, raw=False))
    first = canonical_map[0]
    entries = canonical_map[1:] if 0x80 <= first <= 0x8F else canonical_map[3:]
    extra = msgpack.packb(key, use_bin_type=True) + msgpack.packb(value, use_bin_type=True)
    return b"\xde" + (count + 1).to_bytes(2, "big") + entries + extra


def lesson_of(origin: SigningIdentity) -> Lesson:
    return Lesson(
        kind="checklist",
        title="Meeting point: the library",
        body="Bring water.\n",
        language="en",
        region="West Africa",
        created=int(time.time()),
        origin=origin.public_key,
        author="admin",
        consent=Consent(basis="consent", scope="federation"),
    )


async def push(cluster: Cluster, sender: RunningNode, target: RunningNode, body: bytes):
    headers = sign_request(
        sender.node.identity, "POST", target.url + PUSH, body,
        created=int(time.time()), recipient=target.node_id,
    )  # fmt: skip
    headers["Content-Type"] = "application/msgpack"
    async with cluster.session.post(target.url + PUSH, data=body, headers=headers) as answer:
        return answer.status, await answer.read()


def test_the_decoder_names_the_repeated_key() -> None:
    body = with_key_repeated(msgpack.packb({"a": 1}), "a", 2)

    with pytest.raises(DuplicateKey, match="'a' twice"):
        unpack(body)


async def test_a_body_with_a_repeated_key_is_refused(cluster: Cluster) -> None:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    await cluster.pair(a, b)
    hidden = sign_lesson(b.node.identity, lesson_of(b.node.identity))
    innocent = wire.encode(wire.RECORDS, {"records": []})
    body = with_key_repeated(innocent, "records", [hidden.envelope])
    before = a.counts()

    status, answer = await push(cluster, b, a, body)

    assert status == 400
    error = json.loads(answer)["error"]
    assert error["code"] == "bad_message" and "'records' twice" in error["message"]
    assert a.counts() == before and not a.has(hidden)
    assert await cluster.healthy(a)


async def test_a_signed_record_with_a_repeated_key_is_rejected_with_a_strike(
    cluster: Cluster,
) -> None:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    await cluster.pair(a, b)
    identity = b.node.identity
    payload = with_key_repeated(encode_lesson(lesson_of(identity)), "title", "Meet at the mill")
    envelope = seal(identity, RECORD_CONTEXT, payload).raw

    status, answer = await push(cluster, b, a, wire.encode(wire.RECORDS, {"records": [envelope]}))

    assert status == 200
    assert msgpack.unpackb(answer, raw=False)["rejected"] == 1
    assert a.count("records") == 0
    [reason] = [row[0] for row in a.node.db.execute("SELECT reason FROM strikes")]
    assert "twice" in reason
    assert await cluster.healthy(a)
