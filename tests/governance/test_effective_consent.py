"""Effective consent in the decision function (issue 11 items 2 and 4): a record leaves only
where every record bounding it may go, and adding a bound never widens anything."""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from archive.record import SENSITIVITIES, Consent
from governance.decisions import PeerFacts, RecordFacts, decide_outbound
from governance.effective_consent import Bound
from tests.governance.test_decisions import (
    LOCAL,
    NODES,
    NOW,
    PEER,
    POLICY,
    THIRD,
    consents,
    peers,
    policies,
    records,
)

OPEN = Consent("consent", "federation", reshare=True)
TO_PEER = PeerFacts(PEER, "Lima Hub", "Andes")


def facts(**changes: Any) -> RecordFacts:
    base = RecordFacts("ab" * 32, LOCAL, OPEN, "low", "story")
    return dataclasses.replace(base, **changes)


def later(consent: Consent, origin: str = LOCAL, sensitivity: str = "low") -> Bound:
    return Bound("cd" * 32, "later", origin, consent, sensitivity)


def original(consent: Consent, origin: str = THIRD) -> Bound:
    return Bound("ef" * 32, "original", origin, consent)


def outbound(record: RecordFacts, peer: PeerFacts = TO_PEER) -> Any:
    return decide_outbound(record, peer, POLICY, local_node=LOCAL, now=NOW)


def test_a_later_version_that_narrows_consent_holds_back_the_earlier_one() -> None:
    narrowed = later(Consent("consent", "local"))
    decision = outbound(facts(bounds=(narrowed,)))
    assert not decision.allowed
    [denial] = decision.denials
    assert denial.code == "later:scope_local"
    assert denial.text.startswith("a later version (cdcdcdcd) narrowed consent: ")
    assert "scope is local" in denial.text
    assert outbound(facts()).allowed


def test_a_later_version_that_raises_sensitivity_holds_back_the_earlier_one() -> None:
    decision = outbound(facts(bounds=(later(OPEN, sensitivity="high"),)))
    assert [d.code for d in decision.denials] == ["later:above_ceiling"]


def test_a_translation_of_another_origins_record_needs_its_reshare() -> None:
    no_reshare = original(dataclasses.replace(OPEN, reshare=False))
    decision = outbound(facts(bounds=(no_reshare,)))
    assert [d.code for d in decision.denials] == ["original:no_reshare"]
    assert "the original it derives from (efefefef) limits where it may go" in (
        decision.denials[0].text
    )
    # The original's own origin gets the translation back: it learns nothing new from it.
    to_its_origin = dataclasses.replace(TO_PEER, node_id=THIRD)
    assert outbound(facts(bounds=(no_reshare,)), to_its_origin).allowed
    # Our own original: passing on our own lesson needs no reshare.
    assert outbound(facts(bounds=(original(no_reshare.consent, origin=LOCAL),))).allowed


def test_a_translation_goes_only_to_the_peers_its_original_names() -> None:
    only_third = original(Consent("consent", "peers", peers=(THIRD,), reshare=True))
    assert [d.code for d in outbound(facts(bounds=(only_third,))).denials] == [
        "original:not_named_peer"
    ]


def test_a_translation_of_an_original_we_do_not_hold_goes_nowhere() -> None:
    unknown = Bound("ef" * 32, "unknown", "", None)
    decision = outbound(facts(bounds=(unknown,)))
    assert [d.code for d in decision.denials] == ["original_unknown"]
    assert "does not hold" in decision.denials[0].text


bounds = st.builds(
    Bound,
    record_id=st.sampled_from(("cd" * 32, "ef" * 32)),
    relation=st.sampled_from(("later", "original", "unknown")),
    origin=st.sampled_from(NODES),
    consent=st.none() | consents,
    sensitivity=st.sampled_from(SENSITIVITIES),
)


@settings(max_examples=400)
@given(record=records, existing=st.lists(bounds, max_size=3), extra=bounds, peer=peers,
       policy=policies)  # fmt: skip
def test_adding_a_bound_never_widens_the_decision(
    record: RecordFacts, existing: list[Bound], extra: Bound, peer: PeerFacts, policy: Any
) -> None:
    """Narrowing is monotone: a version or translation link can only take permissions away."""
    before = decide_outbound(
        dataclasses.replace(record, bounds=tuple(existing)), peer, policy, local_node=LOCAL, now=NOW
    )
    after = decide_outbound(
        dataclasses.replace(record, bounds=(*existing, extra)), peer, policy, local_node=LOCAL,
        now=NOW,
    )  # fmt: skip
    assert not after.allowed or before.allowed
    assert {r.code for r in before.denials} <= {r.code for r in after.denials}


@settings(max_examples=300)
@given(record=records, bound=bounds, peer=peers)
def test_a_bound_allows_exactly_when_its_own_record_would(
    record: RecordFacts, bound: Bound, peer: PeerFacts
) -> None:
    """With a bound, the record leaves iff it leaves alone and the bound's consent (as a
    record of the bound's origin) would let the bound leave too."""
    with_bound = outbound(dataclasses.replace(record, bounds=(bound,)), peer).allowed
    alone = outbound(record, peer).allowed
    if bound.consent is None:
        assert not with_bound
        return
    as_record = RecordFacts("ef" * 32, bound.origin, bound.consent, bound.sensitivity, record.kind)
    bound_allows = (
        bound.origin == peer.node_id
        or outbound(dataclasses.replace(as_record, tags=record.tags), peer).allowed
    )
    assert with_bound == (alone and bound_allows)
