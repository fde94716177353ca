"""A stranger makes the node buffer large request bodies it never signed.

The attacker opens many connections (from several loopback addresses) to the federation
routes and sends 16 MiB bodies with no signature key id, or with the key id of a node that is
not a peer, or to the pairing route without a live invite. What must hold: the node answers
each one (401, 403 or 413 in the one error shape) before it reads the body, so the attacker
could not even deliver it, process memory does not grow by the bodies' sizes, nothing is
stored, and the node keeps serving its real peer.
"""

from __future__ import annotations

import asyncio
import os
import time

from crypto.http_signatures import sign_request
from crypto.signing import SigningIdentity
from federation import wire
from federation.invites import decode_invite
from federation.pairing import INVITE_HEADER
from tests.attacks.raw_http import post_until_answered
from tests.integration.conftest import Cluster, RunningNode

MSGPACK = {"Content-Type": "application/msgpack"}
BODY = wire.MAX_BODY_BYTES  # 16 MiB: allowed in size, so only who sends it can refuse it
PUSH = "/federation/v1/push"
PAIR = "/federation/v1/pair"
# What the server may have taken before answering: its read buffer and the kernel's socket
# buffers, far below the body. Before the fix the answer came only after all 16 MiB.
MOST_SENT_BEFORE_ANSWER = 8 * 1024 * 1024


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def stranger_headers(target: RunningNode, path: str) -> dict[str, str]:
    """A correctly signed request from a node the target has never paired with."""
    stranger = SigningIdentity.generate()
    signed = sign_request(
        stranger, "POST", target.url + path, b"", created=int(time.time()),
        recipient=target.node_id,
    )  # fmt: skip
    return {**signed, **MSGPACK}


async def test_an_unsigned_body_is_refused_before_it_is_read(cluster: Cluster) -> None:
    a = await cluster.start("Hub A")
    before = a.counts()

    answer = await post_until_answered(a.port, PUSH, MSGPACK, BODY)

    assert answer.status == 401 and answer.error()["code"] == "unauthenticated"
    assert "keyid" in answer.error()["message"]
    assert answer.body_bytes_sent < MOST_SENT_BEFORE_ANSWER
    assert a.counts() == before
    assert await cluster.healthy(a)


async def test_a_stranger_s_key_id_is_refused_before_its_body_is_read(cluster: Cluster) -> None:
    a = await cluster.start("Hub A")
    before = a.counts()

    answer = await post_until_answered(a.port, PUSH, stranger_headers(a, PUSH), BODY)

    assert answer.status == 403 and answer.error()["code"] == "not_a_peer"
    assert answer.body_bytes_sent < MOST_SENT_BEFORE_ANSWER
    assert a.counts() == before


async def test_pairing_without_a_live_invite_is_refused_before_the_body(cluster: Cluster) -> None:
    a = await cluster.start("Hub A")
    headers = {**stranger_headers(a, PAIR), INVITE_HEADER: os.urandom(32).hex()}

    answer = await post_until_answered(a.port, PAIR, headers, BODY)

    assert answer.status == 403 and answer.error()["code"] == "invalid_invite"
    assert answer.body_bytes_sent < MOST_SENT_BEFORE_ANSWER
    assert a.count("invites", "used_at IS NOT NULL") == 0


async def test_pairing_with_a_live_invite_gets_a_small_body_cap(cluster: Cluster) -> None:
    a = await cluster.start("Hub A")
    code = cluster.invite(a)
    headers = {**stranger_headers(a, PAIR), INVITE_HEADER: decode_invite(code).invite_id.hex()}

    answer = await post_until_answered(a.port, PAIR, headers, BODY)

    assert answer.status == 413 and answer.error()["code"] == "payload_too_large"
    assert answer.body_bytes_sent < MOST_SENT_BEFORE_ANSWER


async def test_many_strangers_at_once_cost_no_memory_and_the_peer_still_syncs(
    cluster: Cluster,
) -> None:
    """32 connections from 8 loopback addresses, 16 MiB each (512 MiB if buffered)."""
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    await cluster.pair(a, b)
    record = a.add("For B")
    baseline = resident_bytes()

    answers = await asyncio.gather(
        *(
            post_until_answered(
                a.port,
                PUSH,
                MSGPACK if n % 2 else stranger_headers(a, PUSH),
                BODY,
                local_address=f"127.0.0.{2 + n % 8}",
            )
            for n in range(32)
        )
    )

    assert sorted({answer.status for answer in answers}) == [401, 403]
    assert all(answer.body_bytes_sent < MOST_SENT_BEFORE_ANSWER for answer in answers)
    assert resident_bytes() - baseline < 128 * 1024 * 1024
    report = await cluster.sync(b, a)
    assert report.errors == [] and b.has(record)


async def test_a_stranger_claiming_a_peer_s_key_id_is_refused_before_the_body(
    cluster: Cluster,
) -> None:
    """The key id of a real peer, but a signature the stranger cannot make."""
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    await cluster.pair(a, b)
    forged = stranger_headers(a, PUSH)
    stranger_keyid = forged["Signature-Input"].split('keyid="')[1].split('"')[0]
    forged["Signature-Input"] = forged["Signature-Input"].replace(stranger_keyid, b.node_id)
    before = a.counts()

    answer = await post_until_answered(a.port, PUSH, forged, BODY)

    assert answer.status == 401 and answer.error()["code"] == "unauthenticated"
    assert answer.body_bytes_sent < MOST_SENT_BEFORE_ANSWER
    assert a.counts() == before
