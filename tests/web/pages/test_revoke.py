"""Withdrawing a lesson from its page, and the receipts page that follows the withdrawal."""

from __future__ import annotations

from pathlib import Path

from archive.db import transaction
from federation.peers import record_deliveries, save_peer
from node.node import Node
from tests.conftest import START
from tests.web.conftest import Client, counts, lesson, page, post, redirected_to, signed_in


def sent_to_manila(node: Node, manila: Node, record_id: str) -> None:
    """What a finished sync leaves: Manila is a peer and our ledger says it got the lesson."""
    config = manila.config
    with transaction(node.db):
        save_peer(node.db, manila.node_id, config.name, config.region, config.url, START)
        record_deliveries(node.db, manila.node_id, [record_id], "sent", START)


async def test_the_author_withdraws_and_sees_the_receipts(
    client: Client, members: Node, manila: Node, tmp_path: Path
) -> None:
    record_id = lesson(members, tmp_path, consent={"scope": "federation"})
    sent_to_manila(members, manila, record_id)
    await signed_in(client, "ana")
    shown = await page(client, f"/lessons/{record_id}")
    assert "Sent to <strong>Manila Hub</strong>" in shown
    assert 'id="revoke-form"' in shown and '<label for="reason">' in shown
    response = await post(
        client, f"/lessons/{record_id}/revoke",
        {"reason": "consent-withdrawn", "note": "Heron asked on the phone"},
        from_page=f"/lessons/{record_id}",
    )  # fmt: skip
    assert redirected_to(response) == f"/revocations/{record_id}"
    assert members.db.execute("SELECT count(*) FROM records").fetchone()[0] == 0
    receipts = await page(client, f"/revocations/{record_id}")
    assert '<meta http-equiv="refresh" content="2">' in receipts
    assert "Consent was withdrawn" in receipts and "by ana" in receipts
    assert "Heron asked on the phone" in receipts
    assert "Manila Hub" in receipts and "Pending" in receipts
    assert "1 of 1 hub has not confirmed yet." in receipts
    # The lesson's own address now leads to its receipts.
    moved = await client.get(f"/lessons/{record_id}", allow_redirects=False)
    assert redirected_to(moved) == f"/revocations/{record_id}"
    # Reloading can be turned off (the page stays readable without moving).
    still = await page(client, f"/revocations/{record_id}?auto=off")
    assert "http-equiv" not in still and "Reload automatically" in still


async def test_a_withdrawal_nobody_else_held_stops_refreshing(
    client: Client, members: Node, tmp_path: Path
) -> None:
    record_id = lesson(members, tmp_path)
    await signed_in(client, "sam")  # a steward may withdraw any lesson of this hub
    response = await post(client, f"/lessons/{record_id}/revoke", {"reason": "safety"})
    assert redirected_to(response) == f"/revocations/{record_id}"
    receipts = await page(client, f"/revocations/{record_id}")
    assert "http-equiv" not in receipts
    assert "No other hub received this lesson from us" in receipts
    assert "It puts someone at risk" in receipts


async def test_a_reason_is_required(client: Client, members: Node, tmp_path: Path) -> None:
    record_id = lesson(members, tmp_path)
    await signed_in(client, "ana")
    before = counts(members)
    response = await post(client, f"/lessons/{record_id}/revoke", {"reason": "boredom"})
    assert response.status == 400
    text = await response.text()
    assert 'id="reason-error"' in text and "Choose why the lesson is withdrawn." in text
    assert "<details open>" in text
    assert counts(members) == before


async def test_only_the_author_a_steward_or_an_admin_withdraws(
    client: Client, members: Node, tmp_path: Path
) -> None:
    record_id = lesson(members, tmp_path, author="admin")
    await signed_in(client, "cora")
    assert 'id="revoke-form"' not in await page(client, f"/lessons/{record_id}")
    before = counts(members)
    response = await post(client, f"/lessons/{record_id}/revoke", {"reason": "error"})
    assert response.status == 403
    assert "cora may revoke only their own lessons" in await response.text()
    response = await post(client, f"/lessons/{record_id}/revoke", {"reason": "error"}, csrf=False)
    assert response.status == 403
    assert counts(members) == before


async def test_unknown_withdrawals(client: Client) -> None:
    text = await page(client, "/revocations/" + "ab" * 32, status=404)
    assert "no revoked record" in text
