"""The holder's side of relearning (``own-revocations``): only the asker's own revocations,
in id order, a page at a time; and the marks a restore leaves, which hold back every offer
while an active peer has not answered."""

from __future__ import annotations

from archive.db import transaction
from archive.tombstones import store_revocation
from federation import endpoints, wire
from federation.peer_state import SUSPEND
from federation.peers import change_peer_status, get_peer, save_peer
from federation.relearn import answer_own_revocations
from federation.relearn_state import mark_restored, offers_held, pending_peers, unmark
from node.node import Node
from tests.conftest import START

LIMA = "RK44D5U-JEUR7EB-2YNVG7M-INJ6IR6-3CFBAEF-OSQCHQ6-NYM542O-O236UAI"
OTHER = "other-origin"


def revocations_of(node: Node, origin: str, count: int, prefix: str) -> list[bytes]:
    """``count`` stored revocations of ``origin`` (their bytes are what is answered)."""
    made = []
    with transaction(node.db):
        for index in range(count):
            envelope = f"{prefix}-{index}".encode()
            store_revocation(node.db, f"{prefix}{index:04d}", envelope, origin, START,
                             "consent-withdrawn", (f"{prefix}{index:04d}".ljust(64, "0"),),
                             None, START)  # fmt: skip
            made.append(envelope)
    return made


def ask(node: Node, after: str) -> dict[str, object]:
    peer = get_peer(node.db, LIMA)
    assert peer is not None
    body = wire.encode(endpoints.OWN_REVOCATIONS.request, {"after": after})
    return wire.decode(
        endpoints.OWN_REVOCATIONS.answer, answer_own_revocations(node.local_node(), peer, body)
    )


def test_a_peer_gets_its_own_revocations_a_page_at_a_time(node: Node) -> None:
    save_peer(node.db, LIMA, "Lima Hub", "Andes", "https://127.0.0.1:9", START)
    own = revocations_of(node, LIMA, wire.MAX_REVOCATIONS_PER_MESSAGE + 1, "aa")
    revocations_of(node, OTHER, 3, "bb")
    first = ask(node, "")
    assert first["revocations"] == own[:100] and first["more"] == 1
    second = ask(node, "aa0099")
    assert second == {"revocations": own[100:], "more": 0}
    assert ask(node, "aa0100") == {"revocations": [], "more": 0}


def test_a_restore_marks_the_paired_peers_and_holds_offers(node: Node) -> None:
    assert not offers_held(node.db) and mark_restored(node.db, START) == 0
    save_peer(node.db, LIMA, "Lima Hub", "Andes", "https://127.0.0.1:9", START)
    assert mark_restored(node.db, START) == 1
    assert pending_peers(node.db) == [LIMA] and offers_held(node.db)
    # A suspended peer stays marked but no longer holds the others back.
    change_peer_status(node.db, LIMA, SUSPEND)
    assert pending_peers(node.db) == [LIMA] and not offers_held(node.db)
    with transaction(node.db):
        unmark(node.db, LIMA)
    assert pending_peers(node.db) == []
