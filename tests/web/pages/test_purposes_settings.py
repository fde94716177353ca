"""The Settings page declares what this hub uses lessons for (admins and stewards), as
``rhizome purposes set`` does; others only read it."""

from __future__ import annotations

from federation.purposes import own_declaration
from node.node import Node
from tests.web.conftest import Client, counts, page, post, redirected_to, signed_in


async def test_a_steward_declares_from_settings(client: Client, members: Node) -> None:
    await signed_in(client, "sam")
    shown = await page(client, "/settings")
    assert "Not declared yet." in shown and 'id="purposes-form"' in shown
    response = await post(client, "/settings/purposes", {"purposes": "training, Research"},
                          from_page="/settings")  # fmt: skip
    assert redirected_to(response) == "/settings"
    declared = own_declaration(members.db, members.node_id)
    assert declared is not None and declared.purposes == ("research", "training")
    assert "Declared: research, training." in await page(client, "/settings")


async def test_bad_purposes_or_no_right_store_nothing(client: Client, members: Node) -> None:
    await signed_in(client, "sam")
    before = counts(members)
    many = " ".join(f"p{n}" for n in range(17))
    refused = await post(client, "/settings/purposes", {"purposes": many}, from_page="/settings")
    assert refused.status == 400
    assert "At most 16 purposes, each at most 40 characters." in await refused.text()
    await signed_in(client, "ana")  # an author reads the declaration, cannot change it
    assert 'id="purposes-form"' not in await page(client, "/settings")
    author = await post(client, "/settings/purposes", {"purposes": "press"}, from_page="/settings")
    assert author.status == 403
    assert counts(members) == before and own_declaration(members.db, members.node_id) is None
