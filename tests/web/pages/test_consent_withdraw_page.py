"""A participant withdraws consent to a lesson's photos and recordings from the lesson page
(the same action as ``rhizome consent withdraw``), confirmed by typing their pseudonym."""

from __future__ import annotations

from archive.blobs import BlobStore
from archive.queries import load_record
from node.node import Node
from tests.web.conftest import (
    Client,
    assert_healthy,
    counts,
    page,
    post,
    redirected_to,
    signed_in,
)
from tests.web.pages.test_attachments_page import lesson_with_files


async def test_a_steward_withdraws_herons_consent_from_the_page(
    client: Client, members: Node
) -> None:
    record_id, (kite, debrief, heron) = lesson_with_files(members)
    await signed_in(client, "sam")
    shown = await page(client, f"/lessons/{record_id}")
    assert 'id="consent-withdraw-form"' in shown and "This cannot be undone." in shown
    response = await post(
        client, f"/lessons/{record_id}/consent/withdraw",
        {"subject": "Heron", "confirmation": "Heron"}, from_page=f"/lessons/{record_id}",
    )  # fmt: skip
    location = redirected_to(response)
    new_version = location.removeprefix("/lessons/")
    assert new_version != record_id
    newest = load_record(members.db, new_version).lesson
    assert [a.hash_hex for a in newest.attachments] == [kite]
    store = BlobStore.of(members.db)
    assert store.has(kite) and not store.has(heron) and not store.has(debrief)
    after = await page(client, location)
    assert "New version without Heron&#39;s 2 attachments; purged here" in after


async def test_a_wrong_confirmation_or_participant_changes_nothing(
    client: Client, members: Node
) -> None:
    record_id, files = lesson_with_files(members)
    await signed_in(client, "sam")
    before = counts(members)
    path = f"/lessons/{record_id}/consent/withdraw"
    mistyped = await post(client, path, {"subject": "Heron", "confirmation": "heron "},
                          from_page=f"/lessons/{record_id}")  # fmt: skip
    assert mistyped.status == 400
    text = await mistyped.text()
    assert "Type the participant&#39;s pseudonym exactly, to confirm." in text
    assert 'id="consent-withdraw" open' in text
    nobody = await post(client, path, {"subject": "Nobody", "confirmation": "Nobody"},
                        from_page=f"/lessons/{record_id}")  # fmt: skip
    assert nobody.status == 400
    assert "Choose the participant who withdraws their consent." in await nobody.text()
    unknown = await post(client, "/lessons/ffffffff/consent/withdraw",
                         {"subject": "Heron", "confirmation": "Heron"})  # fmt: skip
    assert unknown.status == 404
    assert counts(members) == before
    assert all(BlobStore.of(members.db).has(digest) for digest in files)
    await assert_healthy(client)


async def test_an_author_of_another_lesson_sees_no_form_and_is_refused(
    client: Client, members: Node
) -> None:
    record_id, files = lesson_with_files(members)  # written by admin
    await signed_in(client, "ana")
    shown = await page(client, f"/lessons/{record_id}")
    assert "consent-withdraw-form" not in shown
    before = counts(members)
    refused = await post(client, f"/lessons/{record_id}/consent/withdraw",
                         {"subject": "Heron", "confirmation": "Heron"},
                         from_page=f"/lessons/{record_id}")  # fmt: skip
    assert refused.status == 403
    assert counts(members) == before
    assert all(BlobStore.of(members.db).has(digest) for digest in files)
