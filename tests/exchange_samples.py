"""One evaluation written as an operator would, shared by the tests that read, store and draw it."""

from __future__ import annotations


def evaluation_file(*, incidents: int = 1, scope: str | None = None) -> str:
    """A valid evaluation lesson file: 24 participants, 21 completed, one skill, one category
    of incident (``incidents`` times); ``scope`` adds a consent block."""
    consent = f"consent:\n  scope: {scope}\n" if scope else ""
    return f"""---
title: Evaluation of the Nairobi track
kind: evaluation
{consent}evaluation:
  exchange: Legal observer track, Nairobi 2027
  held: 2027-03-10
  participants: 24
  completed: 21
  action_plans: 18
  skills:
    - skill: de-escalation
      before: [2, 8, 9, 4, 1]
      after: [0, 1, 6, 11, 6]
  incidents:
    - category: harassment
      count: {incidents}
---
It went well.
"""
