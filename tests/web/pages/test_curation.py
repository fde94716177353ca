"""Curators at work: approving from a lesson or from the queue, accepting and rejecting
quarantined lessons; each refused to the wrong role and to a form without its token."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.record import Consent, Lesson
from archive.signed_record import sign_lesson
from federation.peers import get_peer, save_peer
from federation.receiving import Receiver
from governance.approvals import approvals_of
from node.node import Node
from tests.conftest import START
from tests.web.conftest import Client, counts, lesson, page, post, redirected_to, signed_in

SHAREABLE = {"sensitivity": "medium", "consent": {"scope": "federation"}}


async def test_a_curator_approves_from_the_lesson_page(
    client: Client, members: Node, tmp_path: Path
) -> None:
    record_id = lesson(members, tmp_path, **SHAREABLE)
    await signed_in(client, "cora")
    shown = await page(client, f"/lessons/{record_id}")
    assert 'id="approve-button"' in shown
    response = await post(
        client, f"/lessons/{record_id}/approve", from_page=f"/lessons/{record_id}"
    )
    assert redirected_to(response) == f"/lessons/{record_id}"
    approvals = approvals_of(members.db, record_id, "ana")
    assert [(a.member, a.verified, a.counts) for a in approvals] == [("cora", True, True)]
    after = await page(client, f"/lessons/{record_id}")
    assert "Approved “Buddy pairs at the march” as cora." in after
    assert "<strong>cora</strong>" in after and "1 counts now" in after
    assert 'id="approve-button"' not in after  # once is enough


async def test_the_queue_lists_what_waits_and_approves_from_there(
    client: Client, members: Node, tmp_path: Path
) -> None:
    waiting = lesson(members, tmp_path, title="Needs a curator", **SHAREABLE)
    lesson(members, tmp_path, title="Low and free", consent={"scope": "federation"})
    lesson(members, tmp_path, title="Stays home", sensitivity="medium")
    await signed_in(client, "cora")
    queue = await page(client, "/approvals")
    assert "Needs a curator" in queue
    assert "Low and free" not in queue and "Stays home" not in queue
    assert "0 of 1 approval" in queue
    response = await post(
        client, f"/lessons/{waiting}/approve", {"next": "/approvals"}, from_page="/approvals"
    )
    assert redirected_to(response) == "/approvals"
    assert 'id="approval-queue-empty"' in await page(client, "/approvals")


async def test_approval_is_for_curators_and_never_for_the_author(
    client: Client, members: Node, tmp_path: Path
) -> None:
    record_id = lesson(members, tmp_path, **SHAREABLE)
    before = counts(members)
    await signed_in(client, "admin")
    assert 'id="approve-button"' not in await page(client, f"/lessons/{record_id}")
    response = await post(client, f"/lessons/{record_id}/approve")
    assert response.status == 403
    assert "admin may not approve lessons" in await response.text()
    await post(client, "/signout")
    own = lesson(members, tmp_path, author="cora", title="Cora's own", **SHAREABLE)
    before = counts(members)
    await signed_in(client, "cora")
    response = await post(client, f"/lessons/{own}/approve")
    assert response.status == 403
    assert "cora wrote this lesson and cannot approve it" in await response.text()
    assert counts(members) == before


async def test_approving_needs_the_forms_token(
    client: Client, members: Node, tmp_path: Path
) -> None:
    record_id = lesson(members, tmp_path, **SHAREABLE)
    await signed_in(client, "cora")
    before = counts(members)
    response = await post(client, f"/lessons/{record_id}/approve", csrf=False)
    assert response.status == 403
    assert counts(members) == before


# ---- quarantine -----------------------------------------------------------------------------


@pytest.fixture
def from_manila(members: Node, manila: Node) -> Iterator[str]:
    """A lesson from Manila waiting in our quarantine; its id."""
    path = members.paths.policy
    path.write_text(path.read_text().replace("quarantine = false", "quarantine = true"))
    stat = path.stat()  # a coarse file-system clock must not hide the edit
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    config = manila.config
    save_peer(members.db, manila.node_id, config.name, config.region, config.url, START)
    record = sign_lesson(
        manila.identity,
        Lesson(
            kind="checklist", title="Tubig sa martsa", body="Magdala ng tubig.\n",
            language="tl", region=config.region, created=START, origin=manila.public_key,
            author="admin", consent=Consent("consent", "federation"),
        ),
    )  # fmt: skip
    sender = get_peer(members.db, manila.node_id)
    assert sender is not None
    result = Receiver.of(members.local_node()).receive([record.envelope], sender)
    assert result.quarantined == [record.id_hex]
    yield record.id_hex


async def test_quarantine_lists_and_a_curator_accepts(
    client: Client, members: Node, from_manila: str
) -> None:
    queue = await page(client, "/quarantine")
    assert "Tubig sa martsa" in queue and "from Manila Hub" in queue
    assert "Tubig sa martsa" not in await page(client, "/search")
    shown = await page(client, f"/lessons/{from_manila}")
    assert 'id="quarantine-notice"' in shown
    assert 'id="count-quarantine">1</span>' in await page(client, "/")
    await signed_in(client, "cora")
    response = await post(client, f"/quarantine/{from_manila}/accept", from_page="/quarantine")
    assert redirected_to(response) == "/quarantine"
    assert 'id="quarantine-empty"' in await page(client, "/quarantine")
    assert "Tubig sa martsa" in await page(client, "/search")


async def test_a_rejected_lesson_is_purged(client: Client, members: Node, from_manila: str) -> None:
    await signed_in(client, "sam")
    response = await post(client, f"/quarantine/{from_manila}/reject", from_page="/quarantine")
    assert redirected_to(response) == "/quarantine"
    assert "purged" in await page(client, "/quarantine")
    await page(client, f"/lessons/{from_manila}", status=404)


async def test_authors_may_not_review_quarantine(
    client: Client, members: Node, from_manila: str
) -> None:
    await signed_in(client, "ana")
    assert f'id="accept-{from_manila[:12]}"' not in await page(client, "/quarantine")
    before = counts(members)
    response = await post(client, f"/quarantine/{from_manila}/accept")
    assert response.status == 403
    assert "ana may not accept or reject" in await response.text()
    response = await post(client, f"/quarantine/{from_manila}/reject", csrf=False)
    assert response.status == 403
    assert counts(members) == before
