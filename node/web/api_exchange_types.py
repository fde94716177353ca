"""The JSON API's messages for an exchange's own work: collections, evaluations, follow-ups.

Declared once, like :mod:`node.web.api_types` and :mod:`node.web.api_answers`: the routes
decode with them and :mod:`node.web.openapi` documents them; :mod:`node.exchange_serialize`
builds the answers.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct

from archive.details import MAX_COHORT, MAX_ITEMS
from archive.record import MAX_BODY_BYTES, MAX_TITLE, SCOPES
from node.web.api_answers import Count, LessonSummary, NodeId, RecordId, Time

Scope = Literal[SCOPES]  # type: ignore[valid-type]
LessonRef = Annotated[str, Meta(min_length=4, max_length=64, description="an id or a prefix")]
Lessons = Annotated[list[LessonRef], Meta(max_length=MAX_ITEMS)]


class CollectionInput(Struct, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=MAX_TITLE)]
    cohort: Annotated[str, Meta(min_length=1, max_length=MAX_COHORT)]
    introduction: Annotated[str, Meta(max_length=MAX_BODY_BYTES)] = ""
    lessons: Lessons = []
    scope: Scope = "local"
    language: Annotated[str, Meta(max_length=35)] | None = None


class CollectionChange(Struct, forbid_unknown_fields=True):
    add: Lessons = []
    remove: Lessons = []
    position: Annotated[int, Meta(ge=1, le=MAX_ITEMS, description="where add goes")] | None = None
    name: Annotated[str, Meta(min_length=1, max_length=MAX_TITLE)] | None = None
    cohort: Annotated[str, Meta(min_length=1, max_length=MAX_COHORT)] | None = None
    introduction: Annotated[str, Meta(max_length=MAX_BODY_BYTES)] | None = None


class CollectionEntry(Struct):
    position: Count
    lesson: LessonSummary | None
    gap: Annotated[str, Meta(description="why this lesson is not here")] | None


class Gap(Struct):
    reason: str
    lessons: Count


class Collection(Struct):
    id: RecordId
    name: str
    cohort: str
    introduction: str
    language: str
    scope: str
    origin: NodeId
    created: Time
    supersedes: str | None
    own: bool
    entries: list[CollectionEntry]
    gaps: list[Gap]


class CollectionList(Struct):
    collections: list[Collection]


class NewCollection(Struct):
    id: RecordId


class ExchangeFigures(Struct):
    id: RecordId
    title: str
    exchange: str
    held: Time
    own: bool
    origin: NodeId
    participants: Count
    completed: Count
    completion: float
    skill_gain: float | None
    action_plans: Count
    incidents: dict[str, int]


class SideFigures(Struct):
    exchanges: Count
    hubs: Count
    participants: Count
    completed: Count
    completion: float | None
    mean_skill_gain: float | None
    action_plan_rate: float | None
    incidents: dict[str, int]


class Evaluations(Struct):
    """Every evaluation shown here, oldest first, and the sums: ours and our peers'."""

    exchanges: list[ExchangeFigures]
    own: SideFigures
    peers: SideFigures


class DueBrief(Struct):
    id: RecordId
    title: str
    due: Time


class FollowUps(Struct):
    """This hub's action briefs with a follow-up or milestone open within a week, soonest first."""

    due: list[DueBrief]
