"""Per-peer policy sections resolve to node ids; whatever cannot be resolved fails closed."""

from __future__ import annotations

from archive.record import Consent
from crypto.signing import SigningIdentity
from governance.decisions import PeerFacts, RecordFacts, decide_outbound
from governance.policy_binding import bind_policy, binding_warnings
from governance.policy_file import DEFAULT_POLICY, Policy, parse_policy

MANILA = SigningIdentity.from_seed(b"\x01" * 32).node_id
IMPOSTOR = SigningIdentity.from_seed(b"\x02" * 32).node_id
LOCAL = SigningIdentity.from_seed(b"\x03" * 32).node_id
NOW = 1_700_000_000
RAISED = '\n[peers."Manila Hub"]\nmax_sensitivity = "high"\n'
NARROWED = '\n[peers."Manila Hub"]\nmax_sensitivity = "low"\n'


def policy(extra: str) -> Policy:
    text = DEFAULT_POLICY.replace("high = 2", "high = 0").replace("medium = 1", "medium = 0")
    return parse_policy(text + extra, "policy.toml")


def decide(bound: Policy, node_id: str, name: str, sensitivity: str) -> tuple[bool, set[str]]:
    record = RecordFacts(
        record_id="ab" * 32,
        origin=LOCAL,
        consent=Consent(basis="consent", scope="federation"),
        sensitivity=sensitivity,
        kind="checklist",
    )
    peer = PeerFacts(node_id=node_id, name=name, region="Southeast Asia")
    decision = decide_outbound(record, peer, bound, local_node=LOCAL, now=NOW)
    return decision.allowed, {reason.code for reason in decision.denials}


def test_a_node_id_key_means_that_node_whatever_it_is_called() -> None:
    bound = bind_policy(policy(f'\n[peers."{MANILA}"]\nmax_sensitivity = "high"\n'),
                        {MANILA: "Manila Hub", IMPOSTOR: "Impostor"}, {})  # fmt: skip
    assert decide(bound, MANILA, "Manila Hub", "high") == (True, set())
    assert decide(bound, IMPOSTOR, "Impostor", "high") == (False, {"above_ceiling"})
    assert binding_warnings(bound) == []


def test_a_name_binds_only_once_confirmed() -> None:
    unconfirmed = bind_policy(policy(RAISED), {MANILA: "Manila Hub"}, {})
    assert unconfirmed.binding is not None
    assert unconfirmed.binding.unconfirmed == (("Manila Hub", MANILA),)
    assert decide(unconfirmed, MANILA, "Manila Hub", "low") == (False, {"policy_binding"})
    assert "not yet confirmed" in binding_warnings(unconfirmed)[0]
    confirmed = bind_policy(policy(RAISED), {MANILA: "Manila Hub"}, {"manila hub": MANILA})
    assert decide(confirmed, MANILA, "Manila Hub", "high") == (True, set())
    assert binding_warnings(confirmed) == []


def test_a_peer_of_the_bound_name_is_not_the_bound_peer() -> None:
    """Bound to Manila; another peer now carries the name: it gets nothing, and the operator
    is told. Manila keeps its rules (its node id is what was confirmed)."""
    peers = {MANILA: "Manila Hub (old)", IMPOSTOR: "Manila Hub"}
    bound = bind_policy(policy(NARROWED), peers, {"manila hub": MANILA})
    assert decide(bound, IMPOSTOR, "Manila Hub", "low") == (False, {"policy_binding"})
    assert decide(bound, MANILA, "Manila Hub (old)", "medium") == (False, {"above_ceiling"})
    warnings = " ".join(binding_warnings(bound))
    assert "not to this peer of that name" in warnings and "now named" in warnings


def test_several_peers_of_one_name_get_nothing() -> None:
    peers = {MANILA: "Manila Hub", IMPOSTOR: "manila hub "}
    bound = bind_policy(policy(NARROWED), peers, {})
    for node_id, name in peers.items():
        assert decide(bound, node_id, name, "low") == (False, {"policy_binding"})
    assert "several peers are named" in binding_warnings(bound)[0]


def test_two_sections_for_one_peer_fail_closed() -> None:
    extra = NARROWED + f'\n[peers."{MANILA}"]\nmax_sensitivity = "high"\n'
    bound = bind_policy(policy(extra), {MANILA: "Manila Hub"}, {"manila hub": MANILA})
    assert decide(bound, MANILA, "Manila Hub", "low") == (False, {"policy_binding"})
    assert "both mean" in binding_warnings(bound)[0]


def test_a_section_for_no_peer_is_reported_and_harms_no_one() -> None:
    bound = bind_policy(policy(NARROWED), {IMPOSTOR: "Impostor"}, {})
    assert binding_warnings(bound) == ['[peers."Manila Hub"] names no peer of this node']
    assert decide(bound, IMPOSTOR, "Impostor", "medium") == (True, set())


def test_an_unresolved_policy_never_matches_by_name() -> None:
    """A policy read without the peer directory (no binding) applies node-id keys only, and
    refuses a peer whose name a section carries rather than give it the defaults."""
    raw = policy(NARROWED)
    assert raw.rules_for(MANILA, "Manila Hub") == raw.defaults
    assert decide(raw, MANILA, "Manila Hub", "low") == (False, {"policy_binding"})
    assert decide(raw, IMPOSTOR, "Impostor", "medium") == (True, set())
