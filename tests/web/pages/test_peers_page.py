"""Peers from the browser: invite codes (text and QR code), pairing with a real second hub,
suspend, resume and remove; only for admins and stewards."""

from __future__ import annotations

import re
from html import unescape

import pytest

from federation.invites import create_invite, encode_invite
from federation.peers import get_peer, list_peers
from node.node import Node
from node.web.app import create_app
from tests.web.conftest import (
    Client,
    ClientFactory,
    Served,
    counts,
    page,
    post,
    redirected_to,
    signed_in,
)


async def test_an_admin_creates_an_invite_code_and_its_qr_code(
    client: Client, members: Node
) -> None:
    await signed_in(client, "admin")
    response = await post(client, "/peers/invite", from_page="/peers")
    assert response.status == 200
    text = await response.text()
    code = re.search(r'id="invite-code"[^>]*>(rhz1-[A-Z2-7]+)</textarea>', text)
    assert code, text[:3000]
    assert "<svg" in text and 'class="segno"' in text
    assert "<title>Invite code as a QR code</title>" in text
    assert members.node_id in text
    assert counts(members)["invites"] == 1


@pytest.mark.parametrize("background_sync", [False, True], ids=["own-client", "sync-client"])
async def test_pairing_by_code_with_a_running_hub(
    aiohttp_client: ClientFactory, members: Node, manila_served: Served, background_sync: bool
) -> None:
    """With ``rhizome serve``'s background sync the page pairs through its federation client;
    without it (a test app), through a client of its own."""
    client = await aiohttp_client(create_app(members, background_sync=background_sync))
    await signed_in(client, "admin")
    manila = manila_served.node
    code = encode_invite(
        create_invite(manila.db, manila.node_id, manila.config.url, manila.now(), 3600)
    )
    response = await post(client, "/peers/pair", {"code": f"  {code}\n"}, from_page="/peers")
    assert redirected_to(response) == "/peers"
    text = await page(client, "/peers")
    assert f"Paired with Manila Hub (Southeast Asia). Their node id is {manila.node_id}" in text
    assert '<h3>Manila Hub <span class="status-badge active">active</span></h3>' in text
    assert [peer.name for peer in list_peers(members.db)] == ["Manila Hub"]
    assert [peer.name for peer in list_peers(manila.db)] == ["Nairobi Hub"]


async def test_a_bad_code_is_shown_next_to_the_field(client: Client, members: Node) -> None:
    await signed_in(client, "admin")
    before = counts(members)
    response = await post(client, "/peers/pair", {"code": "rhz1-NOTACODE"}, from_page="/peers")
    assert response.status == 400
    text = await response.text()
    assert 'id="code-error"' in text and "damaged or mistyped" in text
    assert "rhz1-NOTACODE</textarea>" in unescape(text)
    assert counts(members) == before


async def test_suspend_resume_and_remove(client: Client, members: Node, manila: Node) -> None:
    from federation.peers import save_peer
    from tests.conftest import START

    save_peer(members.db, manila.node_id, "Manila Hub", "Southeast Asia", "http://x.test", START)
    short = manila.node_id[:8]
    await signed_in(client, "sam")
    for action, status in (("suspend", "suspended"), ("resume", "active"), ("remove", "removed")):
        response = await post(client, f"/peers/{manila.node_id}/{action}", from_page="/peers")
        assert redirected_to(response) == "/peers"
        peer = get_peer(members.db, manila.node_id)
        assert peer is not None and peer.status == status, action
        if action == "suspend":
            assert f'id="resume-{short}"' in await page(client, "/peers")
    events = [row[0] for row in members.db.execute("SELECT kind FROM events ORDER BY seq")]
    assert events[-3:] == ["peer.suspended", "peer.active", "peer.removed"]
    assert "No peers yet" in await page(client, "/peers")
    refused = await post(client, f"/peers/{manila.node_id}/resume", from_page="/peers")
    assert refused.status == 409
    assert "this peer was removed: pair with it again" in unescape(await refused.text())
    peer = get_peer(members.db, manila.node_id)
    assert peer is not None and peer.status == "removed"
    assert len(list(members.db.execute("SELECT kind FROM events"))) == len(events)


async def test_authors_may_not_manage_peers(client: Client, members: Node, manila: Node) -> None:
    from federation.peers import save_peer
    from tests.conftest import START

    save_peer(members.db, manila.node_id, "Manila Hub", "Southeast Asia", "http://x.test", START)
    await signed_in(client, "ana")
    text = await page(client, "/peers")
    assert 'id="pair-form"' not in text and 'id="suspend-' not in text
    before = counts(members)
    for path in ("/peers/invite", "/peers/pair", f"/peers/{manila.node_id}/suspend"):
        response = await post(client, path, {"code": "x"} if path.endswith("pair") else None)
        assert response.status == 403, path
        assert "ana may not manage peers" in await response.text()
    assert counts(members) == before
