"""The lesson record: its rules, its one canonical wire form, and opening signed bytes."""

from __future__ import annotations

import dataclasses
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.attachment import Attachment
from archive.errors import InvalidLesson
from archive.record import (
    CONSENT_ORDER,
    FIELD_ORDER,
    LABEL_ORDER,
    MAX_BODY_BYTES,
    MAX_LABELS,
    MAX_TAGS,
    MAX_TITLE,
    SUBJECT_ORDER,
    Consent,
    Label,
    Lesson,
    Subject,
    encode_lesson,
    lesson_to_wire,
    validate_lesson,
)
from archive.signed_record import open_record, sign_lesson
from crypto.canonical import pack, unpack
from crypto.envelope import seal
from crypto.signing import RECORD_CONTEXT, SigningIdentity, content_id
from tests.conftest import SEED_A, SEED_B, START

IDENTITY_A = SigningIdentity.from_seed(SEED_A)
IDENTITY_B = SigningIdentity.from_seed(SEED_B)

FULL_CONSENT = Consent(
    basis="consent",
    scope="peers",
    peers=("FGWLVYK",),
    regions_allow=("East Africa",),
    regions_deny=("Elsewhere",),
    reshare=True,
    expires=START + 86_400,
    purposes=("training",),
    subjects=(Subject("participant-1", share=True, recorded=True, expires=START + 3600),),
)


def make_lesson(**changes: Any) -> Lesson:
    lesson = Lesson(
        kind="checklist",
        title="Safety debrief checklist",
        body="# First hour\n\n- [ ] Headcount against the buddy list.\n",
        language="en",
        region="East Africa",
        created=START,
        origin=IDENTITY_A.public_key,
        author="admin",
        summary="What to check in the hour after an action.",
        tags=("safety", "debrief"),
        consent=FULL_CONSENT,
        labels=(Label("provenance", "Community voice", "Shared by the hub"),),
    )
    return dataclasses.replace(lesson, **changes)


# Pinned once: the record id of make_lesson() signed with SEED_A.
RECORD_ID = "c03a91a52b90da0e51d455d4b55799ad3eed7a6ccdf65523887c203b9f197093"


def test_known_answer_record_id() -> None:
    assert sign_lesson(IDENTITY_A, make_lesson()).id_hex == RECORD_ID


def test_wire_field_order_is_field_order() -> None:
    wire = lesson_to_wire(make_lesson())
    assert tuple(wire) == FIELD_ORDER
    assert tuple(wire["consent"]) == CONSENT_ORDER
    assert tuple(wire["consent"]["subjects"][0]) == SUBJECT_ORDER
    assert tuple(wire["labels"][0]) == LABEL_ORDER


def test_encoded_bytes_keep_the_field_order() -> None:
    assert tuple(unpack(encode_lesson(make_lesson()))) == FIELD_ORDER


def test_sign_then_open_round_trip() -> None:
    signed = sign_lesson(IDENTITY_A, make_lesson())
    opened = open_record(signed.envelope)
    assert opened.lesson == make_lesson()
    assert opened.record_id == signed.record_id
    assert opened.envelope == signed.envelope


def test_record_id_is_the_content_id_of_the_canonical_bytes() -> None:
    signed = sign_lesson(IDENTITY_A, make_lesson())
    assert signed.record_id == content_id(RECORD_CONTEXT, encode_lesson(make_lesson()))
    assert signed.id_hex == signed.record_id.hex()


def test_any_change_gives_another_id() -> None:
    first = sign_lesson(IDENTITY_A, make_lesson())
    second = sign_lesson(IDENTITY_A, make_lesson(title="Safety debrief checklist."))
    assert first.record_id != second.record_id


INVALID = {
    "unknown-kind": ({"kind": "recipe"}, "kind"),
    "empty-title": ({"title": ""}, "title"),
    "blank-title": ({"title": "   \n"}, "title"),
    "long-title": ({"title": "x" * (MAX_TITLE + 1)}, "title"),
    "long-summary": ({"summary": "s" * 2001}, "summary"),
    "body-over-limit-in-bytes": ({"body": "é" * (MAX_BODY_BYTES // 2 + 1)}, "body"),
    "language-word": ({"language": "english"}, "language"),
    "language-one-letter": ({"language": "e"}, "language"),
    "language-underscore": ({"language": "en_US"}, "language"),
    "language-empty": ({"language": ""}, "language"),
    "empty-region": ({"region": ""}, "region"),
    "empty-author": ({"author": " "}, "author"),
    "empty-tag": ({"tags": ("safety", " ")}, "tags"),
    "too-many-tags": ({"tags": tuple(f"t{i}" for i in range(MAX_TAGS + 1))}, "tags"),
    "long-tag": ({"tags": ("t" * 65,)}, "tags"),
    "sensitivity": ({"sensitivity": "secret"}, "sensitivity"),
    "consent-basis": (
        {"consent": dataclasses.replace(FULL_CONSENT, basis="maybe")},
        "consent.basis",
    ),
    "consent-scope": (
        {"consent": dataclasses.replace(FULL_CONSENT, scope="everyone")},
        "consent.scope",
    ),
    "consent-empty-peer": (
        {"consent": dataclasses.replace(FULL_CONSENT, peers=("",))},
        "consent.peers",
    ),
    "consent-empty-purpose": (
        {"consent": dataclasses.replace(FULL_CONSENT, purposes=("",))},
        "consent.purposes",
    ),
    "consent-subject-without-pseudonym": (
        {"consent": dataclasses.replace(FULL_CONSENT, subjects=(Subject(""),))},
        "consent.subjects.pseudonym",
    ),
    "label-type": ({"labels": (Label("brand", "X", ""),)}, "labels.type"),
    "label-without-name": ({"labels": (Label("protocol", "", ""),)}, "labels.name"),
    "too-many-labels": (
        {"labels": (Label("protocol", "X", ""),) * (MAX_LABELS + 1)},
        "labels",
    ),
    "short-supersedes": ({"supersedes": bytes(31)}, "supersedes"),
    "short-translation-of": ({"translation_of": bytes(33)}, "translation_of"),
    "short-attachment": (
        {"attachments": (Attachment(bytes(16), "image/png", 10),)}, "attachments.hash"
    ),
    "unknown-media-type": (
        {"attachments": (Attachment(bytes(32), "text/html", 10),)}, "attachments.type"
    ),
    "attachment-subject-without-consent": (
        {"attachments": (Attachment(bytes(32), "image/png", 10, subjects=("Heron",)),)},
        "attachments.subjects",
    ),
    "short-origin": ({"origin": bytes(31)}, "origin"),
    "negative-created": ({"created": -1}, "created"),
}


@pytest.mark.parametrize(("changes", "field"), INVALID.values(), ids=INVALID.keys())
def test_each_rule_is_enforced_naming_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidLesson) as error:
        validate_lesson(make_lesson(**changes), "lessons/bad.md")
    assert error.value.field == field
    assert str(error.value).startswith(f"lessons/bad.md: field '{field}': ")


@pytest.mark.parametrize(("changes", "field"), INVALID.values(), ids=INVALID.keys())
def test_an_invalid_lesson_is_never_signed(changes: dict[str, Any], field: str) -> None:
    lesson = make_lesson(**changes)
    identity = IDENTITY_A if field != "origin" else IDENTITY_B
    with pytest.raises(InvalidLesson):
        sign_lesson(identity, lesson)


@pytest.mark.parametrize("tag", ["en\n", "pt-BR\n", "en\n\n"])
def test_a_language_tag_with_a_trailing_newline_is_refused(tag: str) -> None:
    # The BCP 47 pattern ends in "$", which also matches just before a final newline.
    with pytest.raises(InvalidLesson) as error:
        validate_lesson(make_lesson(language=tag), "lessons/bad.md")
    assert error.value.field == "language"


@pytest.mark.parametrize(
    "changes",
    [
        {"title": "x" * MAX_TITLE},
        {"body": "b" * MAX_BODY_BYTES},
        {"language": "pt-BR"},
        {"language": "zh-Hant-TW"},
        {"language": "es-419"},
        {"labels": ()},
        {"consent": Consent()},
        {"summary": ""},
    ],
    ids=["title-at-limit", "body-at-limit", "pt-BR", "zh-Hant-TW", "es-419", "no-labels",
         "default-consent", "no-summary"],
)  # fmt: skip
def test_lessons_at_the_limits_are_valid(changes: dict[str, Any]) -> None:
    lesson = make_lesson(**changes)
    validate_lesson(lesson, "ok.md")
    assert open_record(sign_lesson(IDENTITY_A, lesson).envelope).lesson == lesson


def test_a_node_signs_only_its_own_lessons() -> None:
    with pytest.raises(InvalidLesson) as error:
        sign_lesson(IDENTITY_B, make_lesson())
    assert error.value.field == "origin"


def test_a_record_signed_by_another_key_than_its_origin_is_refused() -> None:
    forged = seal(IDENTITY_B, RECORD_CONTEXT, encode_lesson(make_lesson()))
    with pytest.raises(InvalidLesson) as error:
        open_record(forged.raw, "from peer")
    assert error.value.field == "origin"
    assert "from peer" in str(error.value)


def _sealed_wire(wire: dict[str, Any]) -> bytes:
    """Hand-built payload (plain msgpack, no checks), properly signed by A."""
    payload = msgpack.packb(wire, use_bin_type=True)
    return seal(IDENTITY_A, RECORD_CONTEXT, payload).raw


def _swap(mapping: dict[str, Any], first: str, second: str) -> dict[str, Any]:
    keys = list(mapping)
    i, j = keys.index(first), keys.index(second)
    keys[i], keys[j] = keys[j], keys[i]
    return {key: mapping[key] for key in keys}


def test_the_wire_form_opens_when_hand_built_in_order() -> None:
    assert open_record(_sealed_wire(lesson_to_wire(make_lesson()))).lesson == make_lesson()


def _wire_with_consent(consent: dict[str, Any]) -> dict[str, Any]:
    wire = lesson_to_wire(make_lesson())
    wire["consent"] = consent
    return wire


WIRE = lesson_to_wire(make_lesson())
BAD_WIRES = {
    "fields-reordered": (_swap(WIRE, "kind", "title"), "record"),
    "last-fields-reordered": (_swap(WIRE, "origin", "author"), "record"),
    "field-missing": ({k: v for k, v in WIRE.items() if k != "summary"}, "record"),
    "field-extra": ({**WIRE, "colour": "red"}, "record"),
    "consent-reordered": (_wire_with_consent(_swap(WIRE["consent"], "basis", "scope")), "consent"),
    "format-version-3": ({**WIRE, "v": 3}, "v"),
    # Format 2 is format 1 plus ``details`` (archive.details): without them, a broken map.
    "format-2-without-details": ({**WIRE, "v": 2}, "record"),
    "title-as-bytes": ({**WIRE, "title": b"Safety"}, "title"),
    "tags-as-text": ({**WIRE, "tags": "safety"}, "tags"),
    "created-as-bool": ({**WIRE, "created": True}, "created"),
    "origin-as-text": ({**WIRE, "origin": IDENTITY_A.node_id}, "origin"),
    "reshare-as-int": ({**WIRE, "consent": {**WIRE["consent"], "reshare": 1}}, "consent.reshare"),
}


@pytest.mark.parametrize(("wire", "field"), BAD_WIRES.values(), ids=BAD_WIRES.keys())
def test_hand_built_payloads_off_the_wire_form_are_refused(
    wire: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidLesson) as error:
        open_record(_sealed_wire(wire))
    assert error.value.field == field


def test_a_non_canonical_payload_is_refused() -> None:
    # Valid msgpack, fields in order, but "v" as a uint8 instead of a fixint.
    payload = bytearray(encode_lesson(make_lesson()))
    assert payload[:4] == b"\xde\x00\x11\xa1"  # map16 of 17 fields, then "v"
    index = payload.index(b"\xa1v\x01") + 2
    payload[index : index + 1] = b"\xcc\x01"
    forged = seal(IDENTITY_A, RECORD_CONTEXT, bytes(payload))
    with pytest.raises(InvalidLesson, match="canonical"):
        open_record(forged.raw)


def test_a_changed_byte_in_the_envelope_is_refused_naming_the_place() -> None:
    raw = bytearray(sign_lesson(IDENTITY_A, make_lesson()).envelope)
    raw[raw.index(b"Safety")] ^= 0x20
    with pytest.raises(InvalidLesson) as error:
        open_record(bytes(raw), "record c03a91a5")
    assert str(error.value).startswith("record c03a91a5: ")


def test_every_lesson_that_can_be_signed_can_be_opened_again() -> None:
    # validate_lesson sets no cap on attachments, but opening uses RECORD_LIMITS
    # (max_array_len=1000): signing must refuse what opening will refuse.
    lesson = make_lesson(
        attachments=tuple(
            Attachment(i.to_bytes(32, "big"), "image/png", 10) for i in range(1001)
        )
    )
    try:
        signed = sign_lesson(IDENTITY_A, lesson)
    except InvalidLesson as error:
        assert error.field == "attachments"
    else:
        assert open_record(signed.envelope).lesson == lesson


# Hypothesis: lessons in many scripts and languages survive sign → open unchanged.

SCRIPT_SAMPLES = [
    "Safety debrief",
    "Interpretación susurrada",
    "Consentement éclairé",
    "Kikundi cha rika",
    "Compromissos pós-intercâmbio",
    "Ελληνικά",
    "Кириллица",
    "العربية",
    "עברית",
    "हिन्दी",
    "বাংলা",
    "中文内容",
    "日本語のテキスト",
    "한국어",
    "ไทย",
    "ትግርኛ",
    "ᐃᓄᒃᑎᑐᑦ",
    "🙂 emoji",
]
LANGUAGES = ["en", "es", "fr", "pt-BR", "sw", "ar", "he", "hi", "zh-Hans", "ja", "ko", "th",
             "ti", "iu", "es-419", "sr-Latn-RS"]  # fmt: skip

words = st.sampled_from(SCRIPT_SAMPLES) | st.text(min_size=1, max_size=30)
titles = (
    st.lists(words, min_size=1, max_size=5)
    .map(" ".join)
    .map(lambda text: text[:MAX_TITLE])
    .filter(lambda text: text.strip() != "")
)
tags = st.text(min_size=1, max_size=64).filter(lambda text: text.strip() != "")
lessons = st.builds(
    make_lesson,
    title=titles,
    summary=st.lists(words, max_size=10).map(" ".join).map(lambda text: text[:2000]),
    body=st.lists(words, max_size=40).map("\n".join),
    language=st.sampled_from(LANGUAGES),
    region=st.sampled_from(["East Africa", "América Central", "Afrique de l'Ouest", "东亚"]),
    tags=st.lists(tags, max_size=MAX_TAGS).map(tuple),
    sensitivity=st.sampled_from(["low", "medium", "high"]),
    created=st.integers(min_value=0, max_value=2**40),
)


@settings(max_examples=60)
@given(lessons)
def test_any_valid_lesson_round_trips(lesson: Lesson) -> None:
    signed = sign_lesson(IDENTITY_A, lesson)
    opened = open_record(signed.envelope)
    assert opened.lesson == lesson
    assert opened.record_id == signed.record_id
    assert pack(lesson_to_wire(opened.lesson)) == encode_lesson(lesson)


def test_attachments_survive_sign_and_open() -> None:
    consent = dataclasses.replace(
        make_lesson().consent, subjects=(Subject("Heron", share=True, photographed=True),)
    )
    photo = Attachment(bytes(range(32)), "image/jpeg", 2048, "Drill", ("Heron",), ("GPS",))
    lesson = make_lesson(consent=consent, attachments=(photo,))
    assert open_record(sign_lesson(IDENTITY_A, lesson).envelope).lesson == lesson
