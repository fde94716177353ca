"""Adding, editing and translating lessons through the form: the CLI's checks and messages,
shown next to the field, with what was typed kept and nothing stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from archive.queries import load_record, record_summary
from crypto.signing import SigningIdentity
from federation.peers import save_peer
from node.node import Node
from tests.conftest import START
from tests.web.conftest import (
    Client,
    counts,
    lesson,
    page,
    post,
    redirected_to,
    signed_in,
)

FORM = {
    "title": "Buddy pairs at the march",
    "kind": "checklist",
    "summary": "Pair up before you leave.",
    "body": "# Before\r\n\r\nWrite the pairs down.\r\n",
    "language": "",
    "region": "",
    "tags": "safety, march,",
    "sensitivity": "medium",
    "consent_basis": "consent",
    "consent_scope": "federation",
    "consent_regions_allow": "",
    "consent_regions_deny": "Andes",
    "consent_reshare": "on",
    "consent_expires": "2030-06-01",
    "consent_purposes": "training",
    "subject_0_pseudonym": "Heron",
    "subject_0_share": "on",
    "subject_0_recorded": "on",
    "label_0_type": "provenance",
    "label_0_name": "Shared by Heron",
    "label_0_community": "For facilitators.",
}


async def add(client: Client, **changes: Any) -> Any:
    data = {**FORM, **changes}
    return await post(client, "/lessons/new", [(k, v) for k, v in data.items() if v is not None])


async def test_the_form_labels_every_input(client: Client) -> None:
    await signed_in(client, "ana")
    text = await page(client, "/lessons/new")
    for name in ("title", "kind", "summary", "body", "language", "region", "tags", "sensitivity",
                 "consent_basis", "consent_scope", "consent_regions_allow", "consent_expires",
                 "subject_0_pseudonym", "subject_0_share", "label_0_type"):  # fmt: skip
        assert f'<label for="{name}">' in text, name
        assert f'id="{name}"' in text, name
    assert 'name="csrf_token"' in text


async def test_an_author_adds_a_lesson(client: Client, members: Node) -> None:
    await signed_in(client, "ana")
    response = await add(client)
    record_id = redirected_to(response).removeprefix("/lessons/")
    summary = record_summary(members.db, record_id)
    stored = load_record(members.db, record_id).lesson
    assert (summary.title, summary.kind, summary.author) == (FORM["title"], "checklist", "ana")
    assert stored.body == "# Before\n\nWrite the pairs down.\n"  # as from a file
    assert stored.language == "en" and stored.region == "East Africa"  # the hub's defaults
    assert stored.tags == ("safety", "march")
    consent = stored.consent
    assert (consent.basis, consent.scope, consent.reshare) == ("consent", "federation", True)
    assert consent.regions_deny == ("Andes",) and consent.purposes == ("training",)
    assert consent.expires is not None
    assert [(s.pseudonym, s.share, s.recorded, s.photographed) for s in consent.subjects] == [
        ("Heron", True, True, False)
    ]
    assert [(label.type, label.name) for label in stored.labels] == [
        ("provenance", "Shared by Heron")
    ]
    shown = await page(client, f"/lessons/{record_id}")
    assert "Saved “Buddy pairs at the march”" in shown


async def test_a_missing_title_is_shown_next_to_it_and_nothing_is_stored(
    client: Client, members: Node
) -> None:
    await signed_in(client, "ana")
    before = counts(members)
    response = await add(client, title="   ")
    assert response.status == 400
    text = await response.text()
    assert 'id="title-error"' in text and "is required and must not be empty" in text
    assert 'aria-invalid="true" aria-describedby="title-error"' in text
    assert '<a href="#title">Title — is required' in text
    assert "Write the pairs down." in text  # what was typed is kept
    assert 'value="Heron"' in text and 'value="2030-06-01"' in text
    assert '<option value="medium" selected>' in text
    assert counts(members) == before


async def test_the_clis_messages_for_other_fields(client: Client, members: Node) -> None:
    await signed_in(client, "ana")
    before = counts(members)
    cases = {
        "consent_expires": ({"consent_expires": "next year"}, "is not an ISO 8601 date"),
        "language": ({"language": "english!"}, "is not a BCP 47 tag"),
        "consent_basis": ({"consent_basis": ""}, "was left empty: choose what the people"),
        "kind": ({"kind": ""}, "is not one of"),
        "subjects": ({"subject_0_pseudonym": ""}, "is required"),
        "consent_peers": ({"consent_scope": "peers", "consent_peers": "Nowhere Hub"}, "no peer"),
    }
    for name, (changes, message) in cases.items():
        response = await add(client, **changes)
        text = await response.text()
        assert response.status == 400, name
        assert f'id="{name}-error"' in text, name
        assert message in text, name
    assert counts(members) == before


async def test_peers_are_named_by_ticking_them(client: Client, members: Node) -> None:
    other = SigningIdentity.from_seed(bytes(range(64, 96))).node_id
    save_peer(members.db, other, "Manila Hub", "Southeast Asia", "http://127.0.0.1:9", START)
    await signed_in(client, "ana")
    form = await page(client, "/lessons/new")
    assert 'value="Manila Hub"' in form and '<label for="peer-1">Manila Hub</label>' in form
    response = await add(client, consent_scope="peers", consent_peers="Manila Hub")
    record_id = redirected_to(response).removeprefix("/lessons/")
    assert load_record(members.db, record_id).lesson.consent.peers == (other,)
    shown = await page(client, f"/lessons/{record_id}")
    assert "Only these peers: Manila Hub." in shown


async def test_editing_saves_a_new_version(client: Client, members: Node, tmp_path: Path) -> None:
    first = lesson(
        members, tmp_path, title="Version one", tags=["a", "b"],
        consent={"scope": "federation", "subjects": [{"pseudonym": "Kite", "withdrawn": True}]},
    )  # fmt: skip
    await signed_in(client, "ana")
    shown = await page(client, f"/lessons/{first}")
    assert f'href="/lessons/{first}/edit"' in shown
    form = await page(client, f"/lessons/{first}/edit")
    assert '>Version one</textarea>' in form and 'value="a, b"' in form
    assert (
        'value="Kite"' in form
        and 'id="subject_0_withdrawn" name="subject_0_withdrawn" checked' in form
    )
    data = {
        **FORM, "title": "Version two", "tags": "a, b", "consent_scope": "federation",
        "subject_0_pseudonym": "Kite", "subject_0_withdrawn": "on",
    }  # fmt: skip
    data.pop("subject_0_share")
    data.pop("subject_0_recorded")
    response = await post(client, f"/lessons/{first}/edit", data)
    second = redirected_to(response).removeprefix("/lessons/")
    assert second != first
    assert record_summary(members.db, second).supersedes == first
    kept = load_record(members.db, second).lesson.consent.subjects
    assert [(s.pseudonym, s.withdrawn) for s in kept] == [("Kite", True)]
    history = await page(client, f"/lessons/{second}")
    assert f'href="/lessons/{first}"' in history and "Version two" in history
    # The same edit sent again (a double click, a reload) is already here: stored once.
    before = counts(members)
    again = await post(client, f"/lessons/{first}/edit", data)
    assert redirected_to(again) == f"/lessons/{second}"
    assert "is already here" in await page(client, f"/lessons/{second}")
    assert counts(members) == before
    # Another edit of the older version cannot be its second successor: the CLI's message.
    again = await post(client, f"/lessons/{first}/edit", {**data, "title": "Version three"})
    assert again.status == 400
    assert "already superseded" in await again.text()
    assert counts(members) == before


async def test_a_translation_is_linked_to_its_original(
    client: Client, members: Node, tmp_path: Path
) -> None:
    original = lesson(members, tmp_path, title="Water at the march")
    await signed_in(client, "ana")
    form = await page(client, f"/lessons/new?translation_of={original}")
    assert f'name="translation_of" value="{original}"' in form
    data = {**FORM, "title": "Agua en la marcha", "language": "es", "translation_of": original}
    response = await post(client, "/lessons/new", data)
    translated = redirected_to(response).removeprefix("/lessons/")
    assert record_summary(members.db, translated).translation_of == original
    shown = await page(client, f"/lessons/{original}")
    assert "Agua en la marcha" in shown


async def test_only_authors_and_admins_add_lessons(client: Client, members: Node) -> None:
    await signed_in(client, "cora")
    refused = await page(client, "/lessons/new", status=403)
    assert "cora may not add lessons" in refused
    before = counts(members)
    response = await add(client)
    assert response.status == 403
    assert counts(members) == before


async def test_adding_needs_the_forms_token(client: Client, members: Node) -> None:
    await signed_in(client, "ana")
    before = counts(members)
    response = await post(client, "/lessons/new", FORM, csrf=False)
    assert response.status == 403
    assert counts(members) == before
