"""The structured part of a record: an exchange's own work, signed with the lesson.

Three kinds carry details (record format 2, field ``details``; docs/reference/record-format.md):

- an ``action_brief`` may carry follow-ups: a follow-up date and milestones;
- a ``collection`` (a named, ordered set of lessons for a cohort) carries its items;
- an ``evaluation`` of an exchange carries its numbers: participants, completion, skills
  before and after (how many answered 1 to 5 on a self-assessed scale), safety incidents
  (counts per category, never who) and how many left with a follow-up action plan.

A collection item never names its lesson: it holds a commitment to the lesson id
(SHA-256 of a domain tag and the id) and the first four hex characters of the id, so a node
that holds the lesson finds it with one index range, and a peer that was not given the lesson
learns neither its id nor its text (:mod:`archive.collections`), only that a lesson of that
consent scope is missing. Every rule on these numbers lives here, for local and received
records alike.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from archive.errors import InvalidLesson

ITEM_CONTEXT = b"rhizome/collection-item/v1"
HINT_CHARS = 4
MAX_ITEMS = 200
MAX_MILESTONES = 50
MAX_COHORT = 200
MAX_MILESTONE_TITLE = 300
MAX_SKILLS = 32
MAX_SKILL = 64
MAX_PARTICIPANTS = 100_000
MAX_INCIDENTS = 10_000
SCALE_POINTS = 5  # a self-assessed scale from 1 to 5
INCIDENT_CATEGORIES = (
    "arrest",
    "digital",
    "harassment",
    "health",
    "injury",
    "property",
    "surveillance",
    "other",
)
DETAIL_KINDS = ("action_brief", "collection", "evaluation")
FOLLOW_UP_ORDER = ("follow_up", "milestones")
MILESTONE_ORDER = ("title", "due", "done")
COLLECTION_ORDER = ("cohort", "items")
ITEM_ORDER = ("hint", "ref", "scope")
EVALUATION_ORDER = (
    "exchange", "held", "participants", "completed", "skills", "incidents", "action_plans",
)  # fmt: skip
SKILL_ORDER = ("skill", "before", "after")
INCIDENT_ORDER = ("category", "count")


@dataclass(frozen=True)
class Milestone:
    title: str
    due: int  # Unix seconds
    done: bool = False


@dataclass(frozen=True)
class FollowUps:
    """An action brief's commitments: when to follow up, and its milestones."""

    follow_up: int | None = None
    milestones: tuple[Milestone, ...] = ()

    def next_due(self) -> int | None:
        """The earliest date still open: the follow-up or a milestone not done."""
        dates = [m.due for m in self.milestones if not m.done]
        if self.follow_up is not None:
            dates.append(self.follow_up)
        return min(dates, default=None)


@dataclass(frozen=True)
class CollectionItem:
    """One lesson of a collection, named by commitment (see the module docstring)."""

    hint: str
    ref: bytes
    scope: str  # the lesson's consent scope when it was added: explains a gap to a peer


@dataclass(frozen=True)
class Collection:
    cohort: str
    items: tuple[CollectionItem, ...] = ()


@dataclass(frozen=True)
class SkillScores:
    """How many participants rated themselves 1, 2, ... 5 on one skill, before and after."""

    skill: str
    before: tuple[int, ...]
    after: tuple[int, ...]


@dataclass(frozen=True)
class IncidentCount:
    category: str
    count: int


@dataclass(frozen=True)
class Evaluation:
    exchange: str
    held: int  # Unix seconds: when the exchange took place
    participants: int
    completed: int
    skills: tuple[SkillScores, ...] = ()
    incidents: tuple[IncidentCount, ...] = ()
    action_plans: int = 0


Details = FollowUps | Collection | Evaluation
_DETAILS_OF_KIND: dict[str, type] = {
    "action_brief": FollowUps,
    "collection": Collection,
    "evaluation": Evaluation,
}


def item_ref(record_id: bytes) -> bytes:
    """The commitment a collection holds for a lesson id."""
    return hashlib.sha256(ITEM_CONTEXT + record_id).digest()


def collection_item(record_id: bytes, scope: str) -> CollectionItem:
    return CollectionItem(record_id.hex()[:HINT_CHARS], item_ref(record_id), scope)


def details_to_wire(details: Details) -> dict[str, Any]:
    """The ordered map signed as the record's ``details`` field."""
    if isinstance(details, FollowUps):
        milestones = [{"title": m.title, "due": m.due, "done": m.done} for m in details.milestones]
        return {"follow_up": details.follow_up, "milestones": milestones}
    if isinstance(details, Collection):
        items = [{"hint": i.hint, "ref": i.ref, "scope": i.scope} for i in details.items]
        return {"cohort": details.cohort, "items": items}
    return {
        "exchange": details.exchange,
        "held": details.held,
        "participants": details.participants,
        "completed": details.completed,
        "skills": [
            {"skill": s.skill, "before": list(s.before), "after": list(s.after)}
            for s in details.skills
        ],
        "incidents": [{"category": i.category, "count": i.count} for i in details.incidents],
        "action_plans": details.action_plans,
    }


def validate_details(
    kind: str, details: Details | None, where: str, scopes: tuple[str, ...]
) -> None:
    """Raise :class:`InvalidLesson` naming the first detail that breaks a rule."""
    expected = _DETAILS_OF_KIND.get(kind)
    if details is None:
        if kind in ("collection", "evaluation"):
            raise InvalidLesson(where, kind, f"a {kind} record needs its {kind} details")
        return
    if expected is None or not isinstance(details, expected):
        raise InvalidLesson(where, "details", f"a {kind} record carries no such details")
    if isinstance(details, FollowUps):
        _check_follow_ups(details, where)
    elif isinstance(details, Collection):
        _check_collection(details, where, scopes)
    else:
        check_evaluation(details, where)


def _check_follow_ups(details: FollowUps, where: str) -> None:
    if details.follow_up is None and not details.milestones:
        raise InvalidLesson(where, "follow_up", "give a follow-up date or at least one milestone")
    if details.follow_up is not None and details.follow_up < 0:
        raise InvalidLesson(where, "follow_up", "must not be before 1970")
    if len(details.milestones) > MAX_MILESTONES:
        raise InvalidLesson(where, "milestones", f"more than {MAX_MILESTONES} milestones")
    for milestone in details.milestones:
        _check_text(where, "milestones.title", milestone.title, MAX_MILESTONE_TITLE)
        if milestone.due < 0:
            raise InvalidLesson(where, "milestones.due", "must not be before 1970")


def _check_collection(details: Collection, where: str, scopes: tuple[str, ...]) -> None:
    _check_text(where, "collection.cohort", details.cohort, MAX_COHORT)
    if len(details.items) > MAX_ITEMS:
        raise InvalidLesson(where, "collection.items", f"more than {MAX_ITEMS} lessons")
    seen: set[bytes] = set()
    for item in details.items:
        if len(item.ref) != 32 or len(item.hint) != HINT_CHARS:
            raise InvalidLesson(where, "collection.items", "each item is a hint and a 32-byte ref")
        if any(c not in "0123456789abcdef" for c in item.hint):
            raise InvalidLesson(where, "collection.items.hint", "must be lowercase hex")
        if item.scope not in scopes:
            raise InvalidLesson(where, "collection.items.scope", f"{item.scope!r} is no scope")
        if item.ref in seen:
            raise InvalidLesson(where, "collection.items", "a lesson appears twice")
        seen.add(item.ref)


def check_evaluation(details: Evaluation, where: str) -> None:
    """The numbers of an evaluation must add up: every rule, with the field it concerns."""
    _check_text(where, "evaluation.exchange", details.exchange, MAX_COHORT)
    if details.held < 0:
        raise InvalidLesson(where, "evaluation.held", "must not be before 1970")
    _check_count(where, "evaluation.participants", details.participants, MAX_PARTICIPANTS)
    if details.participants == 0:
        raise InvalidLesson(where, "evaluation.participants", "an exchange has participants")
    _check_count(where, "evaluation.completed", details.completed, details.participants,
                 "the number of participants")  # fmt: skip
    _check_count(where, "evaluation.action_plans", details.action_plans, details.participants,
                 "the number of participants")  # fmt: skip
    _check_skills(details, where)
    if len(details.incidents) > len(INCIDENT_CATEGORIES):
        raise InvalidLesson(where, "evaluation.incidents", "one entry per category at most")
    categories = [incident.category for incident in details.incidents]
    for incident in details.incidents:
        if incident.category not in INCIDENT_CATEGORIES:
            raise InvalidLesson(
                where, "evaluation.incidents.category",
                f"{incident.category!r} is not one of {', '.join(INCIDENT_CATEGORIES)}",
            )  # fmt: skip
        if categories.count(incident.category) > 1:
            raise InvalidLesson(where, "evaluation.incidents", f"{incident.category} twice")
        _check_count(where, "evaluation.incidents.count", incident.count, MAX_INCIDENTS)
        if incident.count == 0:
            raise InvalidLesson(where, "evaluation.incidents.count", "leave out a category with 0")


def _check_skills(details: Evaluation, where: str) -> None:
    if len(details.skills) > MAX_SKILLS:
        raise InvalidLesson(where, "evaluation.skills", f"more than {MAX_SKILLS} skills")
    names = [scores.skill for scores in details.skills]
    for scores in details.skills:
        _check_text(where, "evaluation.skills.skill", scores.skill, MAX_SKILL)
        if names.count(scores.skill) > 1:
            raise InvalidLesson(where, "evaluation.skills", f"{scores.skill!r} appears twice")
        for moment, limit, noun in (
            ("before", details.participants, "participants"),
            ("after", details.participants, "participants"),
        ):
            answers: tuple[int, ...] = getattr(scores, moment)
            field = f"evaluation.skills.{moment}"
            if len(answers) != SCALE_POINTS:
                raise InvalidLesson(
                    where, field,
                    f"{scores.skill}: give {SCALE_POINTS} counts, how many answered 1, 2, 3, 4, 5",
                )  # fmt: skip
            for answer in answers:
                _check_count(where, field, answer, MAX_PARTICIPANTS)
            if sum(answers) > limit:
                raise InvalidLesson(
                    where, field,
                    f"{scores.skill}: {sum(answers)} answers, more than the {limit} {noun}",
                )  # fmt: skip


def _check_count(where: str, name: str, value: int, limit: int, limit_words: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidLesson(where, name, f"must be a whole number of 0 or more, not {value!r}")
    if value > limit:
        bound = f"{limit_words} ({limit})" if limit_words else str(limit)
        raise InvalidLesson(where, name, f"{value} is more than {bound}")


def _check_text(where: str, name: str, value: str, limit: int) -> None:
    if not value.strip():
        raise InvalidLesson(where, name, "is required and must not be empty")
    if len(value) > limit:
        raise InvalidLesson(where, name, f"longer than the limit of {limit} characters")
