"""Wipe from the browser: admins only, the node's name typed, a CSRF-protected form; a wrong
name, a missing token or a member without the role deletes nothing; the right one destroys
the home and stops the server."""

from __future__ import annotations

import asyncio

import pytest

from node.node import Node
from node.web.app import create_app
from node.web.pages import wipe
from node.wipe import key_material_paths
from tests.web.conftest import Client, ClientFactory, page, post, signed_in


def intact(node: Node) -> bool:
    return bool(key_material_paths(node.paths.root)) and node.paths.database.exists()


async def test_the_page_asks_an_admin_for_the_name(client: Client, members: Node) -> None:
    await signed_in(client, "admin")
    text = await page(client, "/wipe")
    assert 'id="wipe-form"' in text and f"<strong>{members.config.name}</strong>" in text
    assert 'id="wipe-link"' in await page(client, "/status")


async def test_a_wrong_name_deletes_nothing(client: Client, members: Node) -> None:
    await signed_in(client, "admin")
    response = await post(client, "/wipe", {"confirmation": "yes"}, from_page="/wipe")
    assert response.status == 400
    assert "does not match the node&#39;s name" in await response.text()
    assert intact(members)


async def test_without_the_csrf_token_nothing_is_deleted(client: Client, members: Node) -> None:
    await signed_in(client, "admin")
    name = members.config.name
    response = await post(client, "/wipe", {"confirmation": name}, csrf=False)
    assert response.status == 403
    assert intact(members)


@pytest.mark.parametrize("name", ["ana", "cora", "sam"])
async def test_only_an_admin_may_wipe(client: Client, members: Node, name: str) -> None:
    await signed_in(client, name)
    await page(client, "/wipe", status=403)
    response = await post(client, "/wipe", {"confirmation": members.config.name})
    assert response.status == 403
    assert intact(members)


async def test_a_stranger_is_sent_to_sign_in(visitor: Client, members: Node) -> None:
    response = await visitor.get("/wipe", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"].startswith("/signin")
    assert intact(members)


async def test_the_right_name_wipes_the_node_and_stops_the_server(
    aiohttp_client: ClientFactory, members: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    stopped: list[bool] = []
    app = create_app(members, background_sync=False)
    app[wipe.SERVER_STOP] = lambda: stopped.append(True)
    monkeypatch.setattr(wipe, "STOP_AFTER", 0)
    client = await aiohttp_client(app)
    await signed_in(client, "admin")
    home = members.paths.root
    response = await post(client, "/wipe", {"confirmation": members.config.name}, from_page="/wipe")
    assert response.status == 200
    text = await response.text()
    assert "This node is gone" in text and "key files were destroyed first" in text
    assert not home.exists()
    for _ in range(3):  # the stop is scheduled after the answer, on the next loop turns
        await asyncio.sleep(0)
    assert stopped == [True]
