"""Offline copies of a collection: public lessons only, self-contained, readable in Arabic.

The rule as a property: whatever consent the lessons of a collection carry, an export
succeeds exactly when every lesson is public and unconditional, and then holds every one of
them; otherwise it is refused naming each lesson that may not go, and nothing is written.
"""

from __future__ import annotations

import dataclasses
import io
import re
import uuid
from pathlib import Path

import pypdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.attachment import Attachment
from archive.attachment_intake import AttachmentInput
from archive.blobs import BlobStore
from archive.lesson_file import draft_from_fields
from archive.queries import load_record
from archive.record import SCOPES, Consent, Lesson, Subject
from node.actions.collections import CreateCollection, create_collection
from node.actions.exports import (
    ExportCollection,
    ExportRefused,
    export_collection,
    exportable_lessons,
)
from node.export.html_folder import html_pages
from node.export.rule import export_refusal
from node.node import Node
from tests.attachment_files import jpeg_with_gps, tagged_mp3
from tests.conftest import START
from tests.federation.test_sharing import lesson_of

PUBLIC = Consent(basis="consent", scope="public")
consents = st.builds(
    Consent,
    basis=st.sampled_from(["consent", "notice", "none"]),
    scope=st.sampled_from(SCOPES),
    expires=st.one_of(st.none(), st.just(START + 86_400)),
    subjects=st.lists(
        st.builds(
            Subject, pseudonym=st.just("Heron"), share=st.booleans(), withdrawn=st.booleans()
        ),
        max_size=2,
    ).map(tuple),
)


def lesson(title: str, consent: Consent, **changes: object) -> Lesson:
    made = Lesson(
        kind="checklist", title=title, body=f"Body of {title}.\n", language="en",
        region="East Africa", created=START, origin=bytes(32), author="admin", consent=consent,
    )  # fmt: skip
    return dataclasses.replace(made, **changes)


def unconditional_public(consent: Consent) -> bool:
    return (
        consent.scope == "public" and consent.basis == "consent" and consent.expires is None
        and all(s.share and not s.withdrawn and s.expires is None for s in consent.subjects)
    )  # fmt: skip


@settings(max_examples=300)
@given(st.lists(consents, min_size=1, max_size=6))
def test_only_unconditionally_public_lessons_are_ever_exported(
    given_consents: list[Consent],
) -> None:
    lessons = [lesson(f"Lesson {i}", consent) for i, consent in enumerate(given_consents)]
    entries = list(enumerate(lessons, 1))
    if all(unconditional_public(c) for c in given_consents):
        assert exportable_lessons(entries) == lessons  # type: ignore[arg-type]
        return
    with pytest.raises(ExportRefused) as raised:
        exportable_lessons(entries)  # type: ignore[arg-type]
    for position, consent in enumerate(given_consents, 1):
        named = f"lesson {position} (" in str(raised.value)
        assert named == (not unconditional_public(consent))


def test_the_refusal_says_why_nobody_could_withdraw_it() -> None:
    reason = export_refusal(lesson("Local", Consent(basis="consent", scope="local")))
    assert reason == "consent scope local, not public: nobody could withdraw it from a printed copy"


def test_a_lesson_the_archive_lacks_is_refused_too() -> None:
    with pytest.raises(ExportRefused, match="lesson 2 is not in this archive"):
        exportable_lessons([(1, lesson("Public", PUBLIC)), (2, None)])


def add(node: Node, title: str, consent: Consent, **front: object) -> str:
    made = dataclasses.replace(lesson_of(node, title), consent=consent, **front)  # type: ignore[arg-type]
    return node.writer.add_lesson(made).id_hex


def collection_of(node: Node, ids: list[str]) -> str:
    asked = CreateCollection(node.member("admin"), "Legal observer track", "Nairobi 2027",
                             "Read in order.", tuple(ids))  # fmt: skip
    return create_collection(node, asked)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(scopes=st.lists(st.sampled_from(SCOPES), min_size=1, max_size=4), data=st.data())
def test_an_export_holds_all_lessons_or_nothing(
    node: Node, tmp_path: Path, scopes: list[str], data: st.DataObject
) -> None:
    run = data.draw(st.integers(0, 10**9), label="run")
    titles = [f"Lesson {run}-{i}" for i in range(len(scopes))]
    ids = [
        add(node, t, Consent(basis="consent", scope=s)) for t, s in zip(titles, scopes, strict=True)
    ]
    collection = collection_of(node, ids)
    folder = tmp_path / f"copy-{run}-{uuid.uuid4().hex[:8]}"  # runs may draw one number twice
    asked = ExportCollection(node.member("admin"), collection, "html", folder)
    if all(scope == "public" for scope in scopes):
        done = export_collection(node, asked)
        text = "".join(p.read_text(encoding="utf-8") for p in folder.iterdir())
        assert done.lessons == len(titles) and all(title in text for title in titles)
    else:
        with pytest.raises(ExportRefused, match="nobody could withdraw it"):
            export_collection(node, asked)
        assert not folder.exists()


def test_the_html_folder_is_self_contained(node: Node, tmp_path: Path) -> None:
    ids = [
        add(node, "Observing a march", PUBLIC, body="See [the guide](https://example.org) "
            "and ![a photo](https://tracker.example/pixel.png).\n"),
        add(node, "المُدَرِّبين تعلّمناه", PUBLIC, language="ar"),
    ]  # fmt: skip
    folder = tmp_path / "copy"
    export_collection(node, ExportCollection(node.member("admin"), collection_of(node, ids),
                                             "html", folder))  # fmt: skip
    files = {path.name: path.read_text(encoding="utf-8") for path in folder.iterdir()}
    assert set(files) == {"index.html", "01.html", "02.html", "style.css"}
    for name, text in files.items():
        assert "<script" not in text and " src=" not in text and "url(" not in text, name
        for target in re.findall(r'href="([^"]+)"', text):
            # Links are to the folder's own files, or a lesson's link to read (never loaded).
            assert target in files or target.startswith("https://"), (name, target)
    assert '<article lang="ar" dir="rtl">' in files["02.html"]
    assert "<img" not in files["01.html"]


def test_the_pdf_holds_each_lesson_with_arabic_text(node: Node, tmp_path: Path) -> None:
    ids = [add(node, "المُدَرِّبين تعلّمناه", PUBLIC, language="ar"), add(node, "Water", PUBLIC)]
    target = tmp_path / "copy.pdf"
    done = export_collection(node, ExportCollection(node.member("admin"), collection_of(node, ids),
                                                    "pdf", target))  # fmt: skip
    assert done.lessons == 2
    reader = pypdf.PdfReader(io.BytesIO(target.read_bytes()))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) == 3 and "Water" in text and "تعلّمناه" in text


def test_an_export_never_overwrites(node: Node, tmp_path: Path) -> None:
    collection = collection_of(node, [add(node, "Water", PUBLIC)])
    target = tmp_path / "exists.pdf"
    target.write_bytes(b"mine")
    with pytest.raises(ExportRefused, match="exists already"):
        export_collection(node, ExportCollection(node.member("admin"), collection, "pdf", target))
    assert target.read_bytes() == b"mine"


def test_html_pages_carry_the_lessons_language_and_direction() -> None:
    files = html_pages("T", "C", "Intro", [lesson("عنوان", PUBLIC, language="ar")])
    assert 'lang="ar" dir="rtl"' in files["index.html"]


def test_attachments_go_in_where_every_person_in_them_agreed(node: Node, tmp_path: Path) -> None:
    subjects = [
        {"pseudonym": "Heron", "share": True, "photographed": False, "recorded": True},
        {"pseudonym": "Kite", "share": True, "photographed": True},
    ]
    front = {"title": "River drill", "kind": "after_action_review",
             "consent": {"basis": "consent", "scope": "public", "subjects": subjects}}  # fmt: skip
    files = [
        AttachmentInput("kite.jpg", jpeg_with_gps((40, 30)), "Kite crossing", ("Kite",)),
        AttachmentInput("debrief.mp3", tagged_mp3(), "Debrief", ("Heron",)),
        AttachmentInput("heron.jpg", jpeg_with_gps((20, 10)), "Heron on the bank", ("Heron",)),
    ]
    draft = draft_from_fields(front, "What we learned.\n", "test")
    intake = node.take_lesson(draft, "test", "admin", attachments=files)
    assert intake.record_id is not None
    kite, debrief, heron = load_record(node.db, intake.record_id).lesson.attachments
    collection = collection_of(node, [intake.record_id])
    admin = node.member("admin")

    folder = tmp_path / "copy"
    done = export_collection(node, ExportCollection(admin, collection, "html", folder))
    copied = sorted(path.name for path in (folder / "files").iterdir())
    assert copied == sorted([f"{kite.hash_hex[:16]}.jpg", f"{debrief.hash_hex[:16]}.mp3"])
    assert (folder / "files" / f"{kite.hash_hex[:16]}.jpg").read_bytes() == node_blob(node, kite)
    page_text = (folder / "01.html").read_text(encoding="utf-8")
    assert f'<img src="files/{kite.hash_hex[:16]}.jpg" alt="Kite crossing">' in page_text
    assert "Heron on the bank" not in page_text
    assert done.attachments == 2
    assert [(gone.attachment, gone.reason) for gone in done.left_out] == [
        (heron, "the photo stays: Heron did not agree to be photographed")
    ]

    printed = export_collection(
        node, ExportCollection(admin, collection, "pdf", tmp_path / "c.pdf")
    )
    assert printed.attachments == 1
    assert {gone.attachment for gone in printed.left_out} == {heron, debrief}
    reader = pypdf.PdfReader(io.BytesIO((tmp_path / "c.pdf").read_bytes()))
    assert sum(len(page.images) for page in reader.pages) == 1


def node_blob(node: Node, attachment: Attachment) -> bytes:
    return BlobStore.of(node.db).read(attachment.hash_hex)
