"""The Status page, ``/healthz?verbose`` and the Peers page's Sync now, link status and
exchange history, against a real second hub served on loopback."""

from __future__ import annotations

import logging

import pytest

from crypto.signing import SigningIdentity
from federation import endpoints, wire
from federation.exchanges import KEPT_PER_PEER, recent_exchanges, record_outbound
from federation.invites import create_invite, encode_invite
from federation.member_notices import answer_member_notices, make_notice
from federation.peers import list_peers, save_peer
from node.node import Node
from node.web.app import create_app
from tests.conftest import START
from tests.web.conftest import (
    Client,
    ClientFactory,
    Served,
    page,
    post,
    redirected_to,
    signed_in,
    token,
)


async def pair(client: Client, manila: Node) -> str:
    code = encode_invite(
        create_invite(manila.db, manila.node_id, manila.config.url, manila.now(), 3600)
    )
    response = await post(client, "/peers/pair", {"code": code}, from_page="/peers")
    assert redirected_to(response) == "/peers"
    return manila.node_id


@pytest.mark.parametrize("background_sync", [False, True], ids=["own-client", "sync-service"])
async def test_sync_now_exchanges_and_both_sides_show_it(
    aiohttp_client: ClientFactory, members: Node, manila_served: Served, background_sync: bool
) -> None:
    client = await aiohttp_client(create_app(members, background_sync=background_sync))
    await signed_in(client, "admin")
    manila = manila_served.node
    peer_id = await pair(client, manila)
    short = peer_id[:8]
    before = await page(client, "/peers")
    assert f'id="sync-{short}"' in before
    assert "no exchange yet" in before

    response = await post(client, f"/peers/{peer_id}/sync", from_page="/peers")
    assert redirected_to(response) == f"/peers#peer-{short}"
    text = await page(client, "/peers")
    assert "Manila Hub: received 0, sent 0 (ok)" in text
    assert 'class="link-yes"' in text
    assert "(we synced with them)" in text
    assert f'id="history-{short}"' in text
    # The peer saw the same exchange, started by us: "last exchange in either direction".
    seen_there = recent_exchanges(manila.db, members.node_id)
    assert [exchange.direction for exchange in seen_there] == ["in"]
    ours = recent_exchanges(members.db, peer_id)
    assert [(e.direction, e.error) for e in ours] == [("out", None)]


async def test_a_failing_peer_says_so_on_peers_and_status(client: Client, members: Node) -> None:
    lima = SigningIdentity.generate().node_id  # nobody answers on port 9 (discard)
    save_peer(members.db, lima, "Lima Hub", "Andes", "http://127.0.0.1:9", START)
    await signed_in(client, "admin")
    peer = list_peers(members.db)[0]
    response = await post(client, f"/peers/{peer.node_id}/sync", from_page="/peers")
    redirected_to(response)
    text = await page(client, "/peers")
    assert "Lima Hub: received 0, sent 0 (" in text and "(ok)" not in text
    assert 'class="link-no"' in text
    status = await page(client, "/status")
    assert "failing" in status and "Lima Hub" in status
    assert "Lima Hub: the last sync failed" in status


async def test_sync_now_needs_the_sync_role(client: Client, members: Node, manila: Node) -> None:
    save_peer(members.db, manila.node_id, "Manila Hub", "Southeast Asia", "http://x.test", START)
    await signed_in(client, "ana")  # an author
    text = await page(client, "/peers")
    assert f'id="sync-{manila.node_id[:8]}"' not in text
    response = await post(client, f"/peers/{manila.node_id}/sync", from_page="/peers")
    assert response.status == 403
    assert recent_exchanges(members.db, manila.node_id) == []


def test_history_keeps_the_last_twenty_per_peer(members: Node) -> None:
    for second in range(KEPT_PER_PEER + 5):
        record_outbound(members.db, "PEER", START + second, second, 0, None)
    record_outbound(members.db, "OTHER", START, 0, 0, "no answer")
    kept = recent_exchanges(members.db, "PEER")
    assert len(kept) == KEPT_PER_PEER
    assert kept[0].received == KEPT_PER_PEER + 4 and kept[-1].received == 5
    assert len(recent_exchanges(members.db, "OTHER")) == 1


async def test_status_page_for_this_machine(client: Client, members: Node) -> None:
    text = await page(client, "/status")
    assert "<h1>Status</h1>" in text
    assert 'id="withdrawals-waiting">0<' in text
    assert "not sealed" in text  # the test home's key has no passphrase
    assert 'aria-current="page">Status<' in text


async def test_healthz_verbose_names_nothing_to_strangers(
    visitor: Client, members: Node, manila: Node
) -> None:
    save_peer(members.db, manila.node_id, "Manila Hub", "Southeast Asia", "http://x.test", START)
    plain = await (await visitor.get("/healthz")).json()
    assert set(plain) == {"status", "version", "sealed"}  # sealed or not: no secret
    stranger = await visitor.get("/healthz?verbose")
    body = await stranger.text()
    assert stranger.status == 200
    assert "Manila" not in body and manila.node_id not in body and "x.test" not in body
    counts = await stranger.json()
    assert counts["peer_counts"] == {"active": 1, "reachable": 0, "failing": 0}
    assert "key_sealed" not in counts and "peers" not in counts

    await signed_in(visitor, "admin")
    full = await (await visitor.get("/healthz?verbose")).json()
    assert [peer["name"] for peer in full["peers"]] == ["Manila Hub"]
    assert full["key_sealed"] is False
    assert full["schema"]["version"] == full["schema"]["latest"]


async def test_pairing_is_logged_by_the_inviting_hub(
    client: Client, members: Node, manila_served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    await signed_in(client, "admin")
    with caplog.at_level(logging.INFO, logger="rhizome.federation"):
        await pair(client, manila_served.node)
    paired = [record for record in caplog.records if record.getMessage() == "paired by invite"]
    assert [record.__dict__["peer"] for record in paired] == [members.node_id]


async def test_the_api_syncs_now_with_the_same_action(
    client: Client, members: Node, manila_served: Served
) -> None:
    await signed_in(client, "admin")
    peer_id = await pair(client, manila_served.node)
    csrf = await token(client)
    response = await client.post(
        f"/api/v1/peers/{peer_id}/sync", json={}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status == 200, await response.text()
    assert await response.json() == {
        "peer": peer_id, "received": 0, "sent": 0, "rejected": 0, "rounds": 1, "errors": [],
    }  # fmt: skip
    assert [e.direction for e in recent_exchanges(members.db, peer_id)] == ["out"]
    unknown = await client.post(
        "/api/v1/peers/nobody/sync", json={}, headers={"X-CSRF-Token": csrf}
    )
    assert unknown.status == 404
    assert (await unknown.json())["error"]["code"] == "unknown_peer"


async def test_the_peers_page_names_a_peers_compromised_member(
    client: Client, members: Node
) -> None:
    lima = SigningIdentity.generate()
    save_peer(members.db, lima.node_id, "Lima Hub", "Andes", "https://127.0.0.1:9", START)
    notice = make_notice(lima, "compromised", "chidi", bytes(32), START - 60, START)
    body = wire.encode(endpoints.MEMBER_NOTICES.request, {"notices": [notice.raw]})
    [peer] = list_peers(members.db)
    answer_member_notices(members.local_node(), peer, body)
    await signed_in(client, "admin")
    text = await page(client, "/peers")
    assert "chidi: key compromised since" in text and 'class="doubted-member"' in text
