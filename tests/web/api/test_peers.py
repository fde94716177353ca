"""Peers through the JSON API: invite, pair with a real second hub on loopback, list, suspend,
resume and remove; each write refused without the role, nothing stored when refused."""

from __future__ import annotations

from typing import Any

import pytest

from federation.invites import create_invite, decode_invite, encode_invite
from federation.peers import get_peer, save_peer
from node.node import Node
from node.web.app import create_app
from node.web.keys import SYNC
from tests.conftest import START
from tests.web.conftest import (
    Client,
    ClientFactory,
    Served,
    assert_error,
    assert_healthy,
    basic,
    counts,
    json_of,
)

PEERS = "/api/v1/peers"
PEER_KEYS = {
    "id", "name", "region", "url", "status", "current_key", "rotated", "added", "last_exchange",
    "last_sync", "last_error", "sent", "received", "strikes",
}  # fmt: skip


def invite_from(hub: Served) -> str:
    node = hub.node
    return encode_invite(create_invite(node.db, node.node_id, hub.url, node.now(), 3600))


async def test_an_admin_invites_with_a_one_time_code(client: Client, members: Node) -> None:
    before = counts(members)
    body = await json_of(await client.post(f"{PEERS}/invite", json={}, headers=basic("admin")), 201)
    code = decode_invite(body["code"])
    assert (code.node_id, code.url) == (members.node_id, members.config.url)
    assert body["node_id"] == members.node_id
    assert body["expires"] == "2026-05-29T20:26:40Z"  # START plus the default day
    assert counts(members)["invites"] == before["invites"] + 1
    short = await json_of(
        await client.post(f"{PEERS}/invite", json={"ttl": 60}, headers=basic("sefu")), 201
    )
    assert decode_invite(short["code"]).expires == START + 60


@pytest.mark.parametrize("ttl", [59, 7 * 24 * 3600 + 1, "600", True, 1.5, None])
async def test_an_invite_ttl_out_of_range_is_named(client: Client, members: Node, ttl: Any) -> None:
    before = counts(members)
    response = await client.post(f"{PEERS}/invite", json={"ttl": ttl}, headers=basic("admin"))
    assert "field 'ttl'" in await assert_error(response, 400, "bad_request")
    assert counts(members) == before


async def test_peer_writes_need_an_admin_or_steward(client: Client, members: Node) -> None:
    save_peer(members.db, other_id(), "Lima Hub", "Andes", "http://127.0.0.1:9", START)
    members.db.conn.commit()
    before = counts(members)
    writes = [
        (f"{PEERS}/invite", None),
        (PEERS, {"code": "rhz1-AAAA"}),
        (f"{PEERS}/Lima Hub/suspend", None),
        (f"{PEERS}/Lima Hub/remove", None),
    ]
    client.session.cookie_jar.clear()  # no session (the fixture's admin): credentials only
    for path, fields in writes:
        for name in ("amina", "chidi"):
            response = await client.post(path, json=fields, headers=basic(name))
            assert "manage peers" in await assert_error(response, 403, "forbidden")
        await assert_error(await client.post(path, json=fields), 401, "unauthenticated")
    assert counts(members) == before
    await assert_healthy(client)


async def test_pairing_with_a_running_hub(client: Client, members: Node, other_hub: Served) -> None:
    response = await client.post(
        PEERS, json={"code": invite_from(other_hub)}, headers=basic("admin")
    )
    paired = await json_of(response, 201)
    assert set(paired) == PEER_KEYS
    assert (paired["id"], paired["name"], paired["status"]) == (
        other_hub.node.node_id, "Manila Hub", "active",
    )  # fmt: skip
    listed = await json_of(await client.get(PEERS))
    assert [peer["id"] for peer in listed["peers"]] == [other_hub.node.node_id]
    there = get_peer(other_hub.node.db, members.node_id)
    assert there is not None and there.status == "active"


async def test_pairing_uses_the_background_sync_client_when_it_runs(
    aiohttp_client: ClientFactory, members: Node, other_hub: Served
) -> None:
    app = create_app(members, background_sync=True)
    client = await aiohttp_client(app)
    assert SYNC in app
    response = await client.post(
        PEERS, json={"code": invite_from(other_hub)}, headers=basic("sefu")
    )
    assert (await json_of(response, 201))["name"] == "Manila Hub"


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"code": "rhz1-NOTACODE"}, 403, "invalid_invite"),
        ({"code": "hello"}, 403, "invalid_invite"),
        ({"code": 42}, 400, "bad_request"),
        ({}, 400, "bad_request"),
        ({"code": "rhz1-" + "A" * 2_000}, 400, "bad_request"),
        ({"code": "rhz1-AAAA", "url": "http://evil.example"}, 400, "bad_request"),
    ],
)
async def test_a_bad_code_pairs_with_no_one(
    client: Client, members: Node, fields: dict[str, Any], status: int, code: str
) -> None:
    before = counts(members)
    response = await client.post(PEERS, json=fields, headers=basic("admin"))
    await assert_error(response, status, code)
    assert counts(members) == before
    await assert_healthy(client)


async def test_an_expired_code_is_refused(client: Client, members: Node, other_hub: Served) -> None:
    node = other_hub.node
    code = encode_invite(create_invite(node.db, node.node_id, other_hub.url, START - 7200, 3600))
    before = counts(members)
    response = await client.post(PEERS, json={"code": code}, headers=basic("admin"))
    assert "expired" in await assert_error(response, 403, "invalid_invite")
    assert counts(members) == before


async def test_suspend_resume_and_remove_by_name_or_id(client: Client, members: Node) -> None:
    peer_id = other_id()
    save_peer(members.db, peer_id, "Lima Hub", "Andes", "http://127.0.0.1:9", START)
    members.db.conn.commit()
    events = counts(members)["events"]
    steps = [("Lima Hub", "suspend", "suspended"), (peer_id, "resume", "active")]
    steps.append(("lima hub", "remove", "removed"))
    for ref, verb, status in steps:
        body = await json_of(
            await client.post(f"{PEERS}/{ref}/{verb}", json={}, headers=basic("sefu"))
        )
        assert (body["id"], body["status"]) == (peer_id, status)
        peer = get_peer(members.db, peer_id)
        assert peer is not None and peer.status == status
    assert counts(members)["events"] == events + 3
    kinds = members.db.execute("SELECT kind FROM events ORDER BY seq DESC LIMIT 3").fetchall()
    assert [kind for (kind,) in kinds] == ["peer.removed", "peer.active", "peer.suspended"]
    assert (await json_of(await client.get(PEERS)))["peers"] == []  # removed ones are not listed
    for verb in ("resume", "suspend", "remove"):  # only pairing again brings it back
        gone = await client.post(f"{PEERS}/{peer_id}/{verb}", json={}, headers=basic("sefu"))
        message = await assert_error(gone, 409, "peer_state")
        assert message == f"cannot {verb}: this peer was removed: pair with it again " + (
            "(`rhizome peer invite` or `peer add`)"
        )
    assert counts(members)["events"] == events + 3
    peer = get_peer(members.db, peer_id)
    assert peer is not None and peer.status == "removed"


async def test_an_unknown_peer_is_404(client: Client, members: Node) -> None:
    before = counts(members)
    response = await client.post(f"{PEERS}/Nowhere/suspend", json={}, headers=basic("admin"))
    await assert_error(response, 404, "unknown_peer")
    assert counts(members) == before


def other_id() -> str:
    from crypto.signing import SigningIdentity

    return SigningIdentity.from_seed(bytes(range(64, 96))).node_id
