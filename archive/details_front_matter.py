"""Details as authors write them in a lesson file's front matter (docs/reference/lesson-format.md).

An action brief may have ``follow_up:`` and ``milestones:``; an evaluation has an
``evaluation:`` mapping. Every field's type is checked here and the first problem named;
the rules on the values are :func:`archive.details.validate_details`'s. An evaluation
counts people and never names them: a field that looks like it holds a name is refused
with words that say so.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from archive.details import (
    Details,
    Evaluation,
    FollowUps,
    IncidentCount,
    Milestone,
    SkillScores,
)
from archive.errors import InvalidLesson

DETAIL_FIELDS = {"follow_up", "milestones", "evaluation"}
EVALUATION_FIELDS = {
    "exchange", "held", "participants", "completed", "skills", "incidents", "action_plans",
}  # fmt: skip
# Keys that would hold who someone is. Refused by name, so nobody types a list of names
# into a record that travels to peers believing a "notes" field is harmless.
_NAME_LIKE = re.compile(
    r"(^|_)(names?|who|person|people|persons|victims?|reporters?|witness(es)?|contacts?|"
    r"emails?|phones?|participant_list|attendees?|surname|pseudonyms?)($|_)",
    re.IGNORECASE,
)
TimestampParser = Callable[[Any, str, str], int]


def details_from_front(
    front: dict[str, Any], kind: str, where: str, parse_timestamp: TimestampParser
) -> Details | None:
    """The details written in ``front`` for a record of ``kind``, or None."""
    if "evaluation" in front:
        if kind != "evaluation":
            raise InvalidLesson(where, "evaluation", "only a record of kind evaluation has it")
        return _evaluation(front["evaluation"], where, parse_timestamp)
    if kind == "evaluation":
        raise InvalidLesson(where, "evaluation", "an evaluation needs its 'evaluation:' numbers")
    if "follow_up" not in front and "milestones" not in front:
        return None
    if kind != "action_brief":
        raise InvalidLesson(where, "follow_up", "follow-ups and milestones are for action briefs")
    return _follow_ups(front, where, parse_timestamp)


def _follow_ups(front: dict[str, Any], where: str, parse_timestamp: TimestampParser) -> FollowUps:
    follow_up = front.get("follow_up")
    milestones = front.get("milestones") or []
    if not isinstance(milestones, list):
        raise InvalidLesson(where, "milestones", "must be a list of {title, due, done}")
    return FollowUps(
        follow_up=None if follow_up is None else parse_timestamp(follow_up, where, "follow_up"),
        milestones=tuple(_milestone(item, where, parse_timestamp) for item in milestones),
    )


def _milestone(value: Any, where: str, parse_timestamp: TimestampParser) -> Milestone:
    fields = _mapping(value, {"title", "due", "done"}, where, "milestones")
    if "due" not in fields:
        raise InvalidLesson(where, "milestones.due", "is required (a date)")
    done = fields.get("done", False)
    if not isinstance(done, bool):
        raise InvalidLesson(where, "milestones.done", "must be true or false")
    title = _text(fields, "title", where, "milestones.")
    return Milestone(title, parse_timestamp(fields["due"], where, "milestones.due"), done)


def _evaluation(value: Any, where: str, parse_timestamp: TimestampParser) -> Evaluation:
    fields = _mapping(value, EVALUATION_FIELDS, where, "evaluation")
    for name in ("exchange", "held", "participants", "completed"):
        if name not in fields:
            raise InvalidLesson(where, f"evaluation.{name}", "is required")
    skills = _list(fields, "skills", where, "evaluation.")
    incidents = _list(fields, "incidents", where, "evaluation.")
    return Evaluation(
        exchange=_text(fields, "exchange", where, "evaluation."),
        held=parse_timestamp(fields["held"], where, "evaluation.held"),
        participants=_count(fields, "participants", where, "evaluation."),
        completed=_count(fields, "completed", where, "evaluation."),
        skills=tuple(_skill(item, where) for item in skills),
        incidents=tuple(_incident(item, where) for item in incidents),
        action_plans=_count(fields, "action_plans", where, "evaluation.", 0),
    )


def _skill(value: Any, where: str) -> SkillScores:
    prefix = "evaluation.skills."
    fields = _mapping(value, {"skill", "before", "after"}, where, "evaluation.skills")
    return SkillScores(
        _text(fields, "skill", where, prefix),
        _counts(fields, "before", where, prefix),
        _counts(fields, "after", where, prefix),
    )


def _incident(value: Any, where: str) -> IncidentCount:
    prefix = "evaluation.incidents."
    fields = _mapping(value, {"category", "count"}, where, "evaluation.incidents")
    return IncidentCount(
        _text(fields, "category", where, prefix), _count(fields, "count", where, prefix)
    )


def _mapping(value: Any, known: set[str], where: str, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidLesson(where, name, "must be a mapping of field: value")
    for key in value:
        if _NAME_LIKE.search(str(key)):
            raise InvalidLesson(
                where, f"{name}.{key}",
                "an evaluation counts people and never names them: remove this field",
            )  # fmt: skip
    unknown = sorted(str(key) for key in value if key not in known)
    if unknown:
        raise InvalidLesson(
            where, f"{name}.{unknown[0]}", f"unknown field (known: {', '.join(sorted(known))})"
        )
    return value


def _text(fields: dict[str, Any], name: str, where: str, prefix: str) -> str:
    value = fields.get(name)
    if not isinstance(value, str):
        raise InvalidLesson(where, prefix + name, "is required text")
    return value.strip()


def _list(fields: dict[str, Any], name: str, where: str, prefix: str) -> list[Any]:
    value = fields.get(name) or []
    if not isinstance(value, list):
        raise InvalidLesson(where, prefix + name, "must be a list")
    return value


def _count(
    fields: dict[str, Any], name: str, where: str, prefix: str, default: int | None = None
) -> int:
    value = fields.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidLesson(where, prefix + name, f"must be a whole number, not {value!r}")
    return value


def _counts(fields: dict[str, Any], name: str, where: str, prefix: str) -> tuple[int, ...]:
    values = _list(fields, name, where, prefix)
    if not values or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise InvalidLesson(
            where, prefix + name, "must be a list of whole numbers: how many answered 1 to 5"
        )
    return tuple(values)
