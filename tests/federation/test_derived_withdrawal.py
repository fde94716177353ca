"""A withdrawal reaches translations made by other hubs (issue 11 item 4), at the protocol
level: who purges, who is told, what the receipt covers, what is refused afterwards."""

from __future__ import annotations

import dataclasses
import json

import pytest

from archive.signed_record import SignedRecord
from archive.tombstones import is_tombstoned
from federation.propagation import accept_revocation, revoke
from federation.revocation import InvalidRevocation, issue_revocation
from federation.sharing import Offer
from node.node import Node
from tests.federation import test_revocation
from tests.federation.test_revocation import RESHAREABLE, admin_of, events, outbox, send
from tests.federation.test_sharing import add, count, lesson_of, peer_of, receive, strikes

chain = test_revocation.chain  # A trusts B, B trusts A and C (a fixture)


def test_a_hub_that_got_only_the_translation_is_told_and_purges_it(
    chain: dict[str, Node],
) -> None:
    a, b, c = chain["a"], chain["b"], chain["c"]
    original = add(a, "Original", consent=RESHAREABLE)
    send(a, b, original)
    translation = b.writer.add_lesson(
        dataclasses.replace(
            lesson_of(b, "Traducción", consent=RESHAREABLE),
            language="es",
            translation_of=original.record_id,
        )
    )
    send(b, c, translation)  # C never gets the original
    # C cannot pass it on: it does not know where the original may go.
    decision = Offer.of(c.local_node()).explain(translation.id_hex, peer_of(c, b))
    assert decision is not None and "original_unknown" in decision.codes

    revocation = revoke(a.local_node(), original.id_hex, admin_of(a), "safety", None)
    assert revocation.record_ids == (original.id_hex,)  # it names only A's own record

    receipt = accept_revocation(b.local_node(), revocation.envelope, peer_of(b, a))
    assert receipt.forwarded_to == (c.node_id,)  # C got only the translation
    assert count(b.db, "records") == count(b.db, "records_fts") == 0
    assert outbox(b) == [("revocation", revocation.revocation_id, c.node_id)]
    [detail] = b.db.execute("SELECT detail FROM events WHERE kind = 'record.purged'").fetchone()
    assert json.loads(detail)["dependents"] == 1

    accept_revocation(c.local_node(), revocation.envelope, peer_of(c, b))
    assert count(c.db, "records") == count(c.db, "records_fts") == 0
    assert is_tombstoned(c.db, translation.id_hex, b.node_id)
    assert events(c, "record.purged") == 1

    # The translation coming back is refused like a stale copy, and B is sent the withdrawal.
    result = receive(c, b, translation.envelope)
    assert result.rejected == [(translation.id_hex, "revoked")]
    assert result.revoked == [revocation.revocation_id]
    assert count(c.db, "records") == 0


def _translate(node: Node, title: str, original: SignedRecord) -> SignedRecord:
    return node.writer.add_lesson(
        dataclasses.replace(
            lesson_of(node, title, consent=RESHAREABLE),
            language="es",
            translation_of=original.record_id,
        )
    )


@pytest.mark.parametrize("batches", [["t1", "t2"], ["t2", "t1"], ["t1 t2"], ["t2 t1"]])
def test_a_translation_of_a_translation_of_a_withdrawn_lesson_is_refused_at_any_depth(
    chain: dict[str, Node], batches: list[str]
) -> None:
    """B, not yet told of the withdrawal, translates A's lesson (T1) and its translation
    (T2); A never held T1. Whatever the order and batching, A keeps neither."""
    a, b = chain["a"], chain["b"]
    original = add(a, "Original", consent=RESHAREABLE)
    send(a, b, original)
    revocation = revoke(a.local_node(), original.id_hex, admin_of(a), "safety", None)
    first = _translate(b, "Traducción", original)
    second = _translate(b, "Traducción de la traducción", first)
    by_name = {"t1": first, "t2": second}

    rejected: list[tuple[str | None, str]] = []
    for batch in batches:
        result = receive(a, b, *(by_name[name].envelope for name in batch.split()))
        if "t1" in batch:  # T2 alone is taken in (its original is unknown here) ...
            assert result.stored == [] and result.quarantined == []
            assert set(result.revoked) == {revocation.revocation_id}
        rejected += result.rejected

    # ... and purged as soon as T1 shows it derives from the withdrawn lesson.
    assert sorted(rejected) == sorted((r.id_hex, "revoked") for r in (first, second))
    assert count(a.db, "records") == count(a.db, "records_fts") == 0
    # T1 keeps a tombstone of its own (bound to B), so what derives from it stays out.
    assert is_tombstoned(a.db, first.id_hex, b.node_id)
    assert is_tombstoned(a.db, second.id_hex, b.node_id)
    assert strikes(a, b) == []  # a stale holder is not an attacker
    again = receive(a, b, second.envelope)
    assert again.rejected == [(second.id_hex, "revoked")]


def test_a_version_of_a_refused_translation_is_refused_too(chain: dict[str, Node]) -> None:
    a, b = chain["a"], chain["b"]
    original = add(a, "Original", consent=RESHAREABLE)
    send(a, b, original)
    revoke(a.local_node(), original.id_hex, admin_of(a), "safety", None)
    first = _translate(b, "Traducción", original)
    revised = b.writer.add_lesson(
        dataclasses.replace(
            lesson_of(b, "Traducción, revisada", consent=RESHAREABLE),
            language="es",
            supersedes=first.record_id,
        )
    )
    assert receive(a, b, first.envelope).rejected == [(first.id_hex, "revoked")]
    assert receive(a, b, revised.envelope).rejected == [(revised.id_hex, "revoked")]
    assert count(a.db, "records") == 0


def test_withdrawing_a_translation_names_only_the_translation_and_its_versions(
    chain: dict[str, Node],
) -> None:
    """A translates v2 of B's lesson (A never held v1) and its own lesson: withdrawing a
    translation names neither its original nor a record A does not know the origin of, so
    B takes the withdrawal, purges the translation and keeps its own lesson."""
    a, b = chain["a"], chain["b"]
    v1 = add(b, "Lesson", consent=RESHAREABLE)
    v2 = add(b, "Lesson, revised", consent=RESHAREABLE, supersedes=v1.record_id)
    send(b, a, v2)  # A never gets v1
    translation = _translate(a, "Lección", v2)
    revised = a.writer.add_lesson(
        dataclasses.replace(
            lesson_of(a, "Lección, revisada", consent=RESHAREABLE),
            language="es",
            supersedes=translation.record_id,
        )
    )
    own = add(a, "Our own", consent=RESHAREABLE)
    own_translation = _translate(a, "Lo nuestro", own)
    send(a, b, translation)

    revocation = revoke(a.local_node(), translation.id_hex, admin_of(a), "error", None)
    assert revocation.record_ids == tuple(sorted((translation.id_hex, revised.id_hex)))
    receipt = accept_revocation(b.local_node(), revocation.envelope, peer_of(b, a))
    assert receipt.holder == b.node_id and strikes(b, a) == []
    held = {row[0] for row in b.db.execute("SELECT id FROM records")}
    assert held == {v1.id_hex, v2.id_hex}

    other = revoke(a.local_node(), own_translation.id_hex, admin_of(a), "error", None)
    assert other.record_ids == (own_translation.id_hex,)  # never its original
    assert a.db.execute("SELECT 1 FROM records WHERE id = ?", [own.id_hex]).fetchone()
    assert a.db.execute("SELECT 1 FROM records WHERE id = ?", [v2.id_hex]).fetchone()


def test_a_revocation_naming_a_record_of_another_origin_is_still_refused(
    chain: dict[str, Node],
) -> None:
    """The receiver's check stays: a node that names another hub's record it holds in its
    own withdrawal is refused whole and struck (an honest node never makes one)."""
    a, b = chain["a"], chain["b"]
    theirs = add(b, "B's lesson", consent=RESHAREABLE)
    send(b, a, theirs)
    ours = add(a, "A's lesson", consent=RESHAREABLE)
    send(a, b, ours)
    forged = issue_revocation(
        a.identity, admin_of(a), [ours.id_hex, theirs.id_hex], "safety", int(a.clock())
    )
    with pytest.raises(InvalidRevocation, match="another origin"):
        accept_revocation(b.local_node(), forged.envelope, peer_of(b, a))
    assert count(b.db, "records") == 2 and len(strikes(b, a)) == 1
