"""Adding, approving and revoking lessons through the JSON API, and every way a write is
refused: each refusal in the one error shape, with nothing stored and the node still up."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from archive.lesson_file import parse_lesson_file
from archive.signed_record import sign_lesson
from federation.peers import record_deliveries, save_peer
from node.node import Node
from node.web.api_writes import MAX_JSON_BYTES
from tests.web.conftest import (
    LESSON,
    Client,
    add_lesson,
    api_session,
    assert_error,
    assert_healthy,
    basic,
    counts,
    csrf,
    json_of,
)

LESSONS = "/api/v1/lessons"


# ---- adding -------------------------------------------------------------------------------


async def test_an_author_adds_a_lesson_and_gets_its_id(client: Client, members: Node) -> None:
    before = counts(members)
    response = await client.post(LESSONS, json=LESSON, headers=basic("amina"))
    body = await json_of(response, 201)
    assert set(body) == {"id"}
    assert response.headers["Location"] == f"{LESSONS}/{body['id']}"
    shown = await json_of(await client.get(response.headers["Location"]))
    assert (shown["title"], shown["author"], shown["kind"]) == (
        LESSON["title"], "amina", "checklist",
    )  # fmt: skip
    assert (shown["language"], shown["region"]) == ("en", "East Africa")  # the node's defaults
    assert shown["body"] == LESSON["body"]
    assert shown["consent"]["scope"] == "federation"
    after = counts(members)
    assert (after["records"], after["events"]) == (before["records"] + 1, before["events"] + 1)


async def test_the_same_lesson_sent_again_is_already_here(client: Client, members: Node) -> None:
    """A retried request (a timeout, a script run twice) does not sign a second copy."""
    record_id = await add_lesson(client)
    before = counts(members)
    for name in ("amina", "tariq"):  # whoever sends it: the lesson is here
        response = await client.post(LESSONS, json=LESSON, headers=basic(name))
        assert await json_of(response, 200) == {"id": record_id, "already_here": True}
        assert response.headers["Location"] == f"{LESSONS}/{record_id}"
    assert counts(members) == before
    changed = await add_lesson(client, body="Write the pairs down twice.\n")
    assert changed != record_id  # other content is another lesson (no file: no version link)


async def test_a_withdrawn_lesson_sent_again_is_refused(client: Client, members: Node) -> None:
    record_id = await add_lesson(client)
    withdraw = {"reason": "consent-withdrawn"}
    response = await client.post(
        f"{LESSONS}/{record_id}/revoke", json=withdraw, headers=basic("amina")
    )
    await json_of(response)
    before = counts(members)
    response = await client.post(LESSONS, json=LESSON, headers=basic("amina"))
    assert "this exact lesson was withdrawn" in await assert_error(response, 409, "withdrawn")
    assert counts(members) == before
    await assert_healthy(client)


async def test_the_api_makes_the_same_record_as_the_cli_file(
    client: Client, members: Node, tmp_path: Path
) -> None:
    """The same fields through the same functions: with a fixed clock, the very same id."""
    front = {key: value for key, value in LESSON.items() if key != "body"}
    text = "---\n" + yaml.safe_dump(front) + "---\n" + LESSON["body"]
    draft = parse_lesson_file(text.encode(), "file.md")
    expected = sign_lesson(members.identity, members.lesson_from_draft(draft, "file.md", "amina"))
    assert await add_lesson(client) == expected.id_hex


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "poem"}, "kind"),
        ({"kind": None}, "kind"),
        ({"title": ""}, "title"),
        ({"title": 5}, "title"),
        ({"tags": "safety"}, "tags"),
        ({"tags": ["ok", 3]}, "tags"),
        ({"language": "not a tag!"}, "language"),
        ({"sensitivity": "secret"}, "sensitivity"),
        ({"consent": "yes"}, "consent"),
        ({"consent": {"basis": "consent", "scope": "everywhere"}}, "consent.scope"),
        ({"consent": {"basis": "consent", "expires": "2026-02-30"}}, "consent.expires"),
        ({"consent": {"basis": "consent", "scope": "peers", "peers": ["nobody"]}}, "consent.peers"),
        ({"labels": [{"type": "tk"}]}, "labels.name"),
        ({"supersedes": "ffffffff"}, "supersedes"),
        ({"colour": "red"}, "colour"),
        ({"body": 7}, "body"),
        ({"body": None}, "body"),
        ({"body": "x" * 600_000}, "body"),
    ],
)
async def test_bad_fields_are_named_and_nothing_is_stored(
    client: Client, members: Node, change: dict[str, Any], field: str
) -> None:
    fields = {**LESSON, **change}
    fields = {key: value for key, value in fields.items() if value is not None}
    before = counts(members)
    response = await client.post(LESSONS, json=fields, headers=basic("amina"))
    message = await assert_error(response, 400, "invalid_lesson")
    assert f"field '{field}'" in message
    assert counts(members) == before
    await assert_healthy(client)


# ---- who may write ------------------------------------------------------------------------


async def test_no_credentials_is_401_with_a_basic_challenge(visitor: Client, members: Node) -> None:
    before = counts(members)
    response = await visitor.post(LESSONS, json=LESSON)
    await assert_error(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"].startswith("Basic ")
    assert counts(members) == before
    await assert_healthy(visitor)


@pytest.mark.parametrize(
    "headers",
    [
        basic("amina", "a wrong passphrase"),
        basic("nobody-here"),
        {"Authorization": "Basic !!!not-base64"},
        {"Authorization": "Bearer something"},
    ],
)
async def test_wrong_credentials_are_401(
    visitor: Client, members: Node, headers: dict[str, str]
) -> None:
    before = counts(members)
    await assert_error(
        await visitor.post(LESSONS, json=LESSON, headers=headers), 401, "unauthenticated"
    )
    assert counts(members) == before


async def test_a_member_without_the_role_is_403(client: Client, members: Node) -> None:
    before = counts(members)
    response = await client.post(LESSONS, json=LESSON, headers=basic("chidi"))  # a curator
    message = await assert_error(response, 403, "forbidden")
    assert "chidi" in message and "author" in message
    assert counts(members) == before
    await assert_healthy(client)


async def test_a_removed_member_cannot_write(client: Client, members: Node) -> None:
    from governance.members import remove_member

    remove_member(members.db, members.identity, "amina", members.now())
    before = counts(members)
    response = await client.post(LESSONS, json=LESSON, headers=basic("amina"))
    await assert_error(response, 401, "unauthenticated")
    assert counts(members) == before


async def test_a_session_write_needs_its_csrf_token(client: Client, members: Node) -> None:
    token = await api_session(client, "amina")
    before = counts(members)
    for headers in ({}, csrf("not-the-token"), csrf("")):
        response = await client.post(LESSONS, json=LESSON, headers=headers)
        await assert_error(response, 403, "csrf")
    assert counts(members) == before
    await assert_healthy(client)
    response = await client.post(LESSONS, json=LESSON, headers=csrf(token))
    assert (await json_of(response, 201))["id"]


async def test_unauthenticated_writes_are_refused_before_the_body_is_read(
    visitor: Client, members: Node
) -> None:
    before = counts(members)
    response = await visitor.post(
        LESSONS, data=b"x" * (MAX_JSON_BYTES + 1), headers={"Content-Type": "text/plain"}
    )
    await assert_error(response, 401, "unauthenticated")
    assert counts(members) == before


# ---- the body: size, media type, syntax ---------------------------------------------------


async def test_a_body_over_the_limit_is_413(client: Client, members: Node) -> None:
    padded = {**LESSON, "summary": "s" * MAX_JSON_BYTES}
    before = counts(members)
    response = await client.post(LESSONS, data=json.dumps(padded), headers=json_headers())
    await assert_error(response, 413, "payload_too_large")
    assert counts(members) == before
    await assert_healthy(client)


async def test_a_chunked_body_over_the_limit_is_413_as_it_arrives(
    client: Client, members: Node
) -> None:
    async def endless() -> AsyncIterator[bytes]:
        yield b'{"title": "'
        for _ in range(MAX_JSON_BYTES // 65_536 + 2):
            yield b"t" * 65_536

    before = counts(members)
    response = await client.post(LESSONS, data=endless(), headers=json_headers())
    await assert_error(response, 413, "payload_too_large")
    assert counts(members) == before
    await assert_healthy(client)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_a_body_that_is_not_json_is_415(
    client: Client, members: Node, content_type: str | None
) -> None:
    headers = basic("amina")
    if content_type is not None:
        headers["Content-Type"] = content_type
    before = counts(members)
    response = await client.post(LESSONS, data=json.dumps(LESSON).encode(), headers=headers)
    await assert_error(response, 415, "unsupported_media_type")
    assert counts(members) == before
    await assert_healthy(client)


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        (b'{"title": ', "not valid JSON"),
        (b"", "not valid JSON"),
        (b'["a", "list"]', "JSON object"),
        (b'"text"', "JSON object"),
        (b'{"title": NaN}', "not valid JSON"),
        (b'{"title": "\xff"}', "not UTF-8"),
        (b"[" * 200_000, "not valid JSON"),
    ],
)
async def test_a_body_that_does_not_parse_is_400(
    client: Client, members: Node, raw: bytes, needle: str
) -> None:
    before = counts(members)
    response = await client.post(LESSONS, data=raw, headers=json_headers())
    assert needle in await assert_error(response, 400, "bad_request")
    assert counts(members) == before
    await assert_healthy(client)


async def test_a_cross_site_form_cannot_act_with_credentials_a_browser_holds(
    client: Client, members: Node
) -> None:
    """A browser that once answered the Basic challenge sends those credentials with any
    form another site makes it post; such a form cannot say application/json."""
    record_id = await add_lesson(client)
    before = counts(members)
    for content_type in ("application/x-www-form-urlencoded", "text/plain", "multipart/form-data"):
        headers = {**basic("chidi"), "Content-Type": content_type}
        response = await client.post(f"{LESSONS}/{record_id}/approve", data=b"", headers=headers)
        await assert_error(response, 415, "unsupported_media_type")
    assert counts(members) == before


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (b'{"title": "Harmless", "kind": "checklist", "title": "Other", "body": "x"}', "title"),
        (b'{"title": "T", "kind": "checklist", "body": "x", "consent": '
         b'{"scope": "local", "basis": "consent", "scope": "federation"}}', "scope"),
    ],
)  # fmt: skip
async def test_a_key_given_twice_is_refused_not_last_wins(
    client: Client, members: Node, raw: bytes, key: str
) -> None:
    """Parsers disagree on which copy of a key wins: a proxy or log could read the first,
    while we acted on the last. A body naming a key twice is refused whole."""
    before = counts(members)
    response = await client.post(LESSONS, data=raw, headers=json_headers())
    message = await assert_error(response, 400, "bad_request")
    assert f"field '{key}': given twice" in message
    assert counts(members) == before
    await assert_healthy(client)


def json_headers(name: str = "amina") -> dict[str, str]:
    return {**basic(name), "Content-Type": "application/json"}


# ---- approving ----------------------------------------------------------------------------


async def test_a_curator_approves_once(client: Client, members: Node) -> None:
    record_id = await add_lesson(client)
    url = f"{LESSONS}/{record_id[:10]}/approve"
    empty = {**basic("chidi"), "Content-Type": "application/json"}  # no body at all
    first = await json_of(await client.post(url, headers=empty))
    assert first == {"id": record_id, "member": "chidi", "new": True}
    again = await json_of(await client.post(url, json={}, headers=basic("chidi")))
    assert again["new"] is False
    shown = await json_of(await client.get(f"{LESSONS}/{record_id}"))
    assert [(a["member"], a["verified"]) for a in shown["approvals"]] == [("chidi", True)]


async def test_approvals_are_refused_to_authors_and_to_non_curators(
    client: Client, members: Node
) -> None:
    own = await add_lesson(client, "tariq")  # tariq is author and curator
    before = counts(members)
    message = await assert_error(
        await client.post(f"{LESSONS}/{own}/approve", json={}, headers=basic("tariq")),
        403,
        "forbidden",
    )
    assert "cannot approve" in message
    for name in ("amina", "sefu", "admin"):  # an admin alone cannot wave lessons through
        response = await client.post(f"{LESSONS}/{own}/approve", json={}, headers=basic(name))
        await assert_error(response, 403, "forbidden")
    client.session.cookie_jar.clear()  # no session (the fixture's admin) and no credentials
    await assert_error(await client.post(f"{LESSONS}/{own}/approve"), 401, "unauthenticated")
    assert counts(members) == before
    await assert_healthy(client)


async def test_approve_checks_its_id_and_takes_no_fields(client: Client, members: Node) -> None:
    record_id = await add_lesson(client)
    before = counts(members)
    unknown = await client.post(f"{LESSONS}/{'f' * 64}/approve", json={}, headers=basic("chidi"))
    await assert_error(unknown, 404, "not_found")
    extra = await client.post(
        f"{LESSONS}/{record_id}/approve", json={"note": "hi"}, headers=basic("chidi")
    )
    assert "field 'note'" in await assert_error(extra, 400, "bad_request")
    assert counts(members) == before


# ---- revoking and receipts ----------------------------------------------------------------


async def test_an_author_revokes_their_lesson_and_follows_the_receipts(
    client: Client, members: Node
) -> None:
    record_id = await add_lesson(client)
    holder = "Lima Hub"
    peer_id = peer_node_id()
    save_peer(members.db, peer_id, holder, "Andes", "http://127.0.0.1:9", members.now())
    record_deliveries(members.db, peer_id, [record_id], "sent", members.now())
    members.db.conn.commit()

    response = await client.post(
        f"{LESSONS}/{record_id}/revoke",
        json={"reason": "consent-withdrawn", "note": "the family asked"},
        headers=basic("amina"),
    )
    body = await json_of(response)
    assert body["id"] == record_id and body["records"] == [record_id]
    assert body["receipts"] == f"{LESSONS}/{record_id}/receipts"
    await assert_error(await client.get(f"{LESSONS}/{record_id}"), 404, "not_found")
    receipts = await json_of(await client.get(body["receipts"]))
    assert receipts["revocation"] == body["revocation"]
    assert (receipts["purged"], receipts["pending"]) == (0, 1)
    [row] = receipts["holders"]
    assert (row["node"], row["name"], row["status"], row["direct"]) == (
        peer_id, holder, "pending", True,
    )  # fmt: skip


async def test_stewards_revoke_any_lesson_here_others_only_their_own(
    client: Client, members: Node
) -> None:
    record_id = await add_lesson(client)
    reason = {"reason": "safety"}
    before = counts(members)
    for name in ("chidi", "tariq"):  # a curator, and another author
        response = await client.post(
            f"{LESSONS}/{record_id}/revoke", json=reason, headers=basic(name)
        )
        assert "own lessons" in await assert_error(response, 403, "forbidden")
    client.session.cookie_jar.clear()  # no session (the fixture's admin) and no credentials
    await assert_error(
        await client.post(f"{LESSONS}/{record_id}/revoke", json=reason), 401, "unauthenticated"
    )
    assert counts(members) == before
    response = await client.post(
        f"{LESSONS}/{record_id}/revoke", json=reason, headers=basic("sefu")
    )
    assert (await json_of(response))["id"] == record_id


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({}, "reason"),
        ({"reason": "bored"}, "reason"),
        ({"reason": 3}, "reason"),
        ({"reason": "error", "note": "n" * 2_001}, "note"),
        ({"reason": "error", "note": ["a"]}, "note"),
        ({"reason": "error", "why": "x"}, "why"),
    ],
)
async def test_revoke_names_a_bad_field_and_keeps_the_lesson(
    client: Client, members: Node, fields: dict[str, Any], field: str
) -> None:
    record_id = await add_lesson(client)
    before = counts(members)
    response = await client.post(
        f"{LESSONS}/{record_id}/revoke", json=fields, headers=basic("amina")
    )
    assert f"field '{field}'" in await assert_error(response, 400, "bad_request")
    assert counts(members) == before
    assert (await json_of(await client.get(f"{LESSONS}/{record_id}")))["id"] == record_id


async def test_receipts_of_a_lesson_never_revoked_are_404(client: Client, members: Node) -> None:
    record_id = await add_lesson(client)
    await assert_error(await client.get(f"{LESSONS}/{record_id}/receipts"), 404, "not_found")


def peer_node_id() -> str:
    from crypto.signing import SigningIdentity

    return SigningIdentity.from_seed(bytes(range(64, 96))).node_id
