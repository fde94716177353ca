"""Ranking in a large archive: words in at least half of the lessons are matched, not scored.

``COMMON_FROM`` is lowered to the few lessons written here: the rule is the same at 20,000
lessons, where it starts to apply, and writing that many lessons would make the test slow.
"""

from __future__ import annotations

import pytest

import archive.search_ranking
from archive.search import WEIGHTS, match_expression, search
from archive.search_ranking import common_terms
from node.node import Node
from tests.archive.test_search import add, hit_ids


@pytest.fixture
def large(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive.search_ranking, "COMMON_FROM", 1)


def bm25_order(node: Node, query: str) -> list[tuple[str, float]]:
    """(id, bm25 over every word) of every match, best first: ranking before this rule."""
    weights = ", ".join(str(weight) for weight in WEIGHTS)
    rows = node.db.execute(
        f"SELECT records.id, bm25(records_fts, {weights}) AS rank FROM records_fts "
        "JOIN records ON records.rowid = records_fts.rowid WHERE records_fts MATCH ? "
        "ORDER BY rank",
        [match_expression(query)],
    )
    return [(str(row[0]), float(row[1])) for row in rows]


@pytest.mark.usefixtures("large")
def test_a_word_in_most_lessons_is_common_and_a_rare_one_is_not(node: Node) -> None:
    for index in range(6):
        add(node, title=f"Training {index}", body="Safety first.\n" if index < 4 else "Other.\n")
    add(node, title="Radio", body="Safety and radio volunteers.\n")
    terms = match_expression("safety volunteers training").split(" ")
    assert common_terms(node.db, terms) == {'"safety"', '"training"'}  # 5 of 7, 6 of 7


def test_a_small_archive_scores_every_word(node: Node) -> None:
    for index in range(4):
        add(node, title=f"Safety {index}", body="Safety first.\n")
    assert common_terms(node.db, ['"safety"']) == set()


@pytest.mark.usefixtures("large")
def test_common_and_rare_words_rank_as_bm25_over_every_word(node: Node) -> None:
    for index in range(8):
        add(node, title=f"Safety note {index}", body="We keep safety in mind.\n")
    bodies = [
        "Safety radio.\n",
        "Safety radio radio radio, a radio for every team.\n",
        "Safety. " + "A long body about many other things. " * 20 + "Radio.\n",
    ]
    for body in bodies:
        add(node, title="Kit", body=body)
    add(node, title="Radio safety", body="Radio check.\n", tags=("radio",))
    radio_only = add(node, title="Radio", body="Radio without the other word.\n")
    expected = bm25_order(node, "safety radio")
    assert radio_only not in [record for record, _ in expected]
    assert len(expected) == 4 and len({rank for _, rank in expected}) == 4  # no ties here
    assert hit_ids(search(node.db, "safety radio")) == [record for record, _ in expected]


@pytest.mark.usefixtures("large")
def test_only_common_words_rank_title_then_tags_then_summary_then_newest(node: Node) -> None:
    body = "Safety first, always.\n"
    older_body_only = add(node, title="One", body=body)
    in_summary = add(node, title="Two", summary="About safety.", body=body)
    in_tags = add(node, title="Three", body=body, tags=("safety",))
    in_title = add(node, title="Safety four", body=body)
    newer_body_only = add(node, title="Five", body=body)
    unrelated = add(node, title="Six", body="Nothing here.\n")
    hits = search(node.db, "safety")
    assert hit_ids(hits) == [in_title, in_tags, in_summary, newer_body_only, older_body_only]
    assert unrelated not in hit_ids(hits)
    assert [hit.rank for hit in hits] == sorted(hit.rank for hit in hits)  # lower is better
