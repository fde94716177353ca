"""Every read page answers with HTML, shows what it is for, and keeps the JSON API's errors
JSON; reading is for this machine unless the operator opens it or a member signs in."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

from crypto.signing import SigningIdentity
from federation.peers import save_peer
from node.node import Node
from tests.conftest import SEED_B
from tests.web.conftest import Client, lesson, page, redirected_to, signed_in

NEXT_LINK = re.compile(r'<a href="([^"]+)" rel="next">')
PREVIOUS_LINK = re.compile(r'<a href="([^"]+)" rel="prev">')
TITLES = re.compile(r">Lesson number (\d\d)</a>")


async def test_home_shows_counts_recent_lessons_and_a_search_box(
    client: Client, members: Node, tmp_path: Path
) -> None:
    lesson(members, tmp_path, title="Buddy pairs at the march")
    text = await page(client, "/")
    assert '<span class="count" id="count-lessons">1</span> lesson' in text
    assert 'id="count-peers">0</span>' in text
    assert 'id="count-revocations">0</span>' in text
    assert "Buddy pairs at the march" in text
    assert 'role="search"' in text and 'name="q"' in text
    for label in ("Home", "Search", "Add lesson", "Approvals", "Quarantine", "Peers", "Policy"):
        assert f">{label}</a>" in text
    assert 'href="/" aria-current="page"' in text
    assert 'id="sign-out"' in text  # the fixture's client is signed in: no page is open


async def test_an_empty_hub_invites_the_first_lesson(client: Client) -> None:
    text = await page(client, "/")
    assert "No lessons yet" in text and 'href="/lessons/new"' in text


async def test_pages_are_safe_to_show(client: Client) -> None:
    response = await client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "script-src" not in policy  # no script at all, not even our own
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


async def test_assets_come_from_the_node(client: Client) -> None:
    text = await page(client, "/")
    for asset in ("/static/style.css", "/static/favicon.svg"):
        assert f'"{asset}"' in text
        response = await client.get(asset)
        assert response.status == 200
    assert "http://" not in text.replace('href="http', "").split("<body>")[0]
    assert "<script" not in text


async def test_search_ranks_and_marks_hits(client: Client, members: Node, tmp_path: Path) -> None:
    lesson(members, tmp_path, title="Press interview drill", body="Practice the press questions.")
    lesson(members, tmp_path, title="Water at the march", body="Carry water.")
    text = await page(client, "/search?q=press")
    assert "Press interview drill" in text
    assert "Water at the march" not in text
    assert "<mark>press</mark>" in text.lower()


async def test_search_filters_and_listing(client: Client, members: Node, tmp_path: Path) -> None:
    lesson(members, tmp_path, title="A checklist", kind="checklist", tags=["safety"])
    lesson(members, tmp_path, title="A story", kind="story", language="es")
    listing = await page(client, "/search")
    assert "2 lessons, newest first" in listing
    by_kind = await page(client, "/search?kind=story")
    assert "A story" in by_kind and "A checklist" not in by_kind
    assert '<option value="story" selected>' in by_kind
    by_language = await page(client, "/search?language=es")
    assert "A story" in by_language and "A checklist" not in by_language
    by_tag = await page(client, "/search?tag=safety")
    assert "A checklist" in by_tag and "A story" not in by_tag
    nothing = await page(client, "/search?q=nowhere")
    assert "No lesson matches." in nothing


async def test_the_list_pages_by_cursor_both_ways(
    client: Client, members: Node, tmp_path: Path
) -> None:
    for number in range(22):
        lesson(members, tmp_path, title=f"Lesson number {number:02d}")
    first = await page(client, "/search")
    assert "22 lessons, newest first" in first
    assert 'rel="prev"' not in first
    following = NEXT_LINK.search(first)
    assert following is not None and "after=" in following.group(1)
    second = await page(client, unescape(following.group(1)))
    assert 'rel="next"' not in second
    assert len(TITLES.findall(first)) == 20 and len(TITLES.findall(second)) == 2
    assert set(TITLES.findall(first) + TITLES.findall(second)) == {f"{n:02d}" for n in range(22)}
    back = PREVIOUS_LINK.search(second)
    assert back is not None and "before=" in back.group(1)
    again = await page(client, unescape(back.group(1)))
    assert TITLES.findall(again) == TITLES.findall(first)


async def test_a_made_up_cursor_is_a_clear_error(client: Client) -> None:
    text = await page(client, "/search?after=12.nothex", status=400)
    assert "cursor" in text
    assert "0 lessons" in await page(client, "/search")


async def test_search_without_words_says_so(client: Client) -> None:
    text = await page(client, "/search?q=%21%21%21", status=400)
    assert 'id="q-error"' in text and "type at least one word" in text
    assert 'aria-invalid="true"' in text


async def test_lesson_page_in_plain_words(client: Client, members: Node, tmp_path: Path) -> None:
    record_id = lesson(
        members, tmp_path, title="Photo consent", sensitivity="medium", tags=["photos"],
        body="# Steps\n\nAsk **first**.\n",
        consent={
            "scope": "federation", "reshare": False, "expires": "2030-01-01",
            "purposes": ["training"],
            "subjects": [{"pseudonym": "Heron", "share": True, "recorded": True}],
        },
        labels=[{"type": "provenance", "name": "Shared by Heron", "community": "For training."}],
    )  # fmt: skip
    text = await page(client, f"/lessons/{record_id}")
    assert '<h1 id="lesson-title">Photo consent</h1>' in text
    assert "<h2>Steps</h2>" in text and "<strong>first</strong>" in text
    assert "This hub&#39;s trusted peers." in text
    assert "Hubs that receive it must not pass it on." in text
    assert "2030-01-01 00:00 UTC" in text
    assert "training" in text
    assert "<strong>Heron</strong>: agreed to sharing; agreed to being recorded; " in text
    assert "did not agree to photos" in text
    assert "Shared by Heron" in text and "(Where it comes from)" in text
    assert "needs 1 curator approval before it leaves; 0 count now" in text
    assert "This hub has not sent it to any peer." in text
    assert "(this version)" in text
    assert 'lang="en"' in text


async def test_lesson_by_prefix_and_unknown_ids(
    client: Client, members: Node, tmp_path: Path
) -> None:
    record_id = lesson(members, tmp_path)
    assert "Buddy pairs" in await page(client, f"/lessons/{record_id[:8]}")
    missing = await page(client, "/lessons/" + "ab" * 32, status=404)
    assert "<h1>Not found</h1>" in missing and "no record" in missing
    bad = await page(client, "/lessons/zz", status=400)
    assert "is not a record id" in bad


async def test_versions_link_both_ways(client: Client, members: Node, tmp_path: Path) -> None:
    first = lesson(members, tmp_path, title="Version one")
    second = lesson(members, tmp_path, title="Version two", supersedes=first)
    old = await page(client, f"/lessons/{first}")
    assert 'id="newer-version"' in old and f'href="/lessons/{second}"' in old
    new = await page(client, f"/lessons/{second}")
    assert 'id="newer-version"' not in new
    assert f'href="/lessons/{first}"' in new


async def test_policy_page_shows_text_and_hash(client: Client, members: Node) -> None:
    text = await page(client, "/policy")
    assert members.policy().hash in text
    assert "[approvals]" in text and "max_sensitivity" in text


async def test_event_and_decision_logs(client: Client, members: Node, tmp_path: Path) -> None:
    record_id = lesson(members, tmp_path)
    events = await page(client, "/events")
    assert "Lesson added" in events and f'href="/lessons/{record_id}"' in events
    assert "Member added" in events
    decisions = await page(client, "/decisions")
    assert "No sharing decisions logged yet." in decisions
    assert "limit must be" in await page(client, "/events?limit=0", status=400)


async def test_no_one_reads_unless_signed_in(
    visitor: Client, members: Node, tmp_path: Path
) -> None:
    """This machine too: the visitor is on loopback."""
    record_id = lesson(members, tmp_path)
    for path in ("/", "/search", f"/lessons/{record_id}", "/peers", "/policy", "/events"):
        refused = await visitor.get(path, allow_redirects=False)
        assert redirected_to(refused).startswith("/signin?next=")
        assert "Buddy" not in await refused.text()
    assert "Sign in" in await page(visitor, "/signin")
    await signed_in(visitor, "ana")
    assert "Buddy pairs" in await page(visitor, f"/lessons/{record_id}")


async def test_json_routes_keep_json_errors(client: Client) -> None:
    response = await client.get("/api/v1/lessons/zz")
    assert response.status == 400
    assert response.content_type == "application/json"
    assert set(await response.json()) == {"error"}


async def test_policy_page_lists_peer_sections_it_cannot_resolve(
    client: Client, members: Node, tmp_path: Path
) -> None:
    """A name section nobody confirmed: the page says so, and explain names policy_binding."""
    manila = SigningIdentity.from_seed(SEED_B).node_id
    save_peer(members.db, manila, "Manila Hub", "Southeast Asia", "http://x.test", 0)
    policy = members.paths.policy
    extra = '\n[peers."Manila Hub"]\nmax_sensitivity = "high"\n'
    policy.write_text(policy.read_text(encoding="utf-8") + extra, encoding="utf-8")
    record_id = lesson(members, tmp_path, sensitivity="low", consent={"scope": "federation"})
    text = await page(client, "/policy")
    assert 'id="binding-warnings"' in text
    assert "names peer " + manila + " only by name, not yet confirmed" in text
    explained = await page(client, f"/policy?record={record_id}&peer=Manila+Hub")
    assert "policy_binding" in explained
