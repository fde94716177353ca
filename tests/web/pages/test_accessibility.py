"""Every page, as a signed-in admin sees it with a little of everything in the archive:
one h1, unique ids, a label for every input, a CSRF token in every form that posts, and
nothing that needs script or another site."""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from crypto.signing import SigningIdentity
from federation.peers import save_peer
from node.node import Node
from tests.conftest import START
from tests.web.conftest import Client, lesson, page, signed_in


class Outline(HTMLParser):
    """What the checks need to know of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: Counter[str] = Counter()
        self.labels: set[str] = set()
        self.inputs: list[dict[str, str | None]] = []
        self.h1 = 0
        self.forms: list[dict[str, str | None]] = []
        self.tokens = 0
        self.scripts = 0
        self.lang: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids[str(found["id"])] += 1
        if tag == "html":
            self.lang = found.get("lang")
        elif tag == "label" and found.get("for"):
            self.labels.add(str(found["for"]))
        elif tag in ("input", "select", "textarea"):
            if found.get("name") == "csrf_token":
                self.tokens += 1
            elif found.get("type") not in ("hidden", "submit"):
                self.inputs.append(found)
        elif tag == "h1":
            self.h1 += 1
        elif tag == "form":
            self.forms.append(found)
        elif tag == "script":
            self.scripts += 1


@pytest.fixture
async def admin(client: Client, members: Node, tmp_path: Path) -> tuple[Client, str]:
    """The admin's browser, and a lesson with consent, participants and a label."""
    other = SigningIdentity.from_seed(bytes(range(64, 96))).node_id
    save_peer(members.db, other, "Manila Hub", "Southeast Asia", "http://x.test", START)
    record_id = lesson(
        members, tmp_path, sensitivity="medium",
        consent={"scope": "federation", "subjects": [{"pseudonym": "Heron", "share": True}]},
        labels=[{"type": "protocol", "name": "Seasonal", "community": "Check before use."}],
    )  # fmt: skip
    await signed_in(client, "admin")
    return client, record_id


PAGES = (
    "/", "/search", "/search?q=buddy", "/lessons/{record}", "/lessons/new",
    "/lessons/{record}/edit", "/approvals", "/quarantine", "/peers", "/policy",
    "/policy?record={record}&peer=Manila+Hub", "/events", "/decisions", "/signin", "/status",
)  # fmt: skip


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_is_well_formed_for_people_and_assistive_technology(
    admin: tuple[Client, str], path: str
) -> None:
    client, record_id = admin
    outline = Outline()
    outline.feed(await page(client, path.format(record=record_id)))
    assert outline.lang == "en"
    assert outline.h1 == 1
    assert [name for name, times in outline.ids.items() if times > 1] == []
    unlabelled = [
        field.get("name") or field.get("id")
        for field in outline.inputs
        if field.get("id") not in outline.labels and not field.get("aria-label")
    ]
    assert unlabelled == []
    posting = [form for form in outline.forms if form.get("method") == "post"]
    assert outline.tokens == len(posting)
    assert outline.scripts == 0
