"""``POST /api/v1/lessons/{id}/consent/withdraw``: one participant withdraws consent to a
lesson's photos and recordings through the API, the same action as ``rhizome consent
withdraw``; every refusal changes nothing and the node keeps serving."""

from __future__ import annotations

from archive.blobs import BlobStore
from archive.queries import load_record
from node.node import Node
from tests.web.conftest import Client, assert_error, assert_healthy, basic, counts, json_of
from tests.web.pages.test_attachments_page import lesson_with_files


def withdraw(record_id: str) -> str:
    return f"/api/v1/lessons/{record_id}/consent/withdraw"


async def test_a_steward_withdraws_herons_consent_to_the_files(
    client: Client, members: Node
) -> None:
    record_id, (kite, debrief, heron) = lesson_with_files(members)
    response = await client.post(withdraw(record_id), json={"subject": "Heron"},
                                 headers=basic("sefu"))  # fmt: skip
    answer = await json_of(response)
    assert answer["subject"] == "Heron" and answer["revocation"]
    assert sorted(answer["files"]) == sorted([debrief, heron])
    newest = load_record(members.db, answer["id"]).lesson
    assert [a.hash_hex for a in newest.attachments] == [kite]  # the text and Kite's photo stay
    assert newest.supersedes is not None and newest.supersedes.hex() == record_id
    heron_now = next(s for s in newest.consent.subjects if s.pseudonym == "Heron")
    assert not heron_now.photographed and not heron_now.recorded
    store = BlobStore.of(members.db)
    assert store.has(kite) and not store.has(heron) and not store.has(debrief)


async def test_refusals_change_nothing(client: Client, members: Node) -> None:
    record_id, files = lesson_with_files(members)
    store = BlobStore.of(members.db)
    before = counts(members)
    unknown = await client.post(withdraw(record_id), json={"subject": "Nobody"},
                                headers=basic("sefu"))  # fmt: skip
    message = await assert_error(unknown, 400, "invalid_lesson")
    assert "'Nobody' is not a participant of this lesson" in message and "Heron" in message
    missing = await client.post(withdraw("ffffffff"), json={"subject": "Heron"},
                                headers=basic("sefu"))  # fmt: skip
    await assert_error(missing, 404, "not_found")
    # amina is an author, but not this lesson's: she may not withdraw anything of it.
    not_hers = await client.post(withdraw(record_id), json={"subject": "Heron"},
                                 headers=basic("amina"))  # fmt: skip
    await assert_error(not_hers, 403, "forbidden")
    no_subject = await client.post(withdraw(record_id), json={}, headers=basic("sefu"))
    assert "subject" in await assert_error(no_subject, 400, "bad_request")
    assert counts(members) == before
    assert all(store.has(digest) for digest in files)
    await assert_healthy(client)
