"""The decision functions, rule by rule, each with its reason code; then properties.

``decide_outbound`` answers "may this record go to that peer?" and ``decide_inbound`` "may
this record, sent by that peer, be stored here?". Both are pure, default to deny, and let
any one deny win (issue 4, "Decisions").
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.record import CONSENT_BASES, SCOPES, SENSITIVITIES, Consent, Subject
from federation.peers import PEER_STATUSES
from governance.approvals import ApprovalFacts
from governance.decisions import (
    Decision,
    PeerFacts,
    RecordFacts,
    decide_inbound,
    decide_outbound,
)
from governance.policy_file import DEFAULT_POLICY, PeerRules, Policy, parse_policy

NOW = 1_780_000_000
LOCAL = "LOCAL-NODE"
PEER = "PEER-NODE"
THIRD = "THIRD-NODE"
NO_APPROVALS = (("low", 0), ("medium", 0), ("high", 0))
# The default rules, except that no approvals are needed: consent rules stand alone.
POLICY = Policy(hash="test-policy", approvals=NO_APPROVALS)
DEFAULT = parse_policy(DEFAULT_POLICY, "policy.toml")
CURATOR = ApprovalFacts("Wanjiru", is_curator=True)


def consent(**changes: Any) -> Consent:
    """A consent that lets a record go to every trusted peer, changed as the test needs."""
    return dataclasses.replace(Consent(basis="consent", scope="federation"), **changes)


def record(**changes: Any) -> RecordFacts:
    facts = RecordFacts(
        record_id="ab" * 32,
        origin=LOCAL,
        consent=consent(),
        sensitivity="low",
        kind="checklist",
        author="Amina",
    )
    return dataclasses.replace(facts, **changes)


def peer(**changes: Any) -> PeerFacts:
    facts = PeerFacts(node_id=PEER, name="Manila Hub", region="Southeast Asia")
    return dataclasses.replace(facts, **changes)


def policy(**changes: Any) -> Policy:
    return dataclasses.replace(POLICY, **changes)


def outbound(facts: RecordFacts, to: PeerFacts | None = None, rules: Policy = POLICY) -> Decision:
    return decide_outbound(facts, to or peer(), rules, local_node=LOCAL, now=NOW)


def inbound(
    facts: RecordFacts, sender: PeerFacts | None = None, rules: Policy = POLICY
) -> Decision:
    return decide_inbound(facts, sender or peer(), rules, local_node=LOCAL, now=NOW)


def allows(decision: Decision) -> set[str]:
    return {reason.code for reason in decision.reasons if reason.allows}


def denials(decision: Decision) -> set[str]:
    return {reason.code for reason in decision.denials}


# --- Outbound: the record's consent ------------------------------------------------------


def test_a_consented_federation_record_goes_to_an_active_peer() -> None:
    decision = outbound(record())
    assert decision.allowed
    assert allows(decision) == {"peer_active", "scope_federation", "within_ceiling"}
    assert decision.denials == ()


def test_every_reason_has_plain_words_and_the_policy_hash_is_kept() -> None:
    for decision in (outbound(record()), outbound(record(consent=Consent())), inbound(record())):
        assert all(reason.text.strip() for reason in decision.reasons)
        assert decision.policy_hash == "test-policy"
        assert decision.codes == tuple(reason.code for reason in decision.reasons)


@pytest.mark.parametrize("status", ["suspended", "removed"])
def test_nothing_goes_to_a_peer_that_is_not_active(status: str) -> None:
    decision = outbound(record(), peer(status=status))
    assert not decision.allowed
    assert denials(decision) == {"peer_not_active"}


def test_nothing_goes_back_to_its_origin() -> None:
    decision = outbound(record(origin=PEER))
    assert not decision.allowed
    assert "peer_is_origin" in denials(decision)


def test_a_record_from_another_node_is_not_passed_on_without_reshare() -> None:
    decision = outbound(record(origin=THIRD, received_from=THIRD))
    assert not decision.allowed
    assert denials(decision) == {"no_reshare"}


def test_a_record_from_another_node_is_passed_on_when_its_consent_allows_reshare() -> None:
    decision = outbound(record(origin=THIRD, consent=consent(reshare=True)))
    assert decision.allowed
    assert "reshare_allowed" in allows(decision)


def test_our_own_records_need_no_reshare() -> None:
    assert not set(outbound(record()).codes) & {"reshare_allowed", "no_reshare"}


@pytest.mark.parametrize("basis", ["notice", "none"])
def test_a_record_without_consent_never_leaves(basis: str) -> None:
    decision = outbound(record(consent=consent(basis=basis)))
    assert not decision.allowed
    assert "no_consent" in denials(decision)


def test_the_default_consent_block_keeps_a_record_home() -> None:
    decision = outbound(record(consent=Consent()))
    assert not decision.allowed
    assert "no_consent" in denials(decision)


def test_a_local_scope_record_never_leaves() -> None:
    decision = outbound(record(consent=consent(scope="local")))
    assert not decision.allowed
    assert denials(decision) == {"scope_local"}


def test_peers_scope_goes_to_a_named_peer() -> None:
    decision = outbound(record(consent=consent(scope="peers", peers=(THIRD, PEER))))
    assert decision.allowed
    assert "named_peer" in allows(decision)


def test_peers_scope_does_not_go_to_a_peer_it_does_not_name() -> None:
    decision = outbound(record(consent=consent(scope="peers", peers=(THIRD,))))
    assert not decision.allowed
    assert denials(decision) == {"not_named_peer"}


def test_peers_scope_naming_nobody_goes_nowhere() -> None:
    decision = outbound(record(consent=consent(scope="peers")))
    assert denials(decision) == {"not_named_peer"}


@pytest.mark.parametrize("scope", ["federation", "public"])
def test_federation_and_public_scopes_go_to_any_trusted_peer(scope: str) -> None:
    decision = outbound(record(consent=consent(scope=scope)))
    assert decision.allowed
    assert f"scope_{scope}" in allows(decision)


def test_a_denied_region_wins_over_an_allowed_one() -> None:
    both = consent(regions_allow=("Southeast Asia",), regions_deny=("Southeast Asia",))
    decision = outbound(record(consent=both))
    assert not decision.allowed
    assert denials(decision) == {"region_denied"}


def test_a_region_outside_the_allow_list_is_refused() -> None:
    decision = outbound(record(consent=consent(regions_allow=("East Africa",))))
    assert not decision.allowed
    assert denials(decision) == {"region_not_allowed"}


def test_a_region_on_the_allow_list_goes() -> None:
    decision = outbound(record(consent=consent(regions_allow=("East Africa", "Southeast Asia"))))
    assert decision.allowed


def test_a_deny_list_for_other_regions_does_not_stop_this_peer() -> None:
    assert outbound(record(consent=consent(regions_deny=("East Africa",)))).allowed


@pytest.mark.parametrize("expires", [NOW - 1, NOW])
def test_an_expired_consent_never_allows(expires: int) -> None:
    decision = outbound(record(consent=consent(expires=expires)))
    assert not decision.allowed
    assert denials(decision) == {"consent_expired"}


def test_a_consent_that_expires_later_still_allows() -> None:
    assert outbound(record(consent=consent(expires=NOW + 1))).allowed


@pytest.mark.parametrize(
    "subject",
    [
        Subject("Amani", share=False),
        Subject("Amani", share=True, withdrawn=True),
    ],
    ids=["did-not-agree", "withdrew"],
)
def test_a_participant_who_has_not_agreed_withholds_the_record(subject: Subject) -> None:
    agreed = Subject("Bo", share=True)
    decision = outbound(record(consent=consent(subjects=(agreed, subject))))
    assert not decision.allowed
    assert denials(decision) == {"subject_withheld"}


@pytest.mark.parametrize("expires", [NOW - 1, NOW])
def test_a_participants_expired_consent_withholds_the_record(expires: int) -> None:
    subjects = (Subject("Bo", share=True), Subject("Amani", share=True, expires=expires))
    decision = outbound(record(consent=consent(subjects=subjects)))
    assert not decision.allowed
    assert denials(decision) == {"subject_expired"}


def test_participants_who_all_agreed_let_it_go() -> None:
    subjects = (Subject("Bo", share=True), Subject("Amani", share=True, expires=NOW + 60))
    assert outbound(record(consent=consent(subjects=subjects))).allowed


# --- Outbound: the policy ---------------------------------------------------------------


def test_high_sensitivity_is_above_the_default_ceiling() -> None:
    assert DEFAULT.rules_for(PEER, "Manila Hub").max_sensitivity == "medium"
    decision = outbound(record(sensitivity="high"))
    assert not decision.allowed
    assert denials(decision) == {"above_ceiling"}


@pytest.mark.parametrize(
    ("sensitivity", "ceiling", "allowed"),
    [
        ("low", "low", True),
        ("medium", "low", False),
        ("medium", "medium", True),
        ("high", "medium", False),
        ("high", "high", True),
    ],
)
def test_a_record_goes_only_within_the_peers_ceiling(
    sensitivity: str, ceiling: str, allowed: bool
) -> None:
    rules = policy(defaults=PeerRules(max_sensitivity=ceiling))
    decision = outbound(record(sensitivity=sensitivity), rules=rules)
    assert decision.allowed is allowed
    assert ("within_ceiling" in allows(decision)) is allowed
    assert ("above_ceiling" in denials(decision)) is not allowed


def test_the_operator_can_raise_one_peers_ceiling_by_id() -> None:
    rules = policy(peers=((PEER, PeerRules(max_sensitivity="high")),))
    assert outbound(record(sensitivity="high"), rules=rules).allowed
    other = peer(node_id=THIRD, name="Lima Hub")
    assert denials(outbound(record(sensitivity="high"), other, rules)) == {"above_ceiling"}


@pytest.mark.parametrize(
    ("rules", "facts", "code"),
    [
        (PeerRules(kinds_deny=frozenset({"checklist"})), {}, "kind_denied"),
        (PeerRules(kinds_allow=frozenset({"story"})), {}, "kind_not_allowed"),
        (PeerRules(tags_deny=frozenset({"legal"})), {"tags": ("safety", "legal")}, "tag_denied"),
        (PeerRules(tags_allow=frozenset({"safety"})), {"tags": ("legal",)}, "tag_not_allowed"),
        (PeerRules(tags_allow=frozenset({"safety"})), {}, "tag_not_allowed"),
    ],
)
def test_the_policy_limits_kinds_and_tags(
    rules: PeerRules, facts: dict[str, Any], code: str
) -> None:
    decision = outbound(record(**facts), rules=policy(defaults=rules))
    assert not decision.allowed
    assert denials(decision) == {code}


def test_a_kind_deny_wins_over_the_same_kind_allowed() -> None:
    both = PeerRules(kinds_allow=frozenset({"checklist"}), kinds_deny=frozenset({"checklist"}))
    assert denials(outbound(record(), rules=policy(defaults=both))) == {"kind_denied"}


def test_kinds_and_tags_on_the_allow_lists_go() -> None:
    rules = PeerRules(kinds_allow=frozenset({"checklist"}), tags_allow=frozenset({"safety"}))
    assert outbound(record(tags=("safety", "debrief")), rules=policy(defaults=rules)).allowed


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"regions_deny": frozenset({"Southeast Asia"})}, "peer_region_denied"),
        ({"regions_allow": frozenset({"Andes"})}, "peer_region_not_allowed"),
    ],
)
def test_the_policy_limits_the_regions_we_share_with(changes: dict[str, Any], code: str) -> None:
    decision = outbound(record(), rules=policy(**changes))
    assert not decision.allowed
    assert denials(decision) == {code}


def test_under_the_default_policy_medium_needs_one_curator_and_high_two() -> None:
    medium = record(sensitivity="medium")
    assert denials(outbound(medium, rules=DEFAULT)) == {"needs_approval"}
    approved = outbound(dataclasses.replace(medium, approvals=(CURATOR,)), rules=DEFAULT)
    assert approved.allowed
    assert "approved" in allows(approved)
    assert outbound(record(), rules=DEFAULT).allowed, "low needs no approval"
    raised = dataclasses.replace(DEFAULT, defaults=PeerRules(max_sensitivity="high"))
    high = record(sensitivity="high", approvals=(CURATOR,))
    assert denials(outbound(high, rules=raised)) == {"needs_approval"}
    two = dataclasses.replace(high, approvals=(CURATOR, ApprovalFacts("Diego", True)))
    assert outbound(two, rules=raised).allowed


@pytest.mark.parametrize(
    "approvals",
    [
        (ApprovalFacts("Amina", is_curator=True),),
        (ApprovalFacts("Diego", is_curator=False),),
        (CURATOR, CURATOR),
    ],
    ids=["the-author", "not-a-curator", "the-same-curator-twice"],
)
def test_approvals_that_do_not_count(approvals: tuple[ApprovalFacts, ...]) -> None:
    rules = dataclasses.replace(DEFAULT, approvals=(("low", 0), ("medium", 2), ("high", 2)))
    decision = outbound(record(sensitivity="medium", approvals=approvals), rules=rules)
    assert denials(decision) == {"needs_approval"}


def test_every_failing_rule_is_named() -> None:
    facts = record(
        origin=THIRD,
        sensitivity="high",
        tags=("legal",),
        consent=consent(
            scope="peers", peers=(THIRD,), regions_deny=("Southeast Asia",), expires=NOW
        ),
    )
    rules = dataclasses.replace(
        DEFAULT,
        defaults=PeerRules(tags_deny=frozenset({"legal"})),
        regions_deny=frozenset({"Southeast Asia"}),
    )
    decision = outbound(facts, peer(status="suspended"), rules)
    assert denials(decision) == {
        "peer_not_active",
        "no_reshare",
        "not_named_peer",
        "region_denied",
        "consent_expired",
        "above_ceiling",
        "tag_denied",
        "peer_region_denied",
        "needs_approval",
    }


# --- Inbound ----------------------------------------------------------------------------


def test_a_record_from_its_origin_comes_in() -> None:
    decision = inbound(record(origin=PEER))
    assert decision.allowed
    assert allows(decision) == {"peer_active", "from_origin"}
    assert not decision.quarantine


def test_a_record_claiming_to_be_ours_is_never_taken_back() -> None:
    decision = inbound(record(origin=LOCAL))
    assert not decision.allowed
    assert denials(decision) == {"own_origin"}


def test_a_record_from_a_suspended_sender_is_refused() -> None:
    decision = inbound(record(origin=PEER), peer(status="suspended"))
    assert not decision.allowed
    assert denials(decision) == {"peer_not_active"}


def test_a_third_partys_record_needs_reshare() -> None:
    decision = inbound(record(origin=THIRD))
    assert not decision.allowed
    assert denials(decision) == {"no_reshare"}


def test_a_third_partys_reshareable_record_comes_in() -> None:
    decision = inbound(record(origin=THIRD, consent=consent(reshare=True)))
    assert decision.allowed
    assert "reshare_allowed" in allows(decision)


def test_a_peers_scope_record_must_name_this_node() -> None:
    named_other = consent(scope="peers", peers=(THIRD,))
    assert denials(inbound(record(origin=PEER, consent=named_other))) == {"not_named_peer"}
    named_us = consent(scope="peers", peers=(LOCAL,))
    assert inbound(record(origin=PEER, consent=named_us)).allowed


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"basis": "notice"}, "no_consent"),
        ({"basis": "none"}, "no_consent"),
        ({"scope": "local"}, "scope_local"),
        ({"expires": NOW}, "consent_expired"),
        ({"subjects": (Subject("Amani", share=True, withdrawn=True),)}, "subject_withheld"),
        ({"subjects": (Subject("Amani", share=True, expires=NOW - 1),)}, "subject_expired"),
    ],
)
def test_inbound_refuses_what_should_never_have_left(changes: dict[str, Any], code: str) -> None:
    decision = inbound(record(origin=PEER, consent=consent(**changes)))
    assert not decision.allowed
    assert code in denials(decision)


def test_the_inbound_policy_refuses_kinds_and_tags() -> None:
    rules = policy(inbound_kinds_deny=frozenset({"story"}), inbound_tags_deny=frozenset({"legal"}))
    assert denials(inbound(record(origin=PEER, kind="story"), rules=rules)) == {"kind_refused"}
    tagged = record(origin=PEER, tags=("legal", "safety"))
    assert denials(inbound(tagged, rules=rules)) == {"tag_refused"}
    assert inbound(record(origin=PEER), rules=rules).allowed


def test_quarantine_holds_only_what_is_allowed() -> None:
    rules = policy(quarantine=True)
    allowed = inbound(record(origin=PEER), rules=rules)
    assert allowed.allowed and allowed.quarantine
    denied = inbound(record(origin=LOCAL), rules=rules)
    assert not denied.allowed and not denied.quarantine


# --- Properties over random consent blocks, policies and peers --------------------------

NODES = (LOCAL, PEER, THIRD)
REGIONS = ("East Africa", "Southeast Asia", "Andes")
TAGS = ("safety", "legal")
MEMBERS = ("Amina", "Wanjiru", "Diego")


def small_sets(values: tuple[str, ...]) -> st.SearchStrategy[frozenset[str]]:
    return st.frozensets(st.sampled_from(values), max_size=2)


subjects = st.builds(
    Subject,
    pseudonym=st.sampled_from(("Amani", "Bo", "Chi")),
    share=st.booleans(),
    expires=st.none() | st.integers(NOW - 3, NOW + 3),
    withdrawn=st.booleans(),
)
consents = st.builds(
    Consent,
    basis=st.sampled_from(CONSENT_BASES),
    scope=st.sampled_from(SCOPES),
    peers=st.lists(st.sampled_from(NODES), max_size=3, unique=True).map(tuple),
    regions_allow=st.lists(st.sampled_from(REGIONS), max_size=2, unique=True).map(tuple),
    regions_deny=st.lists(st.sampled_from(REGIONS), max_size=2, unique=True).map(tuple),
    reshare=st.booleans(),
    expires=st.none() | st.integers(NOW - 3, NOW + 3),
    subjects=st.lists(subjects, max_size=3).map(tuple),
)
records = st.builds(
    RecordFacts,
    record_id=st.just("cd" * 32),
    origin=st.sampled_from(NODES),
    consent=consents,
    sensitivity=st.sampled_from(SENSITIVITIES),
    kind=st.sampled_from(("checklist", "story")),
    tags=st.lists(st.sampled_from(TAGS), max_size=2, unique=True).map(tuple),
    author=st.sampled_from(MEMBERS),
    received_from=st.none() | st.sampled_from(NODES),
    approvals=st.lists(
        st.builds(ApprovalFacts, st.sampled_from(MEMBERS), st.booleans()), max_size=3
    ).map(tuple),
)
peer_rules = st.builds(
    PeerRules,
    max_sensitivity=st.sampled_from(SENSITIVITIES),
    kinds_allow=small_sets(("checklist", "story")),
    kinds_deny=small_sets(("checklist", "story")),
    tags_allow=small_sets(TAGS),
    tags_deny=small_sets(TAGS),
)
policies = st.builds(
    Policy,
    hash=st.just("random-policy"),
    defaults=peer_rules,
    regions_allow=small_sets(REGIONS),
    regions_deny=small_sets(REGIONS),
    approvals=st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 2)).map(
        lambda counts: tuple(zip(SENSITIVITIES, counts, strict=True))
    ),
    quarantine=st.booleans(),
    inbound_kinds_deny=small_sets(("checklist", "story")),
    inbound_tags_deny=small_sets(TAGS),
    peers=st.lists(st.tuples(st.sampled_from((PEER, "Lima Hub")), peer_rules), max_size=1).map(
        tuple
    ),
)
peers = st.builds(
    PeerFacts,
    node_id=st.sampled_from((PEER, THIRD)),
    name=st.sampled_from(("Manila Hub", "Lima Hub")),
    region=st.sampled_from(REGIONS),
    status=st.sampled_from(PEER_STATUSES),
)
both_ways = st.sampled_from(("outbound", "inbound"))


def decide(direction: str, facts: RecordFacts, other: PeerFacts, rules: Policy) -> Decision:
    return (
        outbound(facts, other, rules) if direction == "outbound" else inbound(facts, other, rules)
    )


def expected_outbound(facts: RecordFacts, to: PeerFacts, rules: Policy) -> bool:
    """The rules of issue 4, restated: every one must hold for a record to leave."""
    given = facts.consent
    for_peer = rules.rules_for(to.node_id, to.name)
    subjects_agree = all(
        subject.share
        and not subject.withdrawn
        and (subject.expires is None or subject.expires > NOW)
        for subject in given.subjects
    )
    curators = {
        approval.member
        for approval in facts.approvals
        if approval.is_curator and not (facts.origin == LOCAL and approval.member == facts.author)
    }
    return (
        to.status == "active"
        and facts.origin != to.node_id
        and (facts.origin == LOCAL or given.reshare)
        and given.basis == "consent"
        and (
            given.scope in ("federation", "public")
            or (given.scope == "peers" and to.node_id in given.peers)
        )
        and to.region not in given.regions_deny
        and (not given.regions_allow or to.region in given.regions_allow)
        and (given.expires is None or given.expires > NOW)
        and subjects_agree
        and SENSITIVITIES.index(facts.sensitivity) <= SENSITIVITIES.index(for_peer.max_sensitivity)
        and facts.kind not in for_peer.kinds_deny
        and (not for_peer.kinds_allow or facts.kind in for_peer.kinds_allow)
        and not set(facts.tags) & for_peer.tags_deny
        and (not for_peer.tags_allow or bool(set(facts.tags) & for_peer.tags_allow))
        and to.region not in rules.regions_deny
        and (not rules.regions_allow or to.region in rules.regions_allow)
        and len(curators) >= rules.approvals_needed(facts.sensitivity)
    )


@settings(max_examples=200)
@given(records, peers, policies)
def test_outbound_allows_exactly_when_every_rule_holds(
    facts: RecordFacts, to: PeerFacts, rules: Policy
) -> None:
    assert outbound(facts, to, rules).allowed is expected_outbound(facts, to, rules)


@settings(max_examples=80)
@given(both_ways, records, peers, policies)
def test_default_deny_and_deny_wins(
    direction: str, facts: RecordFacts, other: PeerFacts, rules: Policy
) -> None:
    decision = decide(direction, facts, other, rules)
    assert decision.reasons, "a decision always gives its reasons"
    assert decision.policy_hash == rules.hash
    if decision.allowed:
        assert all(reason.allows for reason in decision.reasons)
        assert any(reason.allows for reason in decision.reasons)
    if decision.denials:
        assert not decision.allowed
        assert not decision.quarantine
    if not any(reason.allows for reason in decision.reasons):
        assert not decision.allowed


@settings(max_examples=80)
@given(both_ways, records, peers, policies, st.integers(0, 3))
def test_an_expired_consent_never_allows_anything(
    direction: str, facts: RecordFacts, other: PeerFacts, rules: Policy, ago: int
) -> None:
    expired = dataclasses.replace(facts.consent, expires=NOW - ago)
    decision = decide(direction, dataclasses.replace(facts, consent=expired), other, rules)
    assert not decision.allowed
    if expired.basis == "consent":
        assert "consent_expired" in denials(decision)


@settings(max_examples=80)
@given(records, peers, policies)
def test_a_record_never_goes_above_a_peers_ceiling(
    facts: RecordFacts, to: PeerFacts, rules: Policy
) -> None:
    ceiling = rules.rules_for(to.node_id, to.name).max_sensitivity
    decision = outbound(facts, to, rules)
    if SENSITIVITIES.index(facts.sensitivity) > SENSITIVITIES.index(ceiling):
        assert not decision.allowed
        assert "above_ceiling" in denials(decision)


@settings(max_examples=80)
@given(both_ways, records, peers, policies)
def test_local_scope_or_no_consent_never_goes_anywhere(
    direction: str, facts: RecordFacts, other: PeerFacts, rules: Policy
) -> None:
    if facts.consent.scope == "local" or facts.consent.basis != "consent":
        assert not decide(direction, facts, other, rules).allowed


@settings(max_examples=80)
@given(both_ways, records, peers, policies)
def test_a_withheld_participant_always_stops_the_record(
    direction: str, facts: RecordFacts, other: PeerFacts, rules: Policy
) -> None:
    if any(not subject.share or subject.withdrawn for subject in facts.consent.subjects):
        assert not decide(direction, facts, other, rules).allowed


@settings(max_examples=80)
@given(records, peers, policies)
def test_a_record_never_goes_back_to_its_origin(
    facts: RecordFacts, to: PeerFacts, rules: Policy
) -> None:
    if facts.origin == to.node_id:
        assert not outbound(facts, to, rules).allowed


@settings(max_examples=80)
@given(both_ways, records, peers, policies)
def test_decisions_are_pure(
    direction: str, facts: RecordFacts, other: PeerFacts, rules: Policy
) -> None:
    before = (dataclasses.astuple(facts), dataclasses.astuple(other), rules)
    first = decide(direction, facts, other, rules)
    assert decide(direction, facts, other, rules) == first
    assert (dataclasses.astuple(facts), dataclasses.astuple(other), rules) == before
