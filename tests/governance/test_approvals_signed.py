"""An approval counts only when the member's certified key signed it for that record."""

from __future__ import annotations

from pathlib import Path

from governance.approvals import approval_facts, approve
from node.home import create_member
from node.node import Node
from tests.conftest import write_lesson


def curator(node: Node, name: str = "kofi") -> None:
    create_member(node.paths, node.db, node.identity, name, ("curator",), None, node.now())


def test_a_signed_approval_counts(node: Node, tmp_path: Path) -> None:
    curator(node)
    record = node.add_lesson_file(write_lesson(tmp_path, "a.md"))
    kofi = node.member("kofi")
    assert approve(
        node.db, node.identity, kofi, node.member_identity("kofi"), record.id_hex, False, node.now()
    )
    [fact] = approval_facts(node.db, record.id_hex)
    assert (fact.member, fact.is_curator) == ("kofi", True)


def test_an_approval_row_written_by_hand_counts_for_nothing(node: Node, tmp_path: Path) -> None:
    curator(node)
    record = node.add_lesson_file(write_lesson(tmp_path, "a.md"))
    other = node.add_lesson_file(write_lesson(tmp_path, "b.md", {"title": "B", "kind": "story"}))
    kofi = node.member("kofi")
    approve(
        node.db, node.identity, kofi, node.member_identity("kofi"), other.id_hex, False, node.now()
    )
    # Copy kofi's genuine approval of B onto A, and add one with junk bytes for zola.
    node.db.execute(
        "INSERT INTO approvals (record_id, member, at, envelope) "
        "SELECT ?, member, at, envelope FROM approvals WHERE record_id = ?",
        [record.id_hex, other.id_hex],
    )
    curator(node, "zola")
    node.db.execute(
        "INSERT INTO approvals (record_id, member, at, envelope) VALUES (?, 'zola', 0, ?)",
        [record.id_hex, b"not a signature"],
    )
    facts = {fact.member: fact.is_curator for fact in approval_facts(node.db, record.id_hex)}
    assert facts == {"kofi": False, "zola": False}
