"""The version rule, pure: who may supersede, what widens, what a widening needs to leave."""

from __future__ import annotations

from dataclasses import replace

import pytest

from archive.record import Consent, Subject
from governance.approvals import ApprovalFacts
from governance.decisions import PeerFacts, RecordFacts, decide_outbound
from governance.policy_file import DEFAULT_POLICY, parse_policy
from governance.versions import (
    VersionTerms,
    Widening,
    approvals_for_widening,
    may_supersede,
    widened_consent,
    widening,
)

LOCAL, PEER = "LOCAL-NODE", "PEER-NODE"
NOW = 1_700_000_000
POLICY = parse_policy(DEFAULT_POLICY, "policy.toml")
NEEDED = dict(POLICY.approvals)
BASE = Consent(
    basis="consent",
    scope="peers",
    peers=("A",),
    regions_allow=("East Africa",),
    regions_deny=("Andes",),
    reshare=False,
    expires=NOW + 100,
    purposes=("training",),
    subjects=(Subject("Kite", share=True, expires=NOW + 100),),
)


def terms(sensitivity: str = "medium", **changes: object) -> VersionTerms:
    return VersionTerms(replace(BASE, **changes), sensitivity)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("editor", "roles", "allowed"),
    [
        ("amina", ("author",), True),
        ("rogue", ("author",), False),
        ("rogue", ("author", "curator"), False),
        ("admin", ("admin",), False),
        ("sefu", ("steward",), True),
    ],
)
def test_only_the_author_or_a_steward_may_supersede(
    editor: str, roles: tuple[str, ...], allowed: bool
) -> None:
    assert may_supersede(editor, roles, "amina") is allowed


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"basis": "consent"}, None),
        ({"scope": "federation"}, "scope"),
        ({"peers": ("A", "B")}, "peers"),
        ({"regions_allow": ()}, "regions_allow"),
        ({"regions_allow": ("East Africa", "Andes")}, "regions_allow"),
        ({"regions_deny": ()}, "regions_deny"),
        ({"reshare": True}, "reshare"),
        ({"expires": NOW + 200}, "expires"),
        ({"expires": None}, "expires"),
        ({"purposes": ("training", "press")}, "purposes"),
        ({"purposes": ()}, "purposes"),
        ({"subjects": ()}, "subjects"),
        ({"subjects": (Subject("Kite", share=True, expires=None),)}, "subjects"),
        ({"subjects": (Subject("Kite", share=True, photographed=True, expires=NOW + 100),)},
         "subjects"),
    ],
)  # fmt: skip
def test_every_consent_field_can_widen(changes: dict[str, object], field: str | None) -> None:
    found = widened_consent(BASE, replace(BASE, **changes))  # type: ignore[arg-type]
    assert found == ({field} if field else set())


@pytest.mark.parametrize(
    "changes",
    [
        {"scope": "local"},
        {"peers": ()},
        {"regions_allow": ("east africa",)},  # the same region, another spelling
        {"regions_deny": ("Andes", "Sahel")},
        {"expires": NOW + 50},
        {"purposes": ("training",)},
        {"subjects": (*BASE.subjects, Subject("Heron"))},
        {"subjects": (Subject("Kite", share=False, expires=NOW + 100),)},
        {"basis": "notice"},
    ],
)
def test_narrowing_or_keeping_is_not_a_widening(changes: dict[str, object]) -> None:
    assert widening([terms()], terms(**changes)) is None


def test_a_lower_sensitivity_is_a_widening_and_a_higher_one_is_not() -> None:
    assert widening([terms("high")], terms("low")) == Widening(("sensitivity",), "high")
    assert widening([terms("low")], terms("high")) is None


def test_the_widening_is_measured_against_every_earlier_version() -> None:
    """v1 local/high, v2 the unapproved widening, v3 an unchanged copy of v2: still wide."""
    v1 = terms("high", scope="local")
    v2 = terms("low", scope="federation")
    found = widening([v2, v1], v2)
    assert found == Widening(("scope", "sensitivity"), "high")
    assert widening([], v2) is None


@pytest.mark.parametrize(
    ("strictest", "new", "needed"),
    [("high", "low", 2), ("medium", "low", 1), ("low", "low", 1), ("low", "high", 2)],
)
def test_a_widening_needs_the_stricter_terms_approvals_and_at_least_one(
    strictest: str, new: str, needed: int
) -> None:
    assert approvals_for_widening(NEEDED, new, Widening(("scope",), strictest)) == needed


def widened_record(*approvals: ApprovalFacts, author: str = "sefu") -> RecordFacts:
    return RecordFacts(
        record_id="ab" * 32,
        origin=LOCAL,
        consent=Consent(basis="consent", scope="federation"),
        sensitivity="low",
        kind="checklist",
        author=author,
        approvals=approvals,
        widening=Widening(("scope", "sensitivity"), "high"),
    )


def decide(record: RecordFacts) -> tuple[bool, set[str], str]:
    peer = PeerFacts(node_id=PEER, name="Manila Hub", region="Southeast Asia")
    decision = decide_outbound(record, peer, POLICY, local_node=LOCAL, now=NOW)
    texts = " ".join(reason.text for reason in decision.reasons)
    return decision.allowed, {reason.code for reason in decision.denials}, texts


def test_a_widened_version_waits_for_the_stricter_terms_approvals() -> None:
    allowed, denied, text = decide(widened_record())
    assert not allowed and denied == {"widened_needs_approval"}
    assert "widens the terms of an earlier one (scope, sensitivity)" in text
    assert "needs 2 curator approvals other than its editor's, has 0" in text
    one = ApprovalFacts("chidi", True)
    assert decide(widened_record(one))[1] == {"widened_needs_approval"}
    # The editor's own approval never counts, nor a non-curator's.
    own, non_curator = ApprovalFacts("sefu", True), ApprovalFacts("amina", False)
    assert decide(widened_record(one, own, non_curator))[1] == {"widened_needs_approval"}
    allowed, denied, text = decide(widened_record(one, ApprovalFacts("cora", True)))
    assert allowed and not denied
    assert "has 2 of the 2 curator approvals" in text


def test_a_peers_widened_record_is_its_origins_business() -> None:
    """Widening is checked where the version was made; a received record has no widening
    facts, and if it had, our node could not have approved it at its origin."""
    record = replace(
        widened_record(),
        origin="OTHER-NODE",
        consent=Consent("consent", "federation", reshare=True),
    )
    assert "widened_needs_approval" not in decide(record)[1]
