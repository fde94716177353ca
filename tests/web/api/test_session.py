"""Signing in for the JSON API: a session cookie plus its CSRF token, as the web pages use;
and a password set the way an operator sets it, with ``rhizome member password``."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from node.cli import main as rhizome
from node.node import Node
from tests.web.conftest import (
    LESSON,
    PASSWORD,
    Client,
    api_session,
    assert_error,
    basic,
    counts,
    csrf,
    json_of,
)

SESSION = "/api/v1/session"


@pytest.fixture
def client(visitor: Client) -> Client:
    """These tests start from a client that has not signed in."""
    return visitor


async def test_a_stranger_has_no_member_but_a_token(client: Client) -> None:
    body = await json_of(await client.get(SESSION))
    assert body["member"] is None and body["roles"] == []
    assert isinstance(body["csrf_token"], str) and len(body["csrf_token"]) >= 20


async def test_sign_in_write_and_sign_out(client: Client, members: Node) -> None:
    token = await api_session(client, "amina")
    shown = await json_of(await client.get(SESSION))
    assert (shown["member"], shown["roles"], shown["csrf_token"]) == ("amina", ["author"], token)
    added = await client.post("/api/v1/lessons", json=LESSON, headers=csrf(token))
    await json_of(added, 201)
    await json_of(await client.delete(SESSION))
    assert (await json_of(await client.get(SESSION)))["member"] is None
    before = counts(members)
    again = await client.post("/api/v1/lessons", json=LESSON, headers=csrf(token))
    await assert_error(again, 401, "unauthenticated")
    assert counts(members) == before


async def test_a_new_sign_in_gets_a_new_token(client: Client) -> None:
    first = await api_session(client, "amina")
    assert await api_session(client, "chidi") != first


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "amina", "password": "not the passphrase"},
        {"name": "nobody", "password": PASSWORD},
        {"name": "amina", "password": ""},
    ],
)
async def test_wrong_credentials_sign_no_one_in(client: Client, fields: dict[str, str]) -> None:
    response = await client.post(SESSION, json=fields)
    assert "wrong member name or password" in await assert_error(response, 401, "unauthenticated")
    assert (await json_of(await client.get(SESSION)))["member"] is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"name": "amina"}, "password"), ({"name": 1, "password": "x"}, "name"),
     ({"name": "amina", "password": PASSWORD, "remember": True}, "remember")],
)  # fmt: skip
async def test_sign_in_names_a_bad_field(
    client: Client, fields: dict[str, object], field: str
) -> None:
    response = await client.post(SESSION, json=fields)
    assert f"field '{field}'" in await assert_error(response, 400, "bad_request")


async def test_sign_in_takes_json_only(client: Client) -> None:
    response = await client.post(SESSION, data={"name": "amina", "password": PASSWORD})
    await assert_error(response, 415, "unsupported_media_type")


async def test_a_password_set_with_the_cli_works_for_the_api(client: Client, members: Node) -> None:
    environment = {"RHIZOME_HOME": None, "RHIZOME_MEMBER": None, "RHIZOME_PASSPHRASE": None}
    result = CliRunner().invoke(
        rhizome,
        ["--home", str(members.paths.root), "member", "password", "chidi", "--stdin"],
        input="a brand new passphrase\n",
        env=environment,
    )
    assert result.exit_code == 0, result.output
    ok = await client.post(
        "/api/v1/lessons/ffffffff/approve",
        json={},
        headers=basic("chidi", "a brand new passphrase"),
    )
    await assert_error(ok, 404, "not_found")  # signed in and allowed: only the id is unknown
    old = await client.post("/api/v1/lessons/ffffffff/approve", json={}, headers=basic("chidi"))
    await assert_error(old, 401, "unauthenticated")
