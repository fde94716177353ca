"""Errors on the web pages in plain words that say what to do, not in protocol jargon."""

from __future__ import annotations

from html import unescape

from federation.invites import create_invite, encode_invite
from node.node import Node
from tests.web.conftest import Client, Served, counts, post, signed_in


def invite_of(hub: Node) -> str:
    return encode_invite(create_invite(hub.db, hub.node_id, hub.config.url, hub.now(), 3600))


async def pair_error(client: Client, code: str) -> str:
    response = await post(client, "/peers/pair", {"code": code}, from_page="/peers")
    assert response.status == 400
    return unescape(await response.text())


async def test_a_used_invite_says_to_ask_for_a_new_one(
    client: Client, members: Node, manila_served: Served
) -> None:
    await signed_in(client, "admin")
    code = invite_of(manila_served.node)
    first = await post(client, "/peers/pair", {"code": code}, from_page="/peers")
    assert first.status == 303
    before = counts(members)
    text = await pair_error(client, code)
    assert "did not accept this code: this invite code was already used; ask for a new one" in text
    message = text.split("Not paired:</strong>", 1)[1].split("</p>", 1)[0]
    assert "invalid_invite" not in message and "403" not in message
    assert counts(members) == before


async def test_a_hub_that_does_not_answer_says_so(
    client: Client, members: Node, manila: Node
) -> None:
    await signed_in(client, "admin")
    text = await pair_error(client, invite_of(manila))  # Manila is not served
    assert "nothing answers at this address: is the other hub's node running?" in text
    assert "ClientConnectorError" not in text


async def test_an_empty_consent_basis_says_what_to_choose(client: Client, members: Node) -> None:
    await signed_in(client, "ana")
    form = {"title": "Buddy pairs", "kind": "checklist", "body": "Go.", "consent_basis": ""}
    response = await post(client, "/lessons/new", form, from_page="/lessons/new")
    text = unescape(await response.text())
    assert response.status == 400
    assert "choose what the people in it agreed to: consent (they said yes)" in text
    assert "write consent, notice or none" not in text


async def test_a_typo_in_a_code_is_called_a_typo(
    client: Client, members: Node, manila_served: Served
) -> None:
    await signed_in(client, "admin")
    code = invite_of(manila_served.node)
    typo = code[:20] + ("B" if code[20] != "B" else "C") + code[21:]
    invites_before = counts(manila_served.node)["invites"]
    text = await pair_error(client, typo)
    assert "damaged or mistyped (a typo?)" in text
    assert "do not pair" not in text
    # Nothing reached Manila: its invite is still open for the right code.
    assert counts(manila_served.node)["invites"] == invites_before
    ok = await post(client, "/peers/pair", {"code": code}, from_page="/peers")
    assert ok.status == 303
