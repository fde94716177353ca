"""The decision functions: may this record go to that peer, may it come in from that one?

Both are pure: they take facts (the record's consent and metadata, the peer, the policy,
the approvals, the time) and return a :class:`Decision` with every reason, as a machine
code and in plain words. Default deny: a record leaves only when every rule allows it, and
any one deny wins. Sync, push, bundles, the web UI and the API all go through them.
"""

from __future__ import annotations

from archive.derivation import may_supersede_origin
from archive.record import SENSITIVITIES
from governance.consent_checks import (
    check_consent_for_peer,
    check_consent_regions,
    check_expiry,
    check_reshare,
    same_region,
)
from governance.decision_facts import Decision, PeerFacts, Reason, Reasons, RecordFacts
from governance.policy_file import PeerRules, Policy
from governance.versions import approvals_for_widening
from governance.words import N_, Words

__all__ = [
    "STRIKE_CODES",
    "Decision",
    "PeerFacts",
    "Reason",
    "RecordFacts",
    "decide_inbound",
    "decide_outbound",
    "same_region",
]

# Inbound denials that mean the sender broke the rules (it must never send such a record),
# as opposed to our own policy refusing it or timing (an expiry passed on the way).
STRIKE_CODES = frozenset(
    {"own_origin", "no_reshare", "no_consent", "scope_local", "not_named_peer", "subject_withheld"}
    | {"foreign_supersede"}
)


def decide_outbound(
    record: RecordFacts, peer: PeerFacts, policy: Policy, *, local_node: str, now: int
) -> Decision:
    """May ``record`` be offered and sent to ``peer``?"""
    reasons = Reasons()
    _check_peer_active(peer, reasons)
    if record.quarantined:
        reasons.deny(
            "quarantined", N_("it waits in quarantine for a curator; nothing passes it on")
        )
    if record.origin == peer.node_id:
        reasons.deny("peer_is_origin", N_("the peer is the record's origin and already holds it"))
    if record.origin != local_node:
        check_reshare(record.consent, reasons)
    check_consent_for_peer(record.consent, peer, reasons, now)
    _check_policy_binding(peer, policy, reasons)
    rules = policy.rules_for(peer.node_id, peer.name)
    _check_sensitivity(record.sensitivity, peer, rules, reasons)
    _check_kind_and_tags(record, rules, reasons)
    _check_bounds(record, peer, rules, local_node, reasons, now)
    _check_peer_region(peer, policy, reasons)
    _check_approvals(record, policy, local_node, reasons)
    _check_widening(record, policy, local_node, reasons)
    return reasons.decision(policy)


def decide_inbound(
    record: RecordFacts,
    sender: PeerFacts,
    policy: Policy,
    *,
    local_node: str,
    now: int,
    local_region: str = "",
) -> Decision:
    """May ``record``, sent by ``sender``, be stored here (and must it wait in quarantine)?"""
    reasons = Reasons()
    _check_peer_active(sender, reasons)
    if record.origin == local_node:
        reasons.deny(
            "own_origin", N_("the record claims to come from this node; we never take it back")
        )
    elif record.origin == sender.node_id:
        reasons.allow("from_origin", N_("the sender is the record's origin"))
    else:
        check_reshare(record.consent, reasons)
    _check_supersede(record, sender, reasons)
    consent = record.consent
    if consent.basis != "consent":
        reasons.deny(
            "no_consent",
            N_("consent basis is '{basis}', so it should never have left"),
            basis=consent.basis,
        )
    if consent.scope == "local":
        reasons.deny("scope_local", N_("the record's consent keeps it on its origin node"))
    elif consent.scope == "peers" and local_node not in consent.peers:
        reasons.deny("not_named_peer", N_("the record's consent names other peers, not this node"))
    if local_region:
        check_consent_regions(consent, local_region, reasons)
    check_expiry(consent, reasons, now)
    if record.kind in policy.inbound_kinds_deny:
        reasons.deny("kind_refused", N_("our policy takes in no {kind}"), kind=record.kind)
    if refused := sorted(set(record.tags) & policy.inbound_tags_deny):
        reasons.deny(
            "tag_refused", N_("our policy takes in nothing tagged {tags}"), tags=", ".join(refused)
        )
    return reasons.decision(policy, quarantine=policy.quarantine)


def _check_peer_active(peer: PeerFacts, reasons: Reasons) -> None:
    if peer.status == "active":
        reasons.allow("peer_active", N_("{peer} is an active, trusted peer"), peer=peer.name)
    else:
        reasons.deny(
            "peer_not_active", N_("{peer} is {status}"), peer=peer.name, status=peer.status
        )


def _check_sensitivity(
    sensitivity: str, peer: PeerFacts, rules: PeerRules, reasons: Reasons
) -> None:
    ceiling = rules.max_sensitivity
    if SENSITIVITIES.index(sensitivity) > SENSITIVITIES.index(ceiling):
        reasons.deny(
            "above_ceiling",
            N_("sensitivity {sensitivity} is above {peer}'s ceiling {ceiling}"),
            sensitivity=sensitivity,
            peer=peer.name,
            ceiling=ceiling,
        )
    else:
        reasons.allow(
            "within_ceiling",
            N_("sensitivity {sensitivity} is within {peer}'s ceiling {ceiling}"),
            sensitivity=sensitivity,
            peer=peer.name,
            ceiling=ceiling,
        )


def _check_kind_and_tags(record: RecordFacts, rules: PeerRules, reasons: Reasons) -> None:
    if record.kind in rules.kinds_deny:
        reasons.deny(
            "kind_denied", N_("the policy denies the kind {kind} for this peer"), kind=record.kind
        )
    elif rules.kinds_allow and record.kind not in rules.kinds_allow:
        reasons.deny(
            "kind_not_allowed",
            N_("the policy allows this peer only {kinds}"),
            kinds=", ".join(sorted(rules.kinds_allow)),
        )
    if denied := sorted(set(record.tags) & rules.tags_deny):
        reasons.deny(
            "tag_denied",
            N_("the policy denies the tag {tags} for this peer"),
            tags=", ".join(denied),
        )
    if rules.tags_allow and not set(record.tags) & rules.tags_allow:
        reasons.deny(
            "tag_not_allowed",
            N_("the policy allows this peer only tags {tags}"),
            tags=", ".join(sorted(rules.tags_allow)),
        )


def _check_peer_region(peer: PeerFacts, policy: Policy, reasons: Reasons) -> None:
    if same_region(peer.region, policy.regions_deny):
        reasons.deny(
            "peer_region_denied",
            N_("the policy shares nothing with the region {region}"),
            region=peer.region,
        )
    elif policy.regions_allow and not same_region(peer.region, policy.regions_allow):
        reasons.deny(
            "peer_region_not_allowed",
            N_("the policy shares only with {regions}"),
            regions=", ".join(sorted(policy.regions_allow)),
        )


def _check_approvals(
    record: RecordFacts, policy: Policy, local_node: str, reasons: Reasons
) -> None:
    needed = policy.approvals_needed(record.sensitivity)
    own = record.origin == local_node
    counted = {
        approval.member
        for approval in record.approvals
        if approval.is_curator and not (own and approval.member == record.author)
    }
    if len(counted) >= needed:
        if needed:
            reasons.allow(
                "approved",
                N_("approved by {counted} of {needed} curators needed"),
                counted=len(counted),
                needed=needed,
            )
    else:
        late = sorted({item.member for item in record.approvals if item.after_compromise})
        lost: str | Words = ""
        if late:
            lost = Words.of(
                N_(
                    " ({members}: approved after their key was marked compromised, so it "
                    "no longer counts)"
                ),
                members=", ".join(late),
            )
        reasons.deny(
            "needs_approval",
            N_("needs {needed} curator approval, has {counted}{lost}")
            if needed == 1
            else N_("needs {needed} curator approvals, has {counted}{lost}"),
            needed=needed,
            counted=len(counted),
            lost=lost,
        )


def _check_policy_binding(peer: PeerFacts, policy: Policy, reasons: Reasons) -> None:
    """Fail closed: a peer whose policy section cannot be resolved to its node id safely
    gets nothing, neither that section's rules nor the defaults it narrowed."""
    if problem := policy.binding_problem(peer.node_id, peer.name):
        reasons.deny(
            "policy_binding",
            N_("the policy cannot tell which rules are {peer}'s: {problem}"),
            peer=peer.name,
            problem=problem,
        )


def _check_widening(record: RecordFacts, policy: Policy, local_node: str, reasons: Reasons) -> None:
    """A version of ours wider than an earlier one needs the approvals of the stricter terms,
    at least one, never the editor's own (the editor is the version's author)."""
    widening = record.widening
    if widening is None or record.origin != local_node:
        return
    needed = approvals_for_widening(dict(policy.approvals), record.sensitivity, widening)
    counted = {
        approval.member
        for approval in record.approvals
        if approval.is_curator and approval.member != record.author
    }
    if len(counted) >= needed:
        reasons.allow(
            "widening_approved",
            N_(
                "this version widens the terms of an earlier one ({fields}) and has "
                "{counted} of the {needed} curator approvals that needs"
            ),
            fields=widening.words,
            counted=len(counted),
            needed=needed,
        )
    else:
        reasons.deny(
            "widened_needs_approval",
            N_(
                "this version widens the terms of an earlier one ({fields}): it needs "
                "{needed} curator approval other than its editor's, has {counted}"
            )
            if needed == 1
            else N_(
                "this version widens the terms of an earlier one ({fields}): it needs "
                "{needed} curator approvals other than its editor's, has {counted}"
            ),
            fields=widening.words,
            needed=needed,
            counted=len(counted),
        )


def _check_bounds(
    record: RecordFacts,
    peer: PeerFacts,
    rules: PeerRules,
    local_node: str,
    reasons: Reasons,
    now: int,
) -> None:
    """Every record bounding this one's consent must allow the peer too: a later version,
    the original it derives from (governance.effective_consent). A denial is coded
    ``<relation>:<code>`` and names the bound."""
    for bound in record.bounds:
        if bound.consent is None:
            reasons.deny(
                "original_unknown",
                N_(
                    "it derives from {bound}, which this node does not hold, so where "
                    "it may go is unknown"
                ),
                bound=bound.phrase,
            )
            continue
        if bound.origin == peer.node_id:
            continue  # the peer wrote that record: it learns nothing of it from us
        checked = Reasons()
        if bound.origin != local_node:
            check_reshare(bound.consent, checked)
        check_consent_for_peer(bound.consent, peer, checked, now)
        _check_sensitivity(bound.sensitivity, peer, rules, checked)
        said = (
            N_("{bound} narrowed consent: {reason}")
            if bound.relation == "later"
            else N_("{bound} limits where it may go: {reason}")
        )
        for denial in (reason for reason in checked.items if not reason.allows):
            code = f"{bound.relation}:{denial.code}"  # later:scope_local, original:no_reshare
            inner = denial.words or Words(denial.text)
            reasons.deny(code, said, bound=bound.phrase, reason=inner)


def _check_supersede(record: RecordFacts, sender: PeerFacts, reasons: Reasons) -> None:
    """Only a lesson's own origin may publish a new version of it: anything else would hide
    the lesson everywhere it spreads. A relaying peer may not hold the lesson it replaces,
    so only the record's own origin is struck for it."""
    old = record.supersedes_origin
    if old is None or may_supersede_origin(old, record.origin):
        return
    if sender.node_id == record.origin:
        reasons.deny(
            "foreign_supersede",
            N_(
                "it claims to be a new version of another node's lesson; only that node can "
                "make one"
            ),
        )
    else:
        reasons.deny(
            "foreign_supersede_relayed",
            N_(
                "it claims to be a new version of another node's lesson; only that node can "
                "make one (passed on by {peer})"
            ),
            peer=sender.name,
        )
