"""The signed details of a record (archive.details) as JSON, for ``lesson show --json`` and
``GET /api/v1/lessons/{id}``. A collection's items are shown as they are signed: a hint and a
commitment per lesson, never a lesson id (``collection show`` resolves them)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from archive.details import Collection, Details, Evaluation, FollowUps
from node.i18n import gettext as _


def _iso(seconds: int | None) -> str | None:
    if seconds is None:
        return None
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat().replace("+00:00", "Z")


def details_json(details: Details | None) -> dict[str, Any] | None:
    if details is None:
        return None
    if isinstance(details, FollowUps):
        return {
            "follow_up": _iso(details.follow_up),
            "next_due": _iso(details.next_due()),
            "milestones": [
                {"title": m.title, "due": _iso(m.due), "done": m.done} for m in details.milestones
            ],
        }
    if isinstance(details, Collection):
        return {
            "cohort": details.cohort,
            "items": [
                {"hint": i.hint, "ref": i.ref.hex(), "scope": i.scope} for i in details.items
            ],
        }
    assert isinstance(details, Evaluation)
    return {
        "exchange": details.exchange,
        "held": _iso(details.held),
        "participants": details.participants,
        "completed": details.completed,
        "skills": [
            {"skill": s.skill, "before": list(s.before), "after": list(s.after)}
            for s in details.skills
        ],
        "incidents": [{"category": i.category, "count": i.count} for i in details.incidents],
        "action_plans": details.action_plans,
    }


def details_lines(details: dict[str, Any]) -> list[str]:
    """The details in ``lesson show``'s two columns, in the current language."""
    lines = []

    def line(label: str, value: object) -> None:
        lines.append(f"  {label:12} {value}")

    if "milestones" in details:
        if details["follow_up"]:
            line(_("follow-up"), details["follow_up"])
        for milestone in details["milestones"]:
            state = _("{title} (done)") if milestone["done"] else _("{title} (due {due})")
            line(_("milestone"), state.format(title=milestone["title"], due=milestone["due"]))
    elif "items" in details:
        line(_("cohort"), details["cohort"])
        count = len(details["items"])
        line(_("lessons"), _("{count} (rhizome collection show ID)").format(count=count))
    else:
        held = _("{exchange}, held {held}").format(
            exchange=details["exchange"], held=details["held"]
        )
        line(_("exchange"), held)
        numbers = _(
            "{participants} participants, {completed} completed, {plans} action plans"
        ).format(
            participants=details["participants"],
            completed=details["completed"],
            plans=details["action_plans"],
        )
        line(_("numbers"), numbers)
        for incident in details["incidents"]:
            line(_("incidents"), f"{incident['category']}: {incident['count']}")
    return lines
