"""Follow-ups due and evaluations, through ``rhizome lesson add`` and the actions.

Each bad evaluation is refused with one clear line and nothing is stored; follow-ups due are
read from their partial index; evaluations are summed per exchange and per side (ours and
our peers'), a peer's arriving under its consent like any record.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from archive.details import Evaluation, FollowUps, IncidentCount, Milestone, SkillScores
from archive.exchange_queries import DUE_SQL, due_follow_ups
from federation.bundles import import_bundle
from node.actions.evaluations import (
    ExchangeFigures,
    evaluation_summary,
    mean_score,
    summarize,
)
from node.node import Node
from tests.conftest import START
from tests.exchange_samples import evaluation_file
from tests.federation.test_bundles import bundle_for
from tests.federation.test_bundles import hubs as bundle_hubs
from tests.federation.test_sharing import FEDERATION, add
from tests.node.conftest import Invoke, assert_clean_exit, stored_counts

hubs = bundle_hubs
DAY = 86_400
EVALUATION_FILE = evaluation_file(scope="federation")
BAD = {
    "completed over participants": ("completed: 21", "completed: 30", "more than the number"),
    "no participants": ("participants: 24", "participants: 0", "an exchange has participants"),
    "negative count": ("action_plans: 18", "action_plans: -2", "0 or more"),
    "answers over participants": ("before: [2, 8, 9, 4, 1]", "before: [20, 8, 9, 4, 1]",
                                  "more than the 24 participants"),
    "four-point scale": ("after: [0, 1, 6, 11, 6]", "after: [0, 1, 6, 11]", "give 5 counts"),
    "unknown category": ("category: harassment", "category: Juma", "is not one of"),
    "a name field": ("completed: 21", "completed: 21\n  names: [Juma]", "never names them"),
    "a victim field": ("      count: 1", "      count: 1\n      victim: Juma", "never names them"),
    "text count": ("completed: 21", "completed: many", "whole number"),
    "missing exchange": ("  exchange: Legal observer track, Nairobi 2027\n", "", "is required"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_evaluation_is_refused_in_one_line_and_nothing_is_stored(
    invoke: Invoke, home: Path, tmp_path: Path, case: str
) -> None:
    old, new, needle = BAD[case]
    text = EVALUATION_FILE.replace(old, new)
    assert text != EVALUATION_FILE
    path = tmp_path / "evaluation.md"
    path.write_text(text, encoding="utf-8")
    result = invoke(home, "lesson", "add", str(path))
    assert result.exit_code == 1
    assert needle in result.output and "Traceback" not in result.output
    assert stored_counts(home) == (0, 0)
    path.write_text(EVALUATION_FILE, encoding="utf-8")  # the node still takes a good one
    assert_clean_exit(invoke(home, "lesson", "add", str(path)))
    assert stored_counts(home)[0] == 1


def figures(held: int, own: bool, completed: int, gain_after: tuple[int, ...]) -> ExchangeFigures:
    evaluation = Evaluation(
        exchange=f"Exchange {held}", held=held, participants=10, completed=completed,
        skills=(SkillScores("s", (0, 10, 0, 0, 0), gain_after),),
        incidents=(IncidentCount("arrest", 2),), action_plans=5,
    )  # fmt: skip
    return ExchangeFigures(f"{held:064x}", "t", own, "me" if own else "peer", evaluation)


def test_evaluations_are_summed_per_side_and_ordered_by_date() -> None:
    summary = summarize(
        [
            figures(START + 2 * DAY, True, 10, (0, 0, 0, 10, 0)),  # gain +2
            figures(START, True, 5, (0, 0, 10, 0, 0)),  # gain +1
            figures(START + DAY, False, 8, (0, 10, 0, 0, 0)),  # gain 0
        ]
    )
    assert [f.evaluation.held for f in summary.exchanges] == [START, START + DAY, START + 2 * DAY]
    assert summary.own.exchanges == 2 and summary.own.participants == 20
    assert summary.own.completion == 15 / 20
    assert summary.own.mean_gain == 1.5
    assert summary.peers.mean_gain == 0.0 and summary.peers.completion == 0.8
    assert summary.own.incidents == {"arrest": 4} and summary.peers.incidents == {"arrest": 2}
    assert summary.own.plan_rate == 0.5


def test_a_mean_score_reads_a_histogram_of_answers() -> None:
    assert mean_score((0, 0, 0, 0, 0)) is None
    assert mean_score((1, 0, 0, 0, 1)) == 3.0


def test_peers_evaluations_count_on_their_side(hubs: dict[str, Node]) -> None:
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    evaluation = Evaluation("Lima exchange", START, 12, 12, action_plans=3)
    local = dataclasses.replace(FEDERATION, scope="local")
    add(nairobi, "Shared evaluation", kind="evaluation", details=evaluation)
    add(nairobi, "Kept evaluation", kind="evaluation", consent=local,
        details=dataclasses.replace(evaluation, exchange="Kept"))  # fmt: skip
    add(lima, "Our own", kind="evaluation", details=Evaluation("Mine", START, 5, 4))
    import_bundle(lima.local_node(), bundle_for(nairobi, lima))
    summary = evaluation_summary(lima)
    assert summary.own.exchanges == 1 and summary.own.participants == 5
    assert summary.peers.exchanges == 1 and summary.peers.participants == 12
    assert [f.evaluation.exchange for f in summary.exchanges if not f.own] == ["Lima exchange"]


def brief(node: Node, title: str, details: FollowUps, **changes: object) -> str:
    return add(node, title, kind="action_brief", details=details, **changes).id_hex


def test_follow_ups_due_are_this_hubs_open_ones_soonest_first(hubs: dict[str, Node]) -> None:
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    now = int(nairobi.clock())
    soon = brief(nairobi, "Soon", FollowUps(now + 2 * DAY))
    overdue = brief(nairobi, "Overdue", FollowUps(None, (Milestone("Train", now - DAY),)))
    brief(nairobi, "Later", FollowUps(now + 30 * DAY))
    brief(nairobi, "Done", FollowUps(None, (Milestone("Done", now - DAY, done=True),)))
    brief(lima, "Theirs", FollowUps(now + DAY))
    import_bundle(nairobi.local_node(), bundle_for(lima, nairobi))
    due = due_follow_ups(nairobi.db, nairobi.node_id, now + 7 * DAY)
    assert [b.record_id for b in due] == [overdue, soon]


def test_a_new_version_that_closes_the_milestone_takes_it_off_the_list(
    hubs: dict[str, Node],
) -> None:
    nairobi = hubs["nairobi"]
    now = int(nairobi.clock())
    first = brief(nairobi, "Brief", FollowUps(None, (Milestone("Train", now + DAY),)))
    assert [b.record_id for b in due_follow_ups(nairobi.db, nairobi.node_id, now + 7 * DAY)] == [
        first
    ]
    brief(nairobi, "Brief", FollowUps(None, (Milestone("Train", now + DAY, done=True),)),
          supersedes=bytes.fromhex(first))  # fmt: skip
    assert due_follow_ups(nairobi.db, nairobi.node_id, now + 7 * DAY) == []


def test_the_due_list_reads_its_partial_index(hubs: dict[str, Node]) -> None:
    """Cheap at a million lessons: the plan searches the index of open dates, never the table."""
    nairobi = hubs["nairobi"]
    plan = nairobi.db.execute("EXPLAIN QUERY PLAN " + DUE_SQL, [0, nairobi.node_id, 20]).fetchall()
    assert any("records_by_next_due" in str(row) for row in plan), plan


def test_lesson_show_prints_the_details(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    path = tmp_path / "evaluation.md"
    path.write_text(EVALUATION_FILE, encoding="utf-8")
    added = invoke(home, "lesson", "add", str(path))
    assert_clean_exit(added)
    record = added.output.split()[-1]
    shown = invoke(home, "lesson", "show", record[:12])
    assert_clean_exit(shown)
    assert "24 participants, 21 completed, 18 action plans" in shown.output
    assert "harassment: 1" in shown.output
    as_json = json.loads(invoke(home, "lesson", "show", record[:12], "--json").output)
    assert as_json["details"]["completed"] == 21
    assert as_json["details"]["held"] == "2027-03-10T00:00:00Z"
