"""Signing in and out: the right password opens a session, a wrong one says nothing about
which part was wrong; forms without this session's token are refused."""

from __future__ import annotations

import logging

import pytest

from node.node import Node
from tests.web.conftest import (
    PASSWORD,
    Client,
    counts,
    page,
    post,
    redirected_to,
    sign_in,
    signed_in,
    token,
)

WRONG = "That name and password do not match a member of this hub."


@pytest.fixture
def client(visitor: Client) -> Client:
    """These tests start from a client that has not signed in."""
    return visitor


async def test_sign_in_and_out(client: Client) -> None:
    form = await page(client, "/signin")
    assert '<label for="name">Member name</label>' in form
    assert '<label for="password">Password</label>' in form
    response = await sign_in(client, "cora")
    assert redirected_to(response) == "/"
    home = await page(client, "/")
    assert 'Signed in as <strong>cora</strong> <span class="roles">(curator)</span>' in home
    response = await post(client, "/signout")
    assert redirected_to(response) == "/"
    home = await client.get("/", allow_redirects=False)  # signed out: the home page is closed
    assert redirected_to(home) == "/signin?next=/"


async def test_sign_in_returns_to_the_page_asked_for(client: Client) -> None:
    text = await page(client, "/signin?next=/peers")
    assert 'name="next" value="/peers"' in text
    data = {"csrf_token": await token(client, "/signin"), "name": "ana", "password": PASSWORD}
    response = await client.post("/signin", data={**data, "next": "/peers"}, allow_redirects=False)
    assert redirected_to(response) == "/peers"


async def test_sign_in_never_sends_the_browser_to_another_site(client: Client) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "/a\r\nX: y"):
        data = {"csrf_token": await token(client, "/signin"), "name": "ana"}
        response = await client.post(
            "/signin", data={**data, "password": PASSWORD, "next": target}, allow_redirects=False
        )
        assert redirected_to(response) == "/"
        await post(client, "/signout")


async def test_a_wrong_password_or_name_gets_the_same_answer(client: Client) -> None:
    answers = []
    for name, password in (("cora", "not the password"), ("nobody", PASSWORD), ("", "")):
        response = await sign_in(client, name, password)
        assert response.status == 401
        text = await response.text()
        assert WRONG in text
        assert 'id="password"' in text  # the form again
        answers.append(text.replace(f'value="{name}"', 'value=""'))
    assert "Signed in as" not in answers[0]
    assert len({answer.split('name="csrf_token"')[0] for answer in answers}) == 1


async def test_sign_in_needs_the_forms_token(client: Client, members: Node) -> None:
    response = await client.post(
        "/signin", data={"name": "cora", "password": PASSWORD}, allow_redirects=False
    )
    assert response.status == 403
    assert "This form has expired" in await response.text()
    home = await client.get("/", allow_redirects=False)  # signed out: the home page is closed
    assert redirected_to(home) == "/signin?next=/"


async def test_a_browser_that_must_sign_in_is_sent_to_the_form(
    client: Client, members: Node
) -> None:
    before = counts(members)
    response = await post(client, "/peers/invite", csrf=False)
    assert redirected_to(response).startswith("/signin?next=")
    response = await client.get("/lessons/new", allow_redirects=False)
    assert redirected_to(response) == "/signin?next=/lessons/new"
    assert counts(members) == before


async def test_a_signed_in_post_without_the_token_is_refused(client: Client, members: Node) -> None:
    await signed_in(client, "admin")
    before = counts(members)
    response = await post(client, "/peers/invite", csrf=False)
    assert response.status == 403
    assert "This form has expired" in await response.text()
    response = await client.post(
        "/peers/invite", data={"csrf_token": "forged"}, allow_redirects=False
    )
    assert response.status == 403
    assert counts(members) == before


async def test_sign_out_needs_the_token(client: Client) -> None:
    await signed_in(client, "ana")
    response = await client.post("/signout", allow_redirects=False)
    assert response.status == 403
    assert "Signed in as <strong>ana</strong>" in await page(client, "/")


async def test_a_sign_in_on_the_page_is_logged_without_the_password(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="rhizome.web")
    await sign_in(client, "cora")
    entries = [record for record in caplog.records if record.getMessage() == "signed in"]
    assert [record.__dict__["member"] for record in entries] == ["cora"]
    assert PASSWORD not in "\n".join(str(record.__dict__) for record in caplog.records)
