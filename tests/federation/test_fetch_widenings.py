"""A fetched batch reads its records' earlier versions one by one (federation/sharing.py):
the same widenings as the whole archive's version chains give, without reading them all."""

from __future__ import annotations

from archive.record import Consent
from governance.versions import Widenings, WideningsOneByOne
from node.node import Node
from tests.federation.test_sharing import add, hubs, offer_of, peer_of

__all__ = ["hubs"]  # the fixture, shared with test_sharing
NARROW = Consent(basis="consent", scope="peers", peers=("Lima Hub",))
WIDE = Consent(basis="consent", scope="federation")


def test_one_by_one_finds_the_widenings_the_whole_chain_finds(hubs: dict[str, Node]) -> None:
    nairobi, lima = hubs["nairobi"], hubs["lima"]
    first = add(nairobi, "Kettling", consent=NARROW)
    second = add(nairobi, "Kettling, revised", consent=WIDE, supersedes=first.record_id)
    third = add(nairobi, "Kettling, third", consent=NARROW, supersedes=second.record_id)
    other = add(nairobi, "Water", consent=WIDE)
    whole = Widenings(nairobi.db, nairobi.node_id)
    few = WideningsOneByOne(nairobi.db, nairobi.node_id)
    found = {}
    for record in (first, second, third, other):
        lesson = record.lesson
        args = (record.id_hex, nairobi.node_id, lesson.consent, lesson.sensitivity)
        found[record.id_hex] = few.of(*args)
        assert found[record.id_hex] == whole.of(*args)
    assert found[second.id_hex] is not None  # wider than the first: needs approvals
    assert found[first.id_hex] is None and found[other.id_hex] is None
    # And a fetch withholds the unapproved widening, as the offer set does.
    asked = [record.record_id for record in (first, second, third, other)]
    handed, handled = offer_of(nairobi).envelopes_for(asked, peer_of(nairobi, lima), 1 << 20)
    assert handled == 4
    assert second.id_hex not in {record_id for record_id, _ in handed}
