"""Lesson files: Markdown with YAML front matter; every problem names the file and field."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from archive.errors import InvalidLesson, UnknownRecord
from archive.lesson_file import MAX_FILE_BYTES, parse_lesson_file
from archive.record import Consent, Lesson, validate_lesson
from crypto.signing import SigningIdentity
from node.node import Node
from tests.conftest import SEED_A, START, write_lesson

ORIGIN = SigningIdentity.from_seed(SEED_A).public_key
WHERE = "lessons/bad.md"


def _unknown_id(text: str) -> bytes:
    raise UnknownRecord(f"no record {text} in this archive")


def bind(data: bytes, where: str = WHERE, language: str = "en", region: str = "East Africa"):
    """Parse a file's bytes and turn the draft into a validated lesson, as ``add`` does."""
    draft = parse_lesson_file(data, where)
    return draft.to_lesson(
        where=where,
        origin=ORIGIN,
        author="admin",
        created=START,
        default_language=language,
        default_region=region,
        resolve_id=_unknown_id,
    )


def lesson_file(front: str, body: str = "Body text.\n") -> bytes:
    return ("---\n" + front.strip("\n") + "\n---\n" + body).encode("utf-8")


MINIMAL = "title: Headcount first\nkind: checklist"


def test_every_shipped_sample_parses_and_validates(samples: Path) -> None:
    files = sorted(samples.glob("*.md"))
    languages = set()
    for path in files:
        lesson = bind(path.read_bytes(), str(path))
        validate_lesson(lesson, str(path))
        assert lesson.title and lesson.body.strip(), path
        languages.add(lesson.language.split("-")[0])
    assert len(files) >= 3
    assert {"en", "es", "fr"} <= languages


def test_a_minimal_file() -> None:
    lesson = bind(lesson_file(MINIMAL, "# Heading\n\nText.\n"))
    assert (lesson.title, lesson.kind) == ("Headcount first", "checklist")
    assert lesson.body == "# Heading\n\nText.\n"
    assert lesson.summary == ""
    assert lesson.sensitivity == "low"
    assert lesson.consent == Consent()  # no consent recorded: basis none, scope local
    assert lesson.consent.scope == "local"


def test_every_field_is_read() -> None:
    lesson = bind(
        lesson_file(
            """
title: "  Interpretación susurrada  "
kind: case_study
summary: Un resumen.
language: es
region: Central America
tags: [Interpretation, " glossary "]
sensitivity: medium
consent:
  scope: peers
  peers: [FGWLVYK]
  regions: {allow: [Central America], deny: [Elsewhere]}
  reshare: true
  expires: 2027-03-01
  purposes: [training]
  subjects:
    - pseudonym: participant-1
      share: true
      recorded: true
labels:
  - type: protocol
    name: Seasonal
    community: Revisado cada temporada.
"""
        )
    )
    assert lesson.title == "Interpretación susurrada"
    assert lesson.tags == ("interpretation", "glossary")
    assert lesson.consent.basis == "consent"
    assert lesson.consent.peers == ("FGWLVYK",)
    assert lesson.consent.regions_allow == ("Central America",)
    assert lesson.consent.regions_deny == ("Elsewhere",)
    assert lesson.consent.reshare is True
    assert lesson.consent.subjects[0].pseudonym == "participant-1"
    assert lesson.consent.subjects[0].recorded is True
    assert lesson.labels[0].name == "Seasonal"


def test_byte_order_mark_and_crlf_line_endings_are_accepted() -> None:
    data = "\ufeff---\r\ntitle: Windows file\r\nkind: story\r\n---\r\nBody.\r\n".encode()
    lesson = bind(data)
    assert (lesson.title, lesson.kind) == ("Windows file", "story")


# (file bytes, the field named or None for a whole-file problem, words in the message)
BAD_FILES = {
    "no-front-matter": (b"# Just Markdown\n\nNo front matter.\n", None, "no front matter"),
    "empty-file": (b"", None, "no front matter"),
    "front-matter-not-first": (b"\n---\n" + MINIMAL.encode() + b"\n---\n", None, "front matter"),
    "unclosed-front-matter": (b"---\n" + MINIMAL.encode() + b"\nBody\n", None, "not closed"),
    "broken-yaml": (b"---\ntitle: ok\nkind: a: b\n---\n", None, "broken YAML"),
    "front-matter-a-list": (b"---\n- title\n- kind\n---\n", None, "mapping"),
    "front-matter-text": (b"---\njust some words\n---\n", None, "mapping"),
    "front-matter-empty": (b"---\n---\nBody\n", None, "mapping"),
    "oversized": (lesson_file(MINIMAL, "x" * MAX_FILE_BYTES), None, "larger than the limit"),
    "not-utf8": (b"---\ntitle: Caf\xe9\nkind: story\n---\n", None, "UTF-8"),
    "not-utf8-in-body": (lesson_file(MINIMAL) + b"\xff\xfe", None, "UTF-8"),
    "missing-title": (lesson_file("kind: checklist"), "title", "required"),
    "null-title": (lesson_file("title:\nkind: checklist"), "title", "required"),
    "missing-kind": (lesson_file("title: A title"), "kind", "required"),
    "unknown-field": (lesson_file(MINIMAL + "\ncolour: red"), "colour", "unknown field"),
    "unknown-consent-field": (
        lesson_file(MINIMAL + "\nconsent:\n  colour: red"),
        "consent.colour",
        "unknown field",
    ),
    "tags-a-string": (lesson_file(MINIMAL + '\ntags: "x"'), "tags", "list"),
    "reshare-a-string": (
        lesson_file(MINIMAL + '\nconsent:\n  reshare: "yes"'),
        "consent.reshare",
        "true or false",
    ),
    "consent-a-string": (lesson_file(MINIMAL + "\nconsent: public"), "consent", "mapping"),
    "regions-a-list": (
        lesson_file(MINIMAL + "\nconsent:\n  regions: [East Africa]"),
        "consent.regions",
        "allow",
    ),
    "labels-a-string": (lesson_file(MINIMAL + "\nlabels: protocol"), "labels", "list"),
    "label-not-a-mapping": (lesson_file(MINIMAL + "\nlabels: [protocol]"), "labels", "mapping"),
    "subject-not-a-mapping": (
        lesson_file(MINIMAL + "\nconsent:\n  subjects: [someone]"),
        "consent.subjects",
        "mapping",
    ),
    "subject-without-pseudonym": (
        lesson_file(MINIMAL + "\nconsent:\n  subjects:\n    - share: true"),
        "consent.subjects.pseudonym",
        "required",
    ),
    "bad-date-text": (
        lesson_file(MINIMAL + "\nconsent:\n  expires: next tuesday"),
        "consent.expires",
        "ISO 8601",
    ),
    "bad-date-quoted": (
        lesson_file(MINIMAL + "\nconsent:\n  expires: '2026-13-45'"),
        "consent.expires",
        "ISO 8601",
    ),
    "bad-date-a-number": (
        lesson_file(MINIMAL + "\nconsent:\n  expires: 20270101"),
        "consent.expires",
        "ISO 8601",
    ),
    "unknown-kind": (lesson_file("title: A title\nkind: recipe"), "kind", "not one of"),
    "bad-language": (lesson_file(MINIMAL + "\nlanguage: English"), "language", "BCP 47"),
    "unknown-sensitivity": (lesson_file(MINIMAL + "\nsensitivity: secret"), "sensitivity", ""),
    "unknown-scope": (
        lesson_file(MINIMAL + "\nconsent:\n  scope: everyone"),
        "consent.scope",
        "not one of",
    ),
    "body-over-limit": (
        lesson_file(MINIMAL, "é" * (160 * 1024)),
        "body",
        "limit",
    ),
    "supersedes-unknown": (lesson_file(MINIMAL + "\nsupersedes: abcd1234"), "supersedes", "abcd"),
}


@pytest.mark.parametrize(("data", "field", "words"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_input_is_one_clear_error_naming_file_and_field(
    data: bytes, field: str | None, words: str
) -> None:
    with pytest.raises(InvalidLesson) as error:
        bind(data)
    message = str(error.value)
    assert message.startswith(WHERE + ": ")
    assert error.value.field == field
    if field:
        assert f"field '{field}'" in message
    assert words in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "front",
    [
        "consent:\n  expires: 2026-13-45",
        "consent:\n  expires: 2026-01-01T25:00:00Z",
        "consent:\n  subjects:\n    - pseudonym: p\n      expires: 2026-02-30",
    ],
    ids=["month-13", "hour-25", "february-30"],
)
def test_an_impossible_unquoted_date_names_the_file_and_where(front: str) -> None:
    # YAML turns unquoted dates into date objects while loading, so this fails inside the
    # YAML loader; the error must still be an InvalidLesson that says where to look.
    with pytest.raises(InvalidLesson) as error:
        bind(lesson_file(MINIMAL + "\n" + front))
    message = str(error.value)
    assert message.startswith(WHERE + ": ")
    assert "expires" in message or re.search(r"line \d+", message), message


def test_plain_values_of_text_fields_are_read_as_written() -> None:
    # YAML would read these as numbers or a boolean; the fields hold text, so a title
    # "1984", a language "no" (Norwegian) or an id made only of digits keep their spelling.
    draft = parse_lesson_file(
        lesson_file(
            "title: 1984\nkind: story\nlanguage: no\ntags: [2026, 07]\n"
            "supersedes: 305218410667\ntranslation_of: 0123"
        ),
        WHERE,
    )
    assert (draft.title, draft.language, draft.tags) == ("1984", "no", ("2026", "07"))
    assert (draft.supersedes, draft.translation_of) == ("305218410667", "0123")


def test_broken_yaml_names_the_line_of_the_file() -> None:
    data = b"---\ntitle: ok\nkind: a: b\nsummary: fine\n---\n"
    with pytest.raises(InvalidLesson, match="line 3"):
        parse_lesson_file(data, WHERE)


def test_unknown_kind_is_found_when_the_draft_becomes_a_lesson() -> None:
    draft = parse_lesson_file(lesson_file("title: A title\nkind: recipe"), WHERE)
    assert draft.kind == "recipe"
    with pytest.raises(InvalidLesson) as error:
        bind(lesson_file("title: A title\nkind: recipe"))
    assert error.value.field == "kind"


@pytest.mark.parametrize(
    "field_line",
    ["summary:", "summary: null", "summary: ~"],
    ids=["empty", "null", "tilde"],
)
def test_an_empty_summary_means_no_summary(field_line: str) -> None:
    assert bind(lesson_file(MINIMAL + "\n" + field_line)).summary == ""


def test_an_empty_label_community_means_no_community_text() -> None:
    front = MINIMAL + "\nlabels:\n  - type: protocol\n    name: Seasonal\n    community:"
    assert bind(lesson_file(front)).labels[0].community == ""


def _utc(*parts: int, offset_hours: int = 0) -> int:
    zone = dt.timezone(dt.timedelta(hours=offset_hours))
    return int(dt.datetime(*parts, tzinfo=zone).timestamp())


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2027-03-01", _utc(2027, 3, 1)),
        ("'2027-03-01'", _utc(2027, 3, 1)),
        ("2027-03-01T12:30:00", _utc(2027, 3, 1, 12, 30)),
        ("'2027-03-01T12:30:00'", _utc(2027, 3, 1, 12, 30)),
        ("2027-03-01T12:30:00Z", _utc(2027, 3, 1, 12, 30)),
        ("'2027-03-01T12:30:00Z'", _utc(2027, 3, 1, 12, 30)),
        ("2027-03-01T12:30:00+02:00", _utc(2027, 3, 1, 12, 30, offset_hours=2)),
        ("'2027-03-01T12:30:00+02:00'", _utc(2027, 3, 1, 12, 30, offset_hours=2)),
        ("'2027-03-01T12:30:00-05:00'", _utc(2027, 3, 1, 12, 30, offset_hours=-5)),
        ("2027-03-01 12:30:00 -5", _utc(2027, 3, 1, 12, 30, offset_hours=-5)),
    ],
)
def test_dates_with_and_without_time_zone(written: str, expected: int) -> None:
    front = MINIMAL + f"\nconsent:\n  expires: {written}\n  subjects:\n"
    front += f"    - pseudonym: p1\n      expires: {written}"
    consent = bind(lesson_file(front)).consent
    assert consent.expires == expected
    assert consent.subjects[0].expires == expected


def test_no_time_zone_means_utc() -> None:
    with_zone = bind(lesson_file(MINIMAL + "\nconsent:\n  expires: '2027-03-01T00:00:00+00:00'"))
    without = bind(lesson_file(MINIMAL + "\nconsent:\n  expires: '2027-03-01T00:00:00'"))
    assert with_zone.consent.expires == without.consent.expires == 1803859200


def test_language_and_region_default_to_the_nodes() -> None:
    lesson = bind(lesson_file(MINIMAL), language="pt-BR", region="South America")
    assert (lesson.language, lesson.region) == ("pt-BR", "South America")


def test_language_and_region_in_the_file_win() -> None:
    front = MINIMAL + "\nlanguage: sw\nregion: East Africa"
    lesson = bind(lesson_file(front), language="pt-BR", region="South America")
    assert (lesson.language, lesson.region) == ("sw", "East Africa")


def test_the_node_fills_in_its_language_region_origin_author_and_time(
    node: Node, tmp_path: Path
) -> None:
    path = write_lesson(tmp_path, "plain.md")
    record = node.add_lesson_file(path)
    lesson: Lesson = record.lesson
    assert lesson.language == node.config.language == "en"
    assert lesson.region == node.config.region == "East Africa"
    assert lesson.origin == node.public_key
    assert lesson.author == "admin"
    assert lesson.created == START


def test_a_bad_file_added_to_a_node_names_the_path(node: Node, tmp_path: Path) -> None:
    path = write_lesson(tmp_path, "bad.md", {"title": "T", "kind": "checklist", "tags": "x"})
    with pytest.raises(InvalidLesson) as error:
        node.add_lesson_file(path)
    assert str(error.value).startswith(f"{path}: field 'tags'")
