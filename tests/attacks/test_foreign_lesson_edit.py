"""Attack: a member edits another member's lesson to widen its consent and lower its sensitivity.

Amina wrote a lesson that stays on Nairobi (scope local, sensitivity high). Rogue, another
author on the same hub, makes a "new version" of it: same text, scope federation, sensitivity
low, so that it would reach Manila at the next sync with no curator looking at it. Rogue tries
every front-end: ``rhizome lesson add`` with ``supersedes``, ``lesson import``, the JSON API
and the web edit form.

What must hold: only the author of the replaced version or a steward may make a new version,
so each attempt is refused with one clear error and nothing is stored. A steward may widen,
but the widened version leaves only with the approvals of the stricter terms (here high: two
curators, never the editor), the widening is in the event log and ``policy explain`` names it.
"""

from __future__ import annotations

import base64
import json
import re
from html import unescape
from pathlib import Path
from typing import Any

import aiohttp

from node.home import create_member
from node.passwords import hash_password
from tests.conftest import write_lesson
from tests.integration.conftest import Cluster, RunningNode
from tests.node.conftest import Invoke, assert_clean_exit, assert_one_line_error, last_line
from tests.tls_helpers import trusting_connector

PASSWORD = "a long enough passphrase"
MEMBERS = {"amina": ("author",), "rogue": ("author",), "sefu": ("steward", "author")}
CURATORS = ("chidi", "cora")
REFUSAL = "may not make a new version of a lesson written by amina"
WIDE = {"scope": "federation", "basis": "consent"}


def add_members(hub: RunningNode) -> None:
    node = hub.node
    hashed = hash_password(PASSWORD)
    everyone = {**MEMBERS, **{name: ("curator",) for name in CURATORS}}
    for name, roles in everyone.items():
        create_member(node.paths, node.db, node.identity, name, roles, None, node.now())
        node.db.execute("UPDATE members SET password_hash = ? WHERE name = ?", [hashed, name])


def lesson_file(folder: Path, name: str, **front: Any) -> Path:
    fields = {"title": "Safe houses", "kind": "checklist", **front}
    return write_lesson(folder, name, fields, "Addresses of the safe houses.\n")


def stored(hub: RunningNode) -> tuple[int, int]:
    return hub.count("records"), hub.count("events")


async def nairobi_and_manila(net: Cluster, invoke: Invoke, tmp_path: Path) -> Any:
    nairobi = await net.start("Nairobi Hub")
    manila = await net.start("Manila Hub", region="Southeast Asia")
    await net.pair(nairobi, manila)
    add_members(nairobi)
    original = lesson_file(
        tmp_path, "original.md", sensitivity="high", consent={"basis": "consent", "scope": "local"}
    )
    added = invoke(nairobi.home, "--as", "amina", "lesson", "add", str(original))
    assert_clean_exit(added)
    return nairobi, manila, last_line(added.output)


async def test_a_member_cannot_edit_another_members_lesson_anywhere(
    cluster: Cluster, invoke: Invoke, tmp_path: Path
) -> None:
    nairobi, manila, first = await nairobi_and_manila(cluster, invoke, tmp_path)
    widened = {"sensitivity": "low", "consent": WIDE, "supersedes": first}
    before = stored(nairobi)

    # The CLI, one file and a folder import.
    edit = lesson_file(tmp_path, "edit.md", **widened)
    refused = invoke(nairobi.home, "--as", "rogue", "lesson", "add", str(edit))
    assert_one_line_error(refused, REFUSAL, "only its author or a steward")
    folder = tmp_path / "batch"
    folder.mkdir()
    lesson_file(folder, "edit.md", **widened)
    imported = invoke(nairobi.home, "--as", "rogue", "lesson", "import", str(folder))
    assert imported.exit_code == 1 and REFUSAL in imported.output
    assert stored(nairobi) == before

    # The JSON API, with HTTP Basic credentials as a script sends them.
    token = base64.b64encode(f"rogue:{PASSWORD}".encode()).decode("ascii")
    fields = {"title": "Safe houses", "kind": "checklist", "body": "Addresses.\n", **widened}
    async with cluster.session.post(
        f"{nairobi.url}/api/v1/lessons", json=fields, headers={"Authorization": f"Basic {token}"}
    ) as response:
        answer = await response.json()
    assert response.status == 400, answer
    assert REFUSAL in answer["error"]["message"]
    assert stored(nairobi) == before

    # The web edit form, signed in as rogue in a browser.
    status, text = await edit_in_browser(nairobi, first, "rogue")
    assert status == 400 and REFUSAL in unescape(text)
    assert stored(nairobi) == before

    await cluster.sync(manila, nairobi)
    assert manila.count("records") == 0
    assert nairobi.count("records", "supersedes = ?", [first]) == 0


async def edit_in_browser(hub: RunningNode, record_id: str, member: str) -> tuple[int, str]:
    """Sign in as ``member`` and save the edit form of ``record_id`` widened; status, page."""
    jar = aiohttp.CookieJar(unsafe=True)  # keeps cookies for 127.0.0.1
    async with aiohttp.ClientSession(
        cookie_jar=jar, connector=trusting_connector(hub.home)
    ) as browser:
        token = await csrf(browser, f"{hub.url}/signin")
        credentials = {"csrf_token": token, "name": member, "password": PASSWORD}
        async with browser.post(
            f"{hub.url}/signin", data=credentials, allow_redirects=False
        ) as response:
            assert response.status == 303, await response.text()
        async with browser.get(f"{hub.url}/lessons/{record_id}") as response:
            assert 'id="edit-link"' not in await response.text()  # no Edit button offered
        token = await csrf(browser, f"{hub.url}/lessons/{record_id}/edit")
        form = {
            "csrf_token": token, "title": "Safe houses", "kind": "checklist",
            "summary": "", "body": "Addresses.\r\n", "language": "", "region": "", "tags": "",
            "sensitivity": "low", "consent_basis": "consent", "consent_scope": "federation",
            "consent_regions_allow": "", "consent_regions_deny": "", "consent_expires": "",
            "consent_purposes": "",
        }  # fmt: skip
        async with browser.post(
            f"{hub.url}/lessons/{record_id}/edit", data=form, allow_redirects=False
        ) as response:
            return response.status, await response.text()


async def csrf(browser: aiohttp.ClientSession, url: str) -> str:
    async with browser.get(url) as response:
        text = await response.text()
        assert response.status == 200, text[:500]
    found = re.search(r'name="csrf_token" value="([^"]+)"', text)
    assert found, url
    return unescape(found.group(1))


async def test_a_stewards_widening_needs_curators_and_is_logged(
    cluster: Cluster, invoke: Invoke, tmp_path: Path
) -> None:
    nairobi, manila, first = await nairobi_and_manila(cluster, invoke, tmp_path)
    edit = lesson_file(tmp_path, "edit.md", sensitivity="low", consent=WIDE, supersedes=first)
    added = invoke(nairobi.home, "--as", "sefu", "lesson", "add", str(edit))
    assert_clean_exit(added)
    second = last_line(added.output)
    assert "widens the terms of an earlier one (scope, sensitivity)" in added.stderr
    assert "2 curator approvals" in added.stderr

    logged = nairobi.node.db.execute(
        "SELECT detail FROM events WHERE kind = 'record.widened' AND subject = ?", [second]
    ).fetchall()
    assert len(logged) == 1
    detail = json.loads(logged[0][0])
    assert detail == {"widened": ["scope", "sensitivity"], "approvals_needed": 2, "editor": "sefu"}

    await cluster.sync(manila, nairobi)
    assert manila.count("records") == 0
    explained = invoke(nairobi.home, "policy", "explain", second, manila.node_id)
    assert "[widened_needs_approval]" in explained.output
    assert "needs 2 curator approvals other than its editor's, has 0" in explained.output

    assert_clean_exit(invoke(nairobi.home, "--as", "chidi", "lesson", "approve", second))
    await cluster.sync(manila, nairobi)
    assert manila.count("records") == 0  # one curator is not enough for what was high
    assert_clean_exit(invoke(nairobi.home, "--as", "cora", "lesson", "approve", second))
    await cluster.sync(manila, nairobi)
    assert manila.count("records", "id = ?", [second]) == 1
    assert manila.count("records", "id = ?", [first]) == 0  # the local original stays home
