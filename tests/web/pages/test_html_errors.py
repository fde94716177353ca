"""A person's browser gets an error page; programs keep the JSON error shape."""

from __future__ import annotations

from node.node import Node
from node.web.app import create_app


async def test_an_unknown_page_is_a_page_for_a_browser(aiohttp_client, node: Node) -> None:  # type: ignore[no-untyped-def]
    client = await aiohttp_client(create_app(node, background_sync=False))
    response = await client.get("/no-such-page", headers={"Accept": "text/html"})
    assert response.status == 404
    assert response.content_type == "text/html"
    assert "<html" in (await response.text()).lower()


async def test_programs_keep_the_json_shape(aiohttp_client, node: Node) -> None:  # type: ignore[no-untyped-def]
    client = await aiohttp_client(create_app(node, background_sync=False))
    for path, accept in (("/no-such-page", "application/json"), ("/api/v1/nope", "text/html")):
        response = await client.get(path, headers={"Accept": accept})
        assert response.status == 404
        body = await response.json()
        assert body["error"]["code"] == "not_found"
