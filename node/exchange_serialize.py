"""JSON shapes of an exchange's own work, shared by the CLI's ``--json`` and the JSON API."""

from __future__ import annotations

from typing import Any

from archive.exchange_queries import DueBrief
from node.actions.collections import CollectionView
from node.actions.evaluations import EvaluationSummary, ExchangeFigures, SideFigures
from node.serialize import iso_time, summary_json


def collection_json(view: CollectionView) -> dict[str, Any]:
    """A collection: its fields, its lessons in order, each gap with its reason."""
    lesson = view.record.lesson
    return {
        "id": view.record.id_hex,
        "name": lesson.title,
        "cohort": view.collection.cohort,
        "introduction": lesson.body,
        "language": lesson.language,
        "scope": lesson.consent.scope,
        "origin": lesson.origin_id,
        "created": iso_time(lesson.created),
        "supersedes": lesson.supersedes.hex() if lesson.supersedes else None,
        "own": view.own,
        "entries": [
            {
                "position": entry.position,
                "lesson": summary_json(entry.lesson) if entry.lesson else None,
                "gap": entry.gap,
            }
            for entry in view.entries
        ],
        "gaps": [{"reason": reason, "lessons": count} for reason, count in view.gap_summary()],
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def exchange_json(figures: ExchangeFigures) -> dict[str, Any]:
    evaluation = figures.evaluation
    return {
        "id": figures.record_id,
        "title": figures.title,
        "exchange": evaluation.exchange,
        "held": iso_time(evaluation.held),
        "own": figures.own,
        "origin": figures.origin,
        "participants": evaluation.participants,
        "completed": evaluation.completed,
        "completion": _rounded(figures.completion),
        "skill_gain": _rounded(figures.skill_gain),
        "action_plans": evaluation.action_plans,
        "incidents": {incident.category: incident.count for incident in evaluation.incidents},
    }


def side_json(side: SideFigures) -> dict[str, Any]:
    return {
        "exchanges": side.exchanges,
        "hubs": len(side.hubs),
        "participants": side.participants,
        "completed": side.completed,
        "completion": _rounded(side.completion),
        "mean_skill_gain": _rounded(side.mean_gain),
        "action_plan_rate": _rounded(side.plan_rate),
        "incidents": dict(sorted(side.incidents.items())),
    }


def evaluations_json(summary: EvaluationSummary) -> dict[str, Any]:
    return {
        "exchanges": [exchange_json(figures) for figures in summary.exchanges],
        "own": side_json(summary.own),
        "peers": side_json(summary.peers),
    }


def due_json(brief: DueBrief) -> dict[str, Any]:
    return {"id": brief.record_id, "title": brief.title, "due": iso_time(brief.next_due)}
