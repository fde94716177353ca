"""Search folding per script: what a reader calls the same word is found, at index and query
time alike, and the snippet shows the text as written (docs/reference/search-folding.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from archive.folding import fold, fold_with_origins, m052_fold_search_index
from archive.search import HIT_END, HIT_START, search
from node.node import Node
from tests.archive.test_search import add

REFERENCE = Path(__file__).resolve().parents[2] / "docs/reference/search-folding.md"
_ROW = re.compile(r"^\| (?P<script>[^|]+) \| `(?P<written>[^`]+)` \| `(?P<typed>[^`]+)` \|")


def folding_table() -> list[tuple[str, str, str]]:
    """(script, as written, as typed) rows of the reference page's table."""
    rows = []
    for line in REFERENCE.read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line)
        if match:
            rows.append((match["script"].strip(), match["written"], match["typed"]))
    return rows


def test_the_reference_table_covers_every_script_and_rule() -> None:
    scripts = {script for script, _written, _typed in folding_table()}
    assert {"every script", "Latin", "Arabic", "Greek"} <= scripts
    assert len(folding_table()) >= 15


@pytest.mark.parametrize(("script", "written", "typed"), folding_table())
def test_written_and_typed_fold_alike(script: str, written: str, typed: str) -> None:
    assert fold(written) == fold(typed), script


@pytest.mark.parametrize(("script", "written", "typed"), folding_table())
def test_search_finds_the_lesson_as_written_by_the_word_as_typed(
    node: Node, script: str, written: str, typed: str
) -> None:
    lesson = add(node, title=f"Lesson {written}", body=f"What we learnt: {written} here.\n")
    add(node, title="Another lesson", body="Nothing of the kind.\n")
    hits = search(node.db, typed)
    assert [hit.record.id for hit in hits] == [lesson], script
    # The snippet shows the text as written, the hit marked around the original word.
    snippet = hits[0].snippet
    assert written.split()[0] in snippet.replace(HIT_START, "").replace(HIT_END, "")
    marked = snippet[snippet.index(HIT_START) + 1 : snippet.index(HIT_END)]
    assert fold(marked) == fold(typed.split()[0])


def test_the_issue_examples_are_found_with_harakat_in_the_snippet(node: Node) -> None:
    lesson = add(
        node,
        title="تجربة المُدَرِّبين",
        language="ar",
        body="هذا ما تعلّمناه من المُدَرِّبين في الميدان.\n",
    )
    for typed in ("المدربين", "تعلمناه", "المُدَرِّبين"):
        hits = search(node.db, typed)
        assert [hit.record.id for hit in hits] == [lesson]
    body_hit = search(node.db, "تعلمناه")[0].snippet
    assert f"{HIT_START}تعلّمناه{HIT_END}" in body_hit


def test_marks_after_the_last_letter_stay_inside_the_marked_word(node: Node) -> None:
    add(node, title="درسٌ", body="كتبنا درسًا واحدًا.\n")
    snippet = search(node.db, "درسا")[0].snippet
    assert f"{HIT_START}درسًا{HIT_END}" in snippet


def test_fold_knows_where_each_folded_character_came_from() -> None:
    folded, origins = fold_with_origins("المُدَ")
    assert folded == "المد"
    assert origins == [0, 1, 2, 4]  # the damma at 3 went, the fatha at 5 too


def test_hamza_on_waw_stays_a_different_word() -> None:
    assert fold("مسؤول") != fold("مسوول")


def test_the_upgrade_folds_an_index_written_before_folding(node: Node) -> None:
    lesson = add(node, title="المُدَرِّبين", body="درس.\n")
    rowid = node.db.execute("SELECT rowid FROM records WHERE id = ?", [lesson]).fetchone()[0]
    # As a home made before folding holds it: the text as written, harakat and all.
    node.db.execute(
        "UPDATE records_fts SET title = ? WHERE rowid = ?", ["المُدَرِّبين", rowid]
    )
    assert search(node.db, "المدربين") == []
    m052_fold_search_index(node.db)
    assert [hit.record.id for hit in search(node.db, "المدربين")] == [lesson]


def test_a_hit_deep_in_a_long_body_is_cut_around_the_hit(node: Node) -> None:
    filler = "كلمة عادية في النص " * 300
    lesson = add(node, title="درس طويل", body=f"{filler}ثم تعلّمناه أخيرًا. {filler}\n")
    hits = search(node.db, "تعلمناه")
    assert [hit.record.id for hit in hits] == [lesson]
    snippet = hits[0].snippet
    assert snippet.startswith("…") and snippet.endswith("…")
    assert f"{HIT_START}تعلّمناه{HIT_END}" in snippet
    assert len(snippet.split()) <= 20


def test_fold_with_origins_maps_only_what_is_needed() -> None:
    text = "المُدَرِّبين " * 1000
    folded, origins = fold_with_origins(text, needed=20)
    assert 20 <= len(folded) < len(fold(text)) and len(origins) == len(folded)
    assert fold(text).startswith(folded)
