"""A curator's key is stolen: the thief approves a lesson so that it leaves the hub.

Chidi, a curator, approved one lesson honestly. Later someone with Chidi's key approves a
second one (an approval is all a medium-sensitivity lesson needs to leave). The admin marks
Chidi's key compromised from a moment between the two (``rhizome member compromised chidi
--since TIME``). What must hold: the approval made after that moment no longer counts, so the
second lesson is held back again and the decision (``policy explain``) says why, naming
Chidi; the approval made before it still counts; Chidi (or whoever has the key) can no longer
act; and the mark is in the event log.
"""

from __future__ import annotations

import pytest

from archive.event_log import recent_events
from archive.record import Consent, Lesson
from federation.peers import get_peer, save_peer
from federation.sharing import Offer
from governance.members import MemberError
from node.actions.lessons import ApproveLesson, approve_lesson
from node.actions.member_keys import MarkCompromised, mark_member_compromised
from node.actions.members import AddMember, add_member
from node.node import Node
from tests.conftest import FakeClock

LIMA = "RK44D5U-JEUR7EB-2YNVG7M-INJ6IR6-3CFBAEF-OSQCHQ6-NYM542O-O236UAI"


def lesson(node: Node, title: str) -> str:
    written = node.writer.add_lesson(
        Lesson(
            kind="checklist", title=title, body="Bring water.\n", language="en",
            region="East Africa", created=node.now(), origin=node.public_key, author="admin",
            sensitivity="medium", consent=Consent(basis="consent", scope="federation"),
        )
    )  # fmt: skip
    return written.id_hex


def approval_denials(node: Node, record_id: str) -> list[str]:
    peer = get_peer(node.db, LIMA)
    assert peer is not None
    decision = Offer(node.db, node.node_id, node.policy(), node.now()).explain(record_id, peer)
    assert decision is not None
    return [reason.text for reason in decision.denials if reason.code == "needs_approval"]


def test_approvals_after_the_compromise_stop_counting(node: Node, clock: FakeClock) -> None:
    save_peer(node.db, LIMA, "Lima Hub", "Andes", "https://127.0.0.1:9", node.now())
    admin = node.member("admin")
    add_member(node, AddMember(admin, "chidi", ("curator",)))
    honest, stolen = lesson(node, "Approved honestly"), lesson(node, "Approved by the thief")
    approve_lesson(node, ApproveLesson(node.member("chidi"), honest))
    clock.advance(3600)
    taken_at = node.now()
    clock.advance(3600)
    approve_lesson(node, ApproveLesson(node.member("chidi"), stolen))  # the thief, as chidi
    assert approval_denials(node, honest) == [] and approval_denials(node, stolen) == []

    mark_member_compromised(node, MarkCompromised(admin, "chidi", taken_at))

    assert approval_denials(node, honest) == []  # made before the moment: still counts
    [why] = approval_denials(node, stolen)
    assert "chidi" in why and "compromised" in why
    with pytest.raises(MemberError):  # whoever holds the key can no longer act as chidi
        node.member("chidi")
    assert not node.paths.member_key("chidi").exists()
    [event] = [e for e in recent_events(node.db) if e.kind == "member.compromised"]
    assert event.subject == "chidi" and event.detail == {"since": taken_at}
