"""Record details (format 2): follow-ups, collections and evaluations, signed with the record.

A record without details keeps format 1 (its bytes and id unchanged); a record with details
round-trips through sign and open; every rule on an evaluation's numbers refuses bad input
naming the field, whether typed in a file or carried by a forged record.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from archive.details import (
    Collection,
    Evaluation,
    FollowUps,
    IncidentCount,
    Milestone,
    SkillScores,
    collection_item,
    item_ref,
)
from archive.errors import InvalidLesson
from archive.lesson_file import parse_lesson_file
from archive.record import FIELD_ORDER, FIELD_ORDER_V2, Consent, Lesson, lesson_to_wire
from archive.signed_record import open_record, sign_lesson
from crypto.canonical import pack, unpack
from crypto.envelope import seal
from crypto.signing import RECORD_CONTEXT, SigningIdentity
from tests.conftest import SEED_A, START
from tests.exchange_samples import evaluation_file

IDENTITY = SigningIdentity.from_seed(SEED_A)
DAY = 24 * 3600
EVALUATION = Evaluation(
    exchange="Legal observer track, Nairobi 2027",
    held=START,
    participants=24,
    completed=21,
    skills=(SkillScores("de-escalation", (2, 8, 9, 4, 1), (0, 1, 6, 11, 6)),),
    incidents=(IncidentCount("harassment", 1),),
    action_plans=18,
)


def make(kind: str, details: Any, **changes: Any) -> Lesson:
    lesson = Lesson(
        kind=kind, title="A record", body="Text.\n", language="en", region="East Africa",
        created=START, origin=IDENTITY.public_key, author="admin",
        consent=Consent(basis="consent", scope="federation"), details=details,
    )  # fmt: skip
    return dataclasses.replace(lesson, **changes)


def test_a_record_without_details_keeps_format_1() -> None:
    wire = lesson_to_wire(make("checklist", None))
    assert wire["v"] == 1
    assert tuple(wire) == FIELD_ORDER


@pytest.mark.parametrize(
    ("kind", "details"),
    [
        ("action_brief", FollowUps(START + DAY, (Milestone("Train three", START + 2 * DAY),))),
        ("collection", Collection("Nairobi 2027", (collection_item(bytes(range(32)), "public"),))),
        ("evaluation", EVALUATION),
    ],
)
def test_details_round_trip_through_sign_and_open(kind: str, details: Any) -> None:
    signed = sign_lesson(IDENTITY, make(kind, details))
    assert tuple(unpack(pack(lesson_to_wire(signed.lesson)))) == FIELD_ORDER_V2
    opened = open_record(signed.envelope)
    assert opened.lesson.details == details
    assert opened.record_id == signed.record_id


def test_the_next_due_date_is_the_earliest_open_one() -> None:
    follow_ups = FollowUps(
        START + 9 * DAY,
        (Milestone("done", START + DAY, done=True), Milestone("open", START + 3 * DAY)),
    )
    assert follow_ups.next_due() == START + 3 * DAY
    assert FollowUps(None, (Milestone("done", START, done=True),)).next_due() is None


def test_a_collection_item_names_its_lesson_by_commitment_only() -> None:
    record_id = bytes(range(32))
    item = collection_item(record_id, "local")
    assert item.hint == record_id.hex()[:4]
    assert item.ref == item_ref(record_id) != record_id
    assert (
        record_id.hex()
        not in pack(lesson_to_wire(make("collection", Collection("c", (item,))))).hex()
    )


BAD_EVALUATIONS = {
    "no-participants": ({"participants": 0}, "evaluation.participants"),
    "negative-participants": ({"participants": -3}, "evaluation.participants"),
    "too-many-participants": ({"participants": 100_001}, "evaluation.participants"),
    "completed-over-participants": ({"completed": 25}, "evaluation.completed"),
    "plans-over-participants": ({"action_plans": 30}, "evaluation.action_plans"),
    "empty-exchange": ({"exchange": " "}, "evaluation.exchange"),
    "scale-of-four": (
        {"skills": (SkillScores("x", (1, 2, 3, 4), (1, 2, 3, 4, 5)),)},
        "evaluation.skills.before",
    ),
    "answers-over-participants": (
        {"skills": (SkillScores("x", (10, 10, 10, 0, 0), (0, 0, 0, 0, 1)),)},
        "evaluation.skills.before",
    ),
    "negative-answer": (
        {"skills": (SkillScores("x", (1, 1, 1, 1, 1), (-1, 0, 0, 0, 0)),)},
        "evaluation.skills.after",
    ),
    "skill-twice": (
        {"skills": (SkillScores("x", (0,) * 5, (0,) * 5), SkillScores("x", (0,) * 5, (0,) * 5))},
        "evaluation.skills",
    ),
    "unknown-incident-category": (
        {"incidents": (IncidentCount("Juma was hit", 1),)},
        "evaluation.incidents.category",
    ),
    "zero-incidents": ({"incidents": (IncidentCount("arrest", 0),)}, "evaluation.incidents.count"),
    "category-twice": (
        {"incidents": (IncidentCount("arrest", 1), IncidentCount("arrest", 2))},
        "evaluation.incidents",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_EVALUATIONS))
def test_bad_evaluation_numbers_are_refused_naming_the_field(case: str) -> None:
    changes, field = BAD_EVALUATIONS[case]
    lesson = make("evaluation", dataclasses.replace(EVALUATION, **changes))
    with pytest.raises(InvalidLesson) as raised:
        sign_lesson(IDENTITY, lesson)
    assert raised.value.field == field


@pytest.mark.parametrize("case", sorted(BAD_EVALUATIONS))
def test_a_forged_record_with_bad_numbers_is_refused_on_opening(case: str) -> None:
    """A peer that signs nonsense by hand gets it refused by the same rules."""
    changes, field = BAD_EVALUATIONS[case]
    lesson = make("evaluation", dataclasses.replace(EVALUATION, **changes))
    envelope = seal(IDENTITY, RECORD_CONTEXT, pack(lesson_to_wire(lesson)))
    with pytest.raises(InvalidLesson) as raised:
        open_record(envelope.raw)
    assert raised.value.field == field


def test_details_on_the_wrong_kind_are_refused() -> None:
    with pytest.raises(InvalidLesson, match="carries no such details"):
        sign_lesson(IDENTITY, make("story", EVALUATION))
    with pytest.raises(InvalidLesson, match="needs its evaluation details"):
        sign_lesson(IDENTITY, make("evaluation", None))


EVALUATION_FILE = evaluation_file()


def test_an_evaluation_file_is_read_into_its_details() -> None:
    draft = parse_lesson_file(EVALUATION_FILE.encode(), "e.md")
    assert isinstance(draft.details, Evaluation)
    assert draft.details.completed == 21
    assert draft.details.skills[0].after == (0, 1, 6, 11, 6)


@pytest.mark.parametrize(
    ("line", "replacement", "field"),
    [
        ("  completed: 21", "  completed: twenty", "evaluation.completed"),
        ("  completed: 21", "  completed: 21\n  names: [Juma, Achieng]", "evaluation.names"),
        ("    - category: harassment", "    - category: harassment\n      victim: Juma",
         "evaluation.incidents.victim"),
        ("  action_plans: 18", "  action_plans: 18\n  notes: fine", "evaluation.notes"),
        ("  held: 2027-03-10\n", "", "evaluation.held"),
        ("      before: [2, 8, 9, 4, 1]", "      before: two", "evaluation.skills.before"),
    ],
)  # fmt: skip
def test_a_bad_evaluation_file_names_the_field(line: str, replacement: str, field: str) -> None:
    text = EVALUATION_FILE.replace(line, replacement)
    assert text != EVALUATION_FILE
    with pytest.raises(InvalidLesson) as raised:
        parse_lesson_file(text.encode(), "e.md")
    assert raised.value.field == field


def test_a_name_field_is_refused_with_words_that_say_why() -> None:
    text = EVALUATION_FILE.replace("  completed: 21", "  completed: 21\n  participant_names: [A]")
    with pytest.raises(InvalidLesson, match="counts people and never names them"):
        parse_lesson_file(text.encode(), "e.md")


def test_follow_ups_belong_to_action_briefs() -> None:
    text = "---\ntitle: T\nkind: story\nfollow_up: 2027-01-01\n---\nBody\n"
    with pytest.raises(InvalidLesson, match="for action briefs"):
        parse_lesson_file(text.encode(), "s.md")
    brief = text.replace("story", "action_brief").replace(
        "follow_up: 2027-01-01", "milestones:\n  - title: Train\n    due: 2027-02-01\n"
    )
    draft = parse_lesson_file(brief.encode(), "b.md")
    assert isinstance(draft.details, FollowUps)
    assert draft.details.milestones[0].title == "Train"
