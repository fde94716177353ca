"""Evaluations of exchanges: this hub's own, and those peers chose to share with it.

An evaluation is a signed record (kind ``evaluation``, :mod:`archive.details`) added like a
lesson (``rhizome lesson add evaluation.md``); peers' evaluations arrive under their consent
and our inbound policy like any record. This module reads them back and sums them up: per
exchange (completion, mean skill gain, incidents) and per side (ours against all peers'),
so regions learn from each other's numbers. The sums are pure functions of the records.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from archive.details import SCALE_POINTS, Evaluation, SkillScores
from archive.exchange_queries import latest_of_kind
from node.node import Node


@dataclass(frozen=True)
class ExchangeFigures:
    """One evaluated exchange, as the page and the API show it."""

    record_id: str
    title: str
    own: bool
    origin: str
    evaluation: Evaluation

    @property
    def completion(self) -> float:
        return self.evaluation.completed / self.evaluation.participants

    @property
    def skill_gain(self) -> float | None:
        """Mean self-assessed gain over the skills (points on the 1–5 scale)."""
        gains = [
            gain for scores in self.evaluation.skills if (gain := skill_gain(scores)) is not None
        ]
        return sum(gains) / len(gains) if gains else None


@dataclass
class SideFigures:
    """The sums of one side: this hub, or all its peers together."""

    exchanges: int = 0
    participants: int = 0
    completed: int = 0
    action_plans: int = 0
    incidents: Counter[str] = field(default_factory=Counter)
    gains: list[float] = field(default_factory=list)
    hubs: set[str] = field(default_factory=set)

    @property
    def completion(self) -> float | None:
        return self.completed / self.participants if self.participants else None

    @property
    def mean_gain(self) -> float | None:
        return sum(self.gains) / len(self.gains) if self.gains else None

    @property
    def plan_rate(self) -> float | None:
        return self.action_plans / self.participants if self.participants else None


@dataclass(frozen=True)
class EvaluationSummary:
    exchanges: list[ExchangeFigures]  # oldest first, as the plots read them
    own: SideFigures
    peers: SideFigures


def mean_score(counts: tuple[int, ...]) -> float | None:
    """The mean answer of a histogram of answers 1..5 (None without answers)."""
    answers = sum(counts)
    if not answers:
        return None
    points = range(1, SCALE_POINTS + 1)
    return sum(point * count for point, count in zip(points, counts, strict=True)) / answers


def skill_gain(scores: SkillScores) -> float | None:
    before, after = mean_score(scores.before), mean_score(scores.after)
    return None if before is None or after is None else after - before


def summarize(exchanges: list[ExchangeFigures]) -> EvaluationSummary:
    """Per-side sums of the exchanges, which come back sorted by when each was held."""
    ordered = sorted(exchanges, key=lambda figures: (figures.evaluation.held, figures.record_id))
    own, peers = SideFigures(), SideFigures()
    for figures in ordered:
        side = own if figures.own else peers
        evaluation = figures.evaluation
        side.exchanges += 1
        side.participants += evaluation.participants
        side.completed += evaluation.completed
        side.action_plans += evaluation.action_plans
        side.hubs.add(figures.origin)
        for incident in evaluation.incidents:
            side.incidents[incident.category] += incident.count
        if (gain := figures.skill_gain) is not None:
            side.gains.append(gain)
    return EvaluationSummary(ordered, own, peers)


def evaluation_summary(node: Node) -> EvaluationSummary:
    """Every evaluation shown here (newest versions, out of quarantine), summed up."""
    exchanges = []
    for record in latest_of_kind(node.db, "evaluation"):
        details = record.lesson.details
        if isinstance(details, Evaluation):
            origin = record.lesson.origin_id
            exchanges.append(
                ExchangeFigures(
                    record.id_hex, record.lesson.title, origin == node.node_id, origin, details
                )
            )
    return summarize(exchanges)
