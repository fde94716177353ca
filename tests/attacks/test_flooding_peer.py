"""A paired peer floods the node with records to fill its disk (1.2 GiB in 12 s before).

The attacker is a real paired peer: it pushes batch after batch of valid records it signed,
keeps pushing after it is told to wait, fills the curators' quarantine, answers the node's
own fetches with more than the node may take, and sends an oversized bundle. What must hold
(with small quotas set in config.toml, as an operator may): every path stops at the quota
with a clear refusal in the one error shape (429 ``quota_exceeded`` or 507 ``quota_full``)
and a retry hint; the refused batch is not stored at all; the operator learns of it in the
event log; a strike comes only for pushing again before the hint; and the node keeps serving.
"""

from __future__ import annotations

import json
import time
from typing import Any

from archive.record import Consent, Lesson
from archive.signed_record import sign_lesson
from crypto.http_signatures import sign_request
from crypto.signing import SigningIdentity
from federation import wire
from federation.bundles import BadBundle, export_bundle, import_bundle
from federation.sync import sync_with_peer
from governance.quarantine import accept_quarantined
from tests.integration.conftest import Cluster, RunningNode

PUSH = "/federation/v1/push"


def records(identity: SigningIdentity, count: int, prefix: str, padding: int = 0) -> list[bytes]:
    filler = "x" * padding
    return [
        sign_lesson(
            identity,
            Lesson(
                kind="checklist",
                title=f"{prefix} {n}",
                body=f"Flood {n}.\n{filler}",
                language="en",
                region="West Africa",
                created=int(time.time()),
                origin=identity.public_key,
                author="admin",
                consent=Consent(basis="consent", scope="federation"),
            ),
        ).envelope
        for n in range(count)
    ]


async def push(
    cluster: Cluster, sender: RunningNode, target: RunningNode, envelopes: list[bytes]
) -> tuple[int, dict[str, str], Any]:
    body = wire.encode(wire.RECORDS, {"records": envelopes})
    headers = sign_request(
        sender.node.identity, "POST", target.url + PUSH, body,
        created=int(time.time()), recipient=target.node_id,
    )  # fmt: skip
    headers["Content-Type"] = "application/msgpack"
    async with cluster.session.post(target.url + PUSH, data=body, headers=headers) as answer:
        raw = await answer.read()
        decoded = json.loads(raw)["error"] if answer.status >= 400 else raw
        return answer.status, dict(answer.headers), decoded


def refusals_logged(node: RunningNode) -> int:
    return node.count("events", "kind = 'peer.quota_refused'")


async def test_pushes_stop_at_the_records_quota(cluster: Cluster) -> None:
    a = await cluster.start("Hub A", quotas={"records_per_period": 20})
    b = await cluster.start("Hub B", "West Africa")
    await cluster.pair(a, b)
    flood = records(b.node.identity, 50, "Flood")

    first = [await push(cluster, b, a, flood[n : n + 10]) for n in (0, 10)]
    status, headers, error = await push(cluster, b, a, flood[20:30])

    assert [answer[0] for answer in first] == [200, 200]
    assert status == 429 and error["code"] == "quota_exceeded"
    assert "20 records per 3,600 s" in error["message"]
    assert 1 <= int(headers["Retry-After"]) <= 3600
    assert a.count("records") == 20  # nothing of the refused batch
    assert refusals_logged(a) == 1 and a.count("strikes") == 0
    # Ignoring the hint earns one strike, once per period; the operator hears once.
    again = [await push(cluster, b, a, flood[30 + n : 31 + n]) for n in range(3)]
    assert {answer[0] for answer in again} == {429}
    assert a.count("strikes") == 1 and refusals_logged(a) == 1
    assert a.count("records") == 20
    assert await cluster.healthy(a)


async def test_pushes_stop_at_the_bytes_quota(cluster: Cluster) -> None:
    a = await cluster.start("Hub A", quotas={"bytes_per_period": 100_000})
    b = await cluster.start("Hub B", "West Africa")
    await cluster.pair(a, b)
    flood = records(b.node.identity, 20, "Heavy", padding=20_000)

    answers = [await push(cluster, b, a, [envelope]) for envelope in flood[:6]]

    assert [status for status, _, _ in answers] == [200] * 4 + [429] * 2
    assert "bytes of records per" in answers[-1][2]["message"]
    assert a.count("records") == 4


async def test_what_is_held_from_one_peer_is_bounded(cluster: Cluster) -> None:
    a = await cluster.start("Hub A", quotas={"stored_bytes": 60_000})
    b = await cluster.start("Hub B", "West Africa")
    await cluster.pair(a, b)
    flood = records(b.node.identity, 5, "Bulk", padding=20_000)

    answers = [await push(cluster, b, a, [envelope]) for envelope in flood]

    assert [status for status, _, _ in answers] == [200, 200, 507, 507, 507]
    assert answers[2][2]["code"] == "quota_full" and "Retry-After" in answers[2][1]
    assert a.count("records") == 2


async def test_a_full_quarantine_refuses_new_arrivals(cluster: Cluster) -> None:
    a = await cluster.start("Hub A", quotas={"quarantine_records": 3})
    b = await cluster.start("Hub B", "West Africa")
    await cluster.pair(a, b)
    policy = a.home / "policy.toml"
    policy.write_text(
        policy.read_text().replace("quarantine = false", "quarantine = true"), encoding="utf-8"
    )
    flood = records(b.node.identity, 5, "Waiting")

    answers = [await push(cluster, b, a, [envelope]) for envelope in flood[:4]]

    assert [status for status, _, _ in answers] == [200, 200, 200, 507]
    assert "quarantine is full" in answers[3][2]["message"]
    assert a.count("records") == a.count("records", "quarantined = 1") == 3
    assert refusals_logged(a) == 1
    # A curator lets one out: there is room again.
    waiting = a.node.db.execute("SELECT id FROM records LIMIT 1").fetchone()[0]
    accept_quarantined(a.node.db, a.node.identity, waiting, "admin", int(time.time()))
    status, _, _ = await push(cluster, b, a, [flood[4]])
    assert status == 200 and a.count("records", "quarantined = 1") == 3


async def test_a_sync_stops_fetching_at_the_quota(cluster: Cluster) -> None:
    a = await cluster.start("Hub A", quotas={"records_per_period": 20})
    b = await cluster.start("Hub B", "West Africa")
    await cluster.pair(a, b)
    b.add_many(15, "First")
    assert (await cluster.sync(a, b)).errors == []
    b.add_many(15, "Second")

    report = await cluster.sync(a, b)

    assert a.count("records") == 15
    assert any("quota reached" in error for error in report.errors), report.errors
    peer = a.peer(b)
    assert peer is not None and "quota reached" in str(peer.last_error)
    assert a.count("strikes") == 0  # we asked for those records


async def test_a_bundle_over_the_quota_is_refused_whole(cluster: Cluster) -> None:
    a = await cluster.start("Hub A", quotas={"records_per_period": 10})
    b = await cluster.start("Hub B", "West Africa")
    await cluster.pair(a, b)
    b.add_many(25, "Carried")
    peer = b.peer(a)
    assert peer is not None
    bundle = export_bundle(b.node.local_node(), peer, None).data

    try:
        import_bundle(a.node.local_node(), bundle)
    except BadBundle as error:
        assert "quota reached" in str(error)
    else:
        raise AssertionError("the bundle was imported")

    assert a.count("records") == 0
    assert a.count("strikes") == 0


async def test_an_honest_node_honours_the_retry_hint_and_earns_no_strike(
    cluster: Cluster,
) -> None:
    """The control: Rhizome's own client remembers Retry-After, so a node whose records go
    over another's quota waits instead of pushing again (which would earn a strike)."""
    a = await cluster.start("Hub A", quotas={"records_per_period": 20})
    b = await cluster.start("Hub B", "West Africa")
    await cluster.pair(a, b)
    b.add_many(30, "Eager")
    client = cluster.client(b)  # one client, as the background service keeps
    peer = b.peer(a)
    assert peer is not None

    first = await sync_with_peer(client, peer)
    second = await sync_with_peer(client, peer)

    assert any("quota reached" in error for error in first.errors), first.errors
    assert any("asked us to wait" in error for error in second.errors), second.errors
    assert a.count("records") == 0 and a.count("strikes") == 0
