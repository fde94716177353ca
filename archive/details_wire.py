"""Reading a record's ``details`` back from its decoded canonical map, checking every type.

The rules on the values (ranges, totals) are :func:`archive.details.validate_details`'s; this
module only makes sure each field is there, in order, with the right type.
"""

from __future__ import annotations

from typing import Any

from archive.details import (
    COLLECTION_ORDER,
    EVALUATION_ORDER,
    FOLLOW_UP_ORDER,
    INCIDENT_ORDER,
    ITEM_ORDER,
    MILESTONE_ORDER,
    SKILL_ORDER,
    Collection,
    CollectionItem,
    Details,
    Evaluation,
    FollowUps,
    IncidentCount,
    Milestone,
    SkillScores,
)
from archive.errors import InvalidLesson


def details_from_wire(kind: str, value: Any, where: str) -> Details | None:
    """The details of a ``kind`` record; None when the record has none."""
    if value is None:
        return None
    if kind == "action_brief":
        fields = _map(value, FOLLOW_UP_ORDER, where, "details")
        return FollowUps(
            follow_up=None if fields["follow_up"] is None else _int(fields, "follow_up", where),
            milestones=tuple(
                _milestone(item, where) for item in _list(fields, "milestones", where)
            ),
        )
    if kind == "collection":
        fields = _map(value, COLLECTION_ORDER, where, "details")
        return Collection(
            cohort=_str(fields, "cohort", where),
            items=tuple(_item(item, where) for item in _list(fields, "items", where)),
        )
    if kind == "evaluation":
        fields = _map(value, EVALUATION_ORDER, where, "details")
        return Evaluation(
            exchange=_str(fields, "exchange", where),
            held=_int(fields, "held", where),
            participants=_int(fields, "participants", where),
            completed=_int(fields, "completed", where),
            skills=tuple(_skill(item, where) for item in _list(fields, "skills", where)),
            incidents=tuple(_incident(item, where) for item in _list(fields, "incidents", where)),
            action_plans=_int(fields, "action_plans", where),
        )
    raise InvalidLesson(where, "details", f"a {kind} record carries no details")


def _milestone(value: Any, where: str) -> Milestone:
    fields = _map(value, MILESTONE_ORDER, where, "milestones")
    done = fields["done"]
    if not isinstance(done, bool):
        raise InvalidLesson(where, "milestones.done", "must be true or false")
    return Milestone(_str(fields, "title", where), _int(fields, "due", where), done)


def _item(value: Any, where: str) -> CollectionItem:
    fields = _map(value, ITEM_ORDER, where, "collection.items")
    ref = fields["ref"]
    if not isinstance(ref, bytes):
        raise InvalidLesson(where, "collection.items.ref", "must be bytes")
    return CollectionItem(_str(fields, "hint", where), ref, _str(fields, "scope", where))


def _skill(value: Any, where: str) -> SkillScores:
    fields = _map(value, SKILL_ORDER, where, "evaluation.skills")
    return SkillScores(
        _str(fields, "skill", where), _ints(fields, "before", where), _ints(fields, "after", where)
    )


def _incident(value: Any, where: str) -> IncidentCount:
    fields = _map(value, INCIDENT_ORDER, where, "evaluation.incidents")
    return IncidentCount(_str(fields, "category", where), _int(fields, "count", where))


def _map(value: Any, order: tuple[str, ...], where: str, name: str) -> dict[str, Any]:
    if not isinstance(value, dict) or tuple(value) != order:
        raise InvalidLesson(
            where, name, f"must be a map with the fields {', '.join(order)} in order"
        )
    return value


def _str(fields: dict[str, Any], name: str, where: str) -> str:
    value = fields[name]
    if not isinstance(value, str):
        raise InvalidLesson(where, name, "must be text")
    return value


def _int(fields: dict[str, Any], name: str, where: str) -> int:
    value = fields[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidLesson(where, name, "must be an integer")
    return value


def _list(fields: dict[str, Any], name: str, where: str) -> list[Any]:
    value = fields[name]
    if not isinstance(value, list):
        raise InvalidLesson(where, name, "must be a list")
    return value


def _ints(fields: dict[str, Any], name: str, where: str) -> tuple[int, ...]:
    values = _list(fields, name, where)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise InvalidLesson(where, name, "must be a list of integers")
    return tuple(values)
