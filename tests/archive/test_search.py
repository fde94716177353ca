"""Full-text search: diacritic- and case-folding, ranked, with snippets; nothing typed breaks it."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.queries import load_record
from archive.record import Lesson
from archive.search import (
    HIT_END,
    HIT_START,
    MAX_QUERY,
    InvalidQuery,
    SearchFilters,
    mark_hits,
    search,
)
from archive.search_snippet import _WORD as snippet_words
from archive.search_snippet import Hits, _cut, _cut_words, _words_up_to
from archive.verify import verify_archive
from node.importer import import_folder
from node.node import Node
from tests.conftest import FakeClock


@pytest.fixture
def archive(node: Node, samples: Path) -> Node:
    """A node holding every shipped sample lesson."""
    report = import_folder(node, samples)
    assert report.rejected == []
    assert len(report.imported) == len(list(samples.glob("*.md")))
    return node


def make_lesson(node: Node, **changes: Any) -> Lesson:
    lesson = Lesson(
        kind="checklist",
        title="Untitled",
        body="Nothing to see.\n",
        language="en",
        region="East Africa",
        created=int(node.clock()),
        origin=node.public_key,
        author="admin",
    )
    return dataclasses.replace(lesson, **changes)


def add(node: Node, **changes: Any) -> str:
    return node.writer.add_lesson(make_lesson(node, **changes)).id_hex


def hit_ids(hits: list[Any]) -> list[str]:
    return [hit.record.id for hit in hits]


def test_comunicacion_finds_the_spanish_lesson_with_comunicacion(archive: Node) -> None:
    hits = search(archive.db, "comunicacion")
    assert hits
    for hit in hits:
        lesson = load_record(archive.db, hit.record.id).lesson
        text = " ".join([lesson.title, lesson.summary, lesson.body]).lower()
        assert "comunicación" in text
        assert hit.record.language == "es"


@pytest.mark.parametrize("query", ["COMUNICACION", "Comunicación", "comunicaciÓn"])
def test_search_folds_case_and_diacritics(archive: Node, query: str) -> None:
    assert hit_ids(search(archive.db, query)) == hit_ids(search(archive.db, "comunicacion"))


def test_diacritics_fold_the_other_way_too(node: Node) -> None:
    lesson_id = add(node, title="Communication plan", body="Plain comunicacion here.\n")
    assert hit_ids(search(node.db, "comunicación")) == [lesson_id]


def test_a_title_match_ranks_before_a_body_only_match(node: Node) -> None:
    body_only = add(
        node,
        title="Notes from the coast",
        body="The marshal team met. " * 3 + "Marshals rotated every hour.\n",
    )
    in_title = add(node, title="Marshal briefing", body="Who stands where, and why.\n")
    assert hit_ids(search(node.db, "marshal")) == [in_title, body_only]


def test_every_word_must_match(node: Node) -> None:
    both = add(node, title="Glossary and interpretation")
    add(node, title="Glossary only")
    assert hit_ids(search(node.db, "glossary interpretation")) == [both]


def test_the_snippet_marks_the_hit(archive: Node) -> None:
    [first, *_] = search(archive.db, "comunicacion")
    assert HIT_START in first.snippet and HIT_END in first.snippet
    marked = first.snippet[first.snippet.index(HIT_START) + 1 : first.snippet.index(HIT_END)]
    assert marked.lower().startswith("comunicaci")
    assert "<b>" in mark_hits(first.snippet, "<b>", "</b>")
    assert HIT_START not in mark_hits(first.snippet, "<b>", "</b>")


@pytest.fixture
def drills(node: Node) -> dict[str, str]:
    """Four lessons that all mention 'drill', differing in one filterable field each."""
    return {
        "checklist-en": add(node, title="Press drill", kind="checklist", tags=("media",)),
        "module-es": add(
            node, title="Simulacro drill", kind="training_module", language="es", tags=("media",)
        ),
        "story-fr": add(
            node, title="Drill story", kind="story", language="fr", region="West Africa"
        ),
        "brief-en": add(node, title="Drill brief", kind="action_brief", tags=("safety", "legal")),
    }


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (SearchFilters(), {"checklist-en", "module-es", "story-fr", "brief-en"}),
        (SearchFilters(kind="story"), {"story-fr"}),
        (SearchFilters(language="es"), {"module-es"}),
        (SearchFilters(language="en"), {"checklist-en", "brief-en"}),
        (SearchFilters(region="West Africa"), {"story-fr"}),
        (SearchFilters(tag="media"), {"checklist-en", "module-es"}),
        (SearchFilters(tag="Safety"), {"brief-en"}),
        (SearchFilters(tag="safe"), set()),
        (SearchFilters(kind="checklist", tag="media"), {"checklist-en"}),
        (SearchFilters(kind="story", language="en"), set()),
    ],
    ids=["none", "kind", "language-es", "language-en", "region", "tag", "tag-case", "tag-exact",
         "kind-and-tag", "no-match"],
)  # fmt: skip
def test_filters(
    node: Node, drills: dict[str, str], filters: SearchFilters, expected: set[str]
) -> None:
    found = set(hit_ids(search(node.db, "drill", filters)))
    assert found == {drills[name] for name in expected}


def test_prefix_search(node: Node) -> None:
    security = add(node, title="Digital security basics")
    secure = add(node, title="Secure messaging")
    add(node, title="Secretary duties")
    assert set(hit_ids(search(node.db, "secur*"))) == {security, secure}
    assert search(node.db, "secur") == []


def test_only_the_newest_version_is_found(node: Node, clock: FakeClock) -> None:
    v1 = node.writer.add_lesson(make_lesson(node, title="Ocelot protocol v1"))
    clock.advance(60)
    v2 = add(node, title="Ocelot protocol v2", supersedes=v1.record_id)
    assert hit_ids(search(node.db, "ocelot")) == [v2]
    assert search(node.db, "v1") == []


def test_limit_and_offset(node: Node) -> None:
    made = {add(node, title=f"Heron lesson {number}") for number in range(5)}
    first = hit_ids(search(node.db, "heron", limit=3))
    rest = hit_ids(search(node.db, "heron", limit=3, offset=3))
    assert len(first) == 3 and len(rest) == 2
    assert set(first) | set(rest) == made


@pytest.mark.parametrize("query", ["", "   ", "*", "-", '"', "()", "—", "x" * (MAX_QUERY + 1)])
def test_empty_or_overlong_queries_are_invalid(archive: Node, query: str) -> None:
    with pytest.raises(InvalidQuery):
        search(archive.db, query)


FTS_SYNTAX = [
    '"',
    '"unbalanced quote',
    "(",
    "(safety OR",
    "safety)",
    "AND",
    "safety AND",
    "OR NOT",
    "NOT safety",
    "NEAR(safety debrief)",
    "NEAR(safety debrief, 2)",
    "safety NEAR/3 debrief",
    "*",
    "safety*",
    "*safety",
    "saf*ety",
    "-",
    "-safety",
    "safety -debrief",
    "title:safety",
    "{title body}: safety",
    "^safety",
    "safety + debrief",
    "don't",
    "l'interprétation",
    "'quoted'",
    'a"b',
    "safety;DROP TABLE records",
    "_",
    "_*",
    "²*",
    "\x00safety",
    "safety\u200b*",
]


@pytest.mark.parametrize("query", FTS_SYNTAX)
def test_fts_syntax_in_the_query_never_raises_an_sqlite_error(archive: Node, query: str) -> None:
    try:
        hits = search(archive.db, query)
    except InvalidQuery:
        return
    assert isinstance(hits, list)


def test_fts_keywords_are_searched_as_words(node: Node) -> None:
    lesson_id = add(node, title="Near and far: or not")
    for query in ("near", "AND", "or", "NOT", "near AND far"):
        assert hit_ids(search(node.db, query)) == [lesson_id], query


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.text(max_size=80)
    | st.lists(
        st.sampled_from(['"', "(", ")", "*", "-", "+", "^", ":", "AND", "OR", "NOT", "NEAR",
                         "NEAR(", ",", "{", "}", "safety", "é", "_", " "]),
        max_size=12,
    ).map("".join)
)  # fmt: skip
def test_arbitrary_text_returns_a_list_or_invalid_query(archive: Node, query: str) -> None:
    try:
        hits = search(archive.db, query)
    except InvalidQuery:
        return
    assert isinstance(hits, list)


def test_a_snippet_reads_the_stored_bytes_and_verify_still_names_a_broken_signature(
    node: Node,
) -> None:
    # Snippets are display: the signature was checked when the lesson was stored, and
    # `verify` checks it again (docs/explanation/tamper-evidence.md), not every search.
    lesson = add(node, title="Radio", body="We trained the radio volunteers.\n")
    row = node.db.execute("SELECT envelope FROM records WHERE id = ?", [lesson]).fetchone()
    envelope = bytearray(row[0])
    envelope[-1] ^= 0x01  # the signature is the envelope's last item
    node.db.execute("UPDATE records SET envelope = ? WHERE id = ?", [bytes(envelope), lesson])
    hits = search(node.db, "volunteers")
    assert hit_ids(hits) == [lesson]
    assert f"{HIT_START}volunteers{HIT_END}" in hits[0].snippet
    problems = verify_archive(node.db, node.public_key).problems
    assert {"item": f"record {lesson}", "problem": "signed bytes do not verify"} in [
        {**problem, "problem": problem["problem"].split(" (")[0]} for problem in problems
    ]


def test_a_record_whose_stored_bytes_are_no_record_is_found_without_a_snippet(
    node: Node,
) -> None:
    damaged = add(node, title="Radio", body="We trained the radio volunteers.\n")
    kept = add(node, title="Radio two", body="More radio volunteers trained.\n")
    node.db.execute("UPDATE records SET envelope = ? WHERE id = ?", [b"\x93junk", damaged])
    hits = {hit.record.id: hit.snippet for hit in search(node.db, "volunteers")}
    assert hits[damaged] == ""
    assert HIT_START in hits[kept]


@settings(max_examples=200, deadline=None)
@given(
    words=st.lists(
        st.sampled_from(["radio", "é", "درسًا", "x", "-", "  ", ".\n", "ab_c"]), max_size=80
    ),
    picks=st.lists(st.integers(min_value=0, max_value=79), max_size=8),
)
def test_a_snippet_looks_at_only_the_words_its_window_can_reach(
    words: list[str], picks: list[int]
) -> None:
    text = " ".join(words)
    every = [match.span() for match in snippet_words.finditer(text)]
    spans = sorted({every[pick] for pick in picks if pick < len(every)})
    hits = Hits(text, spans)
    last_hit = max((after for _first, after in spans), default=0)
    assert _cut(hits, "[", "]") == _cut_words(hits, every, "[", "]")
    assert len(_words_up_to(text, last_hit, len(text))) <= len(every)
