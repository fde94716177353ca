"""Approving happens on the lesson's own page with its consent in view (the queue only links
there), and the withdraw form says plainly that a withdrawal cannot be undone."""

from __future__ import annotations

from pathlib import Path

from node.node import Node
from tests.web.conftest import Client, lesson, page, signed_in

SHAREABLE = {"sensitivity": "medium", "consent": {"scope": "federation"}}


async def test_the_queue_links_to_the_lesson_instead_of_approving(
    client: Client, members: Node, tmp_path: Path
) -> None:
    record_id = lesson(members, tmp_path, title="Needs a curator", **SHAREABLE)
    await signed_in(client, "cora")
    queue = await page(client, "/approvals")
    assert f'action="/lessons/{record_id}/approve"' not in queue
    assert f'href="/lessons/{record_id}#approvals"' in queue
    assert "Read it and its consent, then approve" in queue


async def test_the_approve_form_shows_the_consent_it_approves(
    client: Client, members: Node, tmp_path: Path
) -> None:
    record_id = lesson(members, tmp_path, title="Needs a curator", **SHAREABLE)
    await signed_in(client, "cora")
    shown = await page(client, f"/lessons/{record_id}")
    form = shown.split('id="approve-form"', 1)[1].split("</form>", 1)[0]
    assert "You approve it leaving this hub under this consent:" in form
    assert "<dt>" in form and "<dd>" in form
    assert 'id="approve-button"' in form


async def test_the_withdraw_form_says_there_is_no_undo(
    client: Client, members: Node, tmp_path: Path
) -> None:
    record_id = lesson(members, tmp_path, title="Ours")
    await signed_in(client, "sam")  # a steward may withdraw
    shown = await page(client, f"/lessons/{record_id}")
    form_area = shown.split('id="revoke"', 1)[1]
    assert form_area.index("This cannot be undone.") < form_area.index('id="revoke-form"')
