"""A paired peer opens reconciliation session after session to make the node rebuild its
offer set (a scan of the whole archive) again and again.

The attacker is a real paired peer that signs its own requests and starts each
reconciliation with a fresh session id. What must hold: after a burst that covers an honest
peer's pace, each new session is refused with 429 in the one error shape, a ``Retry-After``
header and the wait in the message, before any offer set is built; rounds of a session
already open go on; another peer syncs as usual; and the node keeps serving.
"""

from __future__ import annotations

import json
import time

from crypto.http_signatures import sign_request
from federation import wire
from federation.negentropy import Initiator, Storage
from federation.responder import NEW_SESSIONS_BURST
from tests.integration.conftest import Cluster, RunningNode

RECONCILE = "/federation/v1/reconcile"


async def open_session(
    cluster: Cluster, attacker: RunningNode, target: RunningNode, session: str
) -> tuple[int, dict[str, str], bytes]:
    message = Initiator(Storage.from_sorted([]), wire.FRAME_SIZE_LIMIT).initiate()
    body = wire.encode(wire.RECONCILE_REQUEST, {"session": session, "msg": message})
    headers = sign_request(
        attacker.node.identity, "POST", target.url + RECONCILE, body,
        created=int(time.time()), recipient=target.node_id,
    )  # fmt: skip
    headers["Content-Type"] = "application/msgpack"
    async with cluster.session.post(target.url + RECONCILE, data=body, headers=headers) as answer:
        return answer.status, dict(answer.headers), await answer.read()


async def test_session_churn_is_refused_with_a_retry_hint(cluster: Cluster) -> None:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    c = await cluster.start("Hub C")
    await cluster.pair(a, b)
    await cluster.pair(a, c)
    record = a.add("For every peer")

    answers = [
        await open_session(cluster, b, a, f"churn-{n}") for n in range(NEW_SESSIONS_BURST + 4)
    ]

    statuses = [status for status, _, _ in answers]
    assert statuses == [200] * NEW_SESSIONS_BURST + [429] * 4
    for _, headers, body in answers[NEW_SESSIONS_BURST:]:
        error = json.loads(body)["error"]
        assert error["code"] == "too_many_requests" and "retry in" in error["message"]
        assert int(headers["Retry-After"]) >= 1
    # A session that is already open is not a new one: its rounds go on.
    again, _, _ = await open_session(cluster, b, a, f"churn-{NEW_SESSIONS_BURST - 1}")
    assert again == 200
    # Another peer is not affected, and the node serves.
    report = await cluster.sync(c, a)
    assert report.errors == [] and c.has(record)
    assert await cluster.healthy(a)


async def test_an_honest_peer_s_syncs_stay_within_the_burst(cluster: Cluster) -> None:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    await cluster.pair(a, b)

    reports = [await cluster.sync(b, a) for _ in range(NEW_SESSIONS_BURST)]

    assert all(report.errors == [] for report in reports)
