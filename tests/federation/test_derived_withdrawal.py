"""A withdrawal reaches translations made by other hubs (issue 11 item 4), at the protocol
level: who purges, who is told, what the receipt covers, what is refused afterwards."""

from __future__ import annotations

import dataclasses
import json

from archive.tombstones import is_tombstoned
from federation.propagation import accept_revocation, revoke
from federation.sharing import Offer
from node.node import Node
from tests.federation import test_revocation
from tests.federation.test_revocation import RESHAREABLE, admin_of, events, outbox, send
from tests.federation.test_sharing import add, count, lesson_of, peer_of, receive

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
