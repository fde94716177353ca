"""Nothing readable without signing in, from this machine too (node.web.access).

The test walks every route the app has, so a route added later is checked without anyone
remembering to: without credentials, every API route answers 401 in the one error shape and
every page sends the browser to the sign-in form, except the few routes that are open by
design (named in ``OPEN_ROUTES``, and federation's signed routes).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from aiohttp import web

from federation import routes as federation_routes
from node.actions.members import (
    CreateToken,
    RevokeToken,
    SetPassword,
    create_token,
    list_tokens,
    revoke_token,
    set_password,
)
from node.node import Node
from node.web.access import OPEN_ROUTES
from node.web.app import create_app
from tests.web.conftest import (
    LESSON,
    PASSWORD,
    Client,
    ClientFactory,
    api_session,
    assert_error,
    basic,
    counts,
    csrf,
    json_of,
    lesson,
    page,
    redirected_to,
    signed_in,
)

FEDERATION = {str(route.kwargs["name"]) for route in federation_routes.routes
              if isinstance(route, web.RouteDef)}  # fmt: skip
FAKE_FORWARDING = {"X-Forwarded-For": "127.0.0.1", "X-Forwarded-Proto": "https"}


def closed_routes(node: Node) -> list[tuple[str, str, str]]:
    """(method, a concrete path, name) of every route that needs a member."""
    app = create_app(node, background_sync=False)
    found = []
    for resource in app.router.resources():
        for route in resource:
            name = route.name or resource.name or ""
            if name in OPEN_ROUTES or name in FEDERATION or route.method == "HEAD":
                continue
            path = _example_path(resource)
            found.append((route.method, path, name))
    return found


def _example_path(resource: web.AbstractResource) -> str:
    """A path the resource matches: a placeholder limited to words gets its first word, any
    other an unknown id."""
    pattern = str(getattr(resource.get_info().get("pattern"), "pattern", ""))

    def value(placeholder: re.Match[str]) -> str:
        limited = re.search(rf"\(\?P<{placeholder.group(1)}>([\w|]+)\)", pattern)
        return limited.group(1).split("|")[0] if limited else "ffffffff"

    return re.sub(r"\{(\w+)\}", value, resource.canonical)


def test_the_walk_finds_the_routes(members: Node) -> None:
    names = {name for _, _, name in closed_routes(members)}
    assert {"api_lessons", "api_members", "page_home", "page_status", "page_peers"} <= names
    assert len(names) > 30


@pytest.mark.parametrize("forwarded", [{}, FAKE_FORWARDING], ids=["plain", "fake-forwarded"])
async def test_every_closed_route_refuses_a_visitor_on_loopback(
    visitor: Client, members: Node, forwarded: dict[str, str]
) -> None:
    before = counts(members)
    for method, path, name in closed_routes(members):
        response = await visitor.request(method, path, headers=forwarded, allow_redirects=False)
        if path.startswith("/api/"):
            await assert_error(response, 401, "unauthenticated")
            assert response.headers["WWW-Authenticate"].startswith("Basic "), name
        else:
            assert redirected_to(response).startswith("/signin?next="), (method, path)
            assert not await response.read(), name
    assert counts(members) == before


async def test_the_open_routes_answer(visitor: Client) -> None:
    for path in ("/healthz", "/metrics", "/signin", "/api/v1/session", "/api/v1/openapi.json",
                 "/static/style.css"):  # fmt: skip
        response = await visitor.get(path, allow_redirects=False)
        assert response.status == 200, path


# ---- API tokens ------------------------------------------------------------------------------


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def test_a_token_reads_until_it_is_revoked(visitor: Client, members: Node) -> None:
    admin = members.member("admin")
    made = create_token(members, CreateToken(members.member("amina"), "amina", "backup script"))
    assert made.secret.startswith("rhz_") and made.token.id in made.secret
    stored = members.db.execute("SELECT digest FROM member_tokens").fetchall()
    assert all(made.secret.encode() not in bytes(row[0]) for row in stored)  # a hash only
    assert [t.label for t in list_tokens(members, admin)] == ["backup script"]
    await json_of(await visitor.get("/api/v1/lessons", headers=bearer(made.secret)))
    await json_of(await visitor.get("/api/v1/members", headers=bearer(made.secret)))
    revoke_token(members, RevokeToken(admin, made.token.id))
    response = await visitor.get("/api/v1/lessons", headers=bearer(made.secret))
    await assert_error(response, 401, "unauthenticated")


@pytest.mark.parametrize(
    "secret",
    ["rhz_00000000_" + "A" * 43, "rhz_short", "", "Basic", "x" * 5000],
    ids=["unknown", "malformed", "empty", "word", "long"],
)
async def test_a_wrong_token_reads_nothing(visitor: Client, members: Node, secret: str) -> None:
    create_token(members, CreateToken(members.member("amina"), "amina", ""))
    response = await visitor.get("/api/v1/lessons", headers=bearer(secret))
    await assert_error(response, 401, "unauthenticated")


async def test_a_token_only_reads(visitor: Client, members: Node) -> None:
    made = create_token(members, CreateToken(members.member("amina"), "amina", ""))
    before = counts(members)
    response = await visitor.post("/api/v1/lessons", json=LESSON, headers=bearer(made.secret))
    assert "only reads" in await assert_error(response, 403, "forbidden")
    assert counts(members) == before


async def test_a_removed_members_token_reads_nothing(visitor: Client, members: Node) -> None:
    made = create_token(members, CreateToken(members.member("amina"), "amina", ""))
    members.db.execute("UPDATE members SET removed_at = 1 WHERE name = 'amina'")
    members.db.conn.commit()
    response = await visitor.get("/api/v1/lessons", headers=bearer(made.secret))
    await assert_error(response, 401, "unauthenticated")


async def test_members_make_their_own_tokens_admins_anyone_s(members: Node) -> None:
    amina = members.member("amina")
    create_token(members, CreateToken(amina, "amina", "mine"))
    with pytest.raises(Exception, match=r"admin|manage"):
        create_token(members, CreateToken(amina, "chidi", "not mine"))
    made = create_token(members, CreateToken(members.member("admin"), "chidi", "by admin"))
    with pytest.raises(Exception, match=r"admin|manage"):
        revoke_token(members, RevokeToken(amina, made.token.id))


# ---- sessions end on a password change ----------------------------------------------------


async def test_a_new_password_ends_every_session(
    aiohttp_client: ClientFactory, members: Node
) -> None:
    api_client = await aiohttp_client(create_app(members, background_sync=False))
    page_client = await aiohttp_client(create_app(members, background_sync=False))
    await api_session(api_client, "amina")
    await signed_in(page_client, "amina")
    await json_of(await api_client.get("/api/v1/lessons"))
    amina = members.member("amina")
    set_password(members, SetPassword(amina, "amina", "another long passphrase"))
    await assert_error(await api_client.get("/api/v1/lessons"), 401, "unauthenticated")
    assert redirected_to(await page_client.get("/", allow_redirects=False)).startswith("/signin")
    # the old password no longer signs in; the new one does, and reads again
    old = await api_client.post("/api/v1/session", json={"name": "amina", "password": PASSWORD})
    await assert_error(old, 401, "unauthenticated")
    await json_of(await api_client.get("/api/v1/lessons", headers=basic(
        "amina", "another long passphrase")))  # fmt: skip


async def test_a_session_survives_other_members_passwords(client: Client, members: Node) -> None:
    token = await api_session(client, "amina")
    set_password(members, SetPassword(members.member("admin"), "chidi", "another long one!"))
    response = await client.post("/api/v1/lessons", json=LESSON, headers=csrf(token))
    await json_of(response, 201)


# ---- the session cookie --------------------------------------------------------------------


async def test_the_cookie_is_httponly_strict_and_secure_only_over_https(visitor: Client) -> None:
    response = await visitor.post(
        "/api/v1/session", json={"name": "amina", "password": PASSWORD}, headers=FAKE_FORWARDING
    )
    await json_of(response)
    cookie = response.cookies["rhizome_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    assert not cookie["secure"]  # plain HTTP, and a forwarded "https" from no trusted proxy


# ---- public_read: public lessons only, on the pages too -----------------------------------


async def test_public_read_pages_show_only_public_lessons(
    aiohttp_client: ClientFactory, members: Node, tmp_path: Path
) -> None:
    members.config = dataclasses.replace(members.config, public_read=True)
    visitor = await aiohttp_client(create_app(members, background_sync=False))
    shared = lesson(members, tmp_path, title="Members only march plan")
    public = lesson(members, tmp_path, title="Open march checklist",
                    consent={"basis": "consent", "scope": "public"})  # fmt: skip
    found = await page(visitor, "/search?q=march")
    assert "Open march checklist" in found and "Members only" not in found
    listed = await page(visitor, "/search")
    assert "Open march checklist" in listed and "Members only" not in listed
    shown = await page(visitor, f"/lessons/{public}")
    assert "Open march checklist" in shown and 'id="sign-out"' not in shown
    assert "Members only" not in await page(visitor, f"/lessons/{shared}", status=404)
    assert redirected_to(await visitor.get("/", allow_redirects=False)) == "/search"
    for closed in ("/peers", "/events", "/policy", "/status", f"/revocations/{public}"):
        refused = await visitor.get(closed, allow_redirects=False)
        assert redirected_to(refused).startswith("/signin"), closed
