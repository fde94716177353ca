"""The decision functions: may this record go to that peer, may it come in from that one?

Both are pure: they take facts (the record's consent and metadata, the peer, the policy,
the approvals, the time) and return a :class:`Decision` with every reason, as a machine
code and in plain words. Default deny: a record leaves only when every rule allows it, and
any one deny wins. Sync, push, bundles, the web UI and the API all go through them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from archive.derivation import may_supersede_origin
from archive.record import SENSITIVITIES, Consent
from governance.approvals import ApprovalFacts
from governance.effective_consent import Bound
from governance.policy_file import PeerRules, Policy
from governance.versions import Widening, approvals_for_widening

# Inbound denials that mean the sender broke the rules (it must never send such a record),
# as opposed to our own policy refusing it or timing (an expiry passed on the way).
STRIKE_CODES = frozenset(
    {"own_origin", "no_reshare", "no_consent", "scope_local", "not_named_peer", "subject_withheld"}
    | {"foreign_supersede"}
)


@dataclass(frozen=True)
class Reason:
    code: str
    text: str
    allows: bool


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reasons: tuple[Reason, ...]
    policy_hash: str = ""
    quarantine: bool = False

    @property
    def denials(self) -> tuple[Reason, ...]:
        return tuple(reason for reason in self.reasons if not reason.allows)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(reason.code for reason in self.reasons)


@dataclass(frozen=True)
class RecordFacts:
    """What a decision may know about a record: never its text."""

    record_id: str
    origin: str
    consent: Consent
    sensitivity: str
    kind: str
    tags: tuple[str, ...] = ()
    author: str = ""
    received_from: str | None = None
    approvals: tuple[ApprovalFacts, ...] = ()
    quarantined: bool = False
    # Records whose consent also limits this one (governance.effective_consent).
    bounds: tuple[Bound, ...] = ()
    # The origin of the record this one supersedes, when we hold that record.
    supersedes_origin: str | None = None
    # Set for our own versions that are wider than an earlier version (governance.versions).
    widening: Widening | None = None


@dataclass(frozen=True)
class PeerFacts:
    node_id: str
    name: str
    region: str
    status: str = "active"
    # What the peer declared it uses lessons for (training, research, press, ...).
    purposes: tuple[str, ...] = ()


@dataclass
class _Reasons:
    items: list[Reason] = field(default_factory=list)

    def allow(self, code: str, text: str) -> None:
        self.items.append(Reason(code, text, True))

    def deny(self, code: str, text: str) -> None:
        self.items.append(Reason(code, text, False))

    def decision(self, policy: Policy, quarantine: bool = False) -> Decision:
        allowed = bool(self.items) and all(reason.allows for reason in self.items)
        return Decision(allowed, tuple(self.items), policy.hash, quarantine and allowed)


def decide_outbound(
    record: RecordFacts, peer: PeerFacts, policy: Policy, *, local_node: str, now: int
) -> Decision:
    """May ``record`` be offered and sent to ``peer``?"""
    reasons = _Reasons()
    _check_peer_active(peer, reasons)
    if record.quarantined:
        reasons.deny("quarantined", "it waits in quarantine for a curator; nothing passes it on")
    if record.origin == peer.node_id:
        reasons.deny("peer_is_origin", "the peer is the record's origin and already holds it")
    if record.origin != local_node:
        _check_reshare(record.consent, reasons)
    _check_consent_for_peer(record.consent, peer, reasons, now)
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
    reasons = _Reasons()
    _check_peer_active(sender, reasons)
    if record.origin == local_node:
        reasons.deny(
            "own_origin", "the record claims to come from this node; we never take it back"
        )
    elif record.origin == sender.node_id:
        reasons.allow("from_origin", "the sender is the record's origin")
    else:
        _check_reshare(record.consent, reasons)
    _check_supersede(record, sender, reasons)
    consent = record.consent
    if consent.basis != "consent":
        reasons.deny(
            "no_consent", f"consent basis is '{consent.basis}', so it should never have left"
        )
    if consent.scope == "local":
        reasons.deny("scope_local", "the record's consent keeps it on its origin node")
    elif consent.scope == "peers" and local_node not in consent.peers:
        reasons.deny("not_named_peer", "the record's consent names other peers, not this node")
    if local_region:
        _check_consent_regions(consent, local_region, reasons)
    _check_expiry(consent, reasons, now)
    if record.kind in policy.inbound_kinds_deny:
        reasons.deny("kind_refused", f"our policy takes in no {record.kind}")
    if refused := sorted(set(record.tags) & policy.inbound_tags_deny):
        reasons.deny("tag_refused", f"our policy takes in nothing tagged {', '.join(refused)}")
    return reasons.decision(policy, quarantine=policy.quarantine)


def _check_peer_active(peer: PeerFacts, reasons: _Reasons) -> None:
    if peer.status == "active":
        reasons.allow("peer_active", f"{peer.name} is an active, trusted peer")
    else:
        reasons.deny("peer_not_active", f"{peer.name} is {peer.status}")


def _check_reshare(consent: Consent, reasons: _Reasons) -> None:
    if consent.reshare:
        reasons.allow("reshare_allowed", "the record's consent allows passing it on")
    else:
        reasons.deny("no_reshare", "the record came from another node and may not be passed on")


def _check_consent_for_peer(consent: Consent, peer: PeerFacts, reasons: _Reasons, now: int) -> None:
    if consent.basis != "consent":
        reasons.deny(
            "no_consent", f"consent basis is '{consent.basis}': only consent lets it leave"
        )
        return
    if consent.scope == "local":
        reasons.deny("scope_local", "consent scope is local: it never leaves this node")
    elif consent.scope == "peers":
        if peer.node_id in consent.peers:
            reasons.allow("named_peer", f"consent names {peer.name}")
        else:
            reasons.deny("not_named_peer", f"consent names only other peers, not {peer.name}")
    else:
        reasons.allow("scope_" + consent.scope, f"consent scope is {consent.scope}")
    _check_consent_regions(consent, peer.region, reasons)
    _check_purposes(consent, peer, reasons)
    _check_expiry(consent, reasons, now)


def _check_purposes(consent: Consent, peer: PeerFacts, reasons: _Reasons) -> None:
    """A lesson whose consent names purposes goes only to a peer whose declared purposes
    are all among them (the peer declares them itself, signed: federation/purposes.py). A
    peer that declared none is not held to them, and explain says so: see
    docs/explanation/sharing-and-consent.md."""
    if not consent.purposes:
        return
    allowed = ", ".join(consent.purposes)
    declared = ", ".join(peer.purposes)
    if not peer.purposes:
        reasons.allow(
            "purposes_undeclared",
            f"consent allows only the purposes {allowed}; {peer.name} has declared no "
            "purposes, so they do not limit it",
        )
    elif extra := sorted(set(peer.purposes) - set(consent.purposes)):
        reasons.deny(
            "purpose_not_consented",
            f"{peer.name} declared it uses lessons for {declared}; consent allows only "
            f"{allowed}, not {', '.join(extra)}",
        )
    else:
        reasons.allow(
            "purposes_consented",
            f"{peer.name} declared it uses lessons for {declared}, all among {allowed}",
        )


def same_region(region: str, regions: Iterable[str]) -> bool:
    """Regions compare without regard to case or outer spaces: "East Africa" = "east africa"."""
    wanted = region.strip().casefold()
    return any(wanted == other.strip().casefold() for other in regions)


def _check_consent_regions(consent: Consent, region: str, reasons: _Reasons) -> None:
    if same_region(region, consent.regions_deny):
        reasons.deny("region_denied", f"consent excludes the region {region}")
    if consent.regions_allow and not same_region(region, consent.regions_allow):
        reasons.deny(
            "region_not_allowed", f"consent allows only {', '.join(consent.regions_allow)}"
        )


def _check_expiry(consent: Consent, reasons: _Reasons, now: int) -> None:
    if consent.expires is not None and consent.expires <= now:
        reasons.deny("consent_expired", "the consent has expired")
    for subject in consent.subjects:
        if subject.withdrawn or not subject.share:
            reasons.deny("subject_withheld", "a participant has not agreed to sharing")
            return
        if subject.expires is not None and subject.expires <= now:
            reasons.deny("subject_expired", "a participant's consent has expired")
            return


def _check_sensitivity(
    sensitivity: str, peer: PeerFacts, rules: PeerRules, reasons: _Reasons
) -> None:
    ceiling = rules.max_sensitivity
    if SENSITIVITIES.index(sensitivity) > SENSITIVITIES.index(ceiling):
        reasons.deny(
            "above_ceiling", f"sensitivity {sensitivity} is above {peer.name}'s ceiling {ceiling}"
        )
    else:
        reasons.allow(
            "within_ceiling", f"sensitivity {sensitivity} is within {peer.name}'s ceiling {ceiling}"
        )


def _check_kind_and_tags(record: RecordFacts, rules: PeerRules, reasons: _Reasons) -> None:
    if record.kind in rules.kinds_deny:
        reasons.deny("kind_denied", f"the policy denies the kind {record.kind} for this peer")
    elif rules.kinds_allow and record.kind not in rules.kinds_allow:
        reasons.deny(
            "kind_not_allowed",
            f"the policy allows this peer only {', '.join(sorted(rules.kinds_allow))}",
        )
    if denied := sorted(set(record.tags) & rules.tags_deny):
        reasons.deny("tag_denied", f"the policy denies the tag {', '.join(denied)} for this peer")
    if rules.tags_allow and not set(record.tags) & rules.tags_allow:
        reasons.deny(
            "tag_not_allowed",
            f"the policy allows this peer only tags {', '.join(sorted(rules.tags_allow))}",
        )


def _check_peer_region(peer: PeerFacts, policy: Policy, reasons: _Reasons) -> None:
    if same_region(peer.region, policy.regions_deny):
        reasons.deny(
            "peer_region_denied", f"the policy shares nothing with the region {peer.region}"
        )
    elif policy.regions_allow and not same_region(peer.region, policy.regions_allow):
        reasons.deny(
            "peer_region_not_allowed",
            f"the policy shares only with {', '.join(sorted(policy.regions_allow))}",
        )


def _check_approvals(
    record: RecordFacts, policy: Policy, local_node: str, reasons: _Reasons
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
            reasons.allow("approved", f"approved by {len(counted)} of {needed} curators needed")
    else:
        late = sorted({item.member for item in record.approvals if item.after_compromise})
        lost = (
            f" ({', '.join(late)}: approved after their key was marked compromised, so it "
            "no longer counts)"
            if late
            else ""
        )
        reasons.deny(
            "needs_approval",
            f"needs {needed} curator approval{'s' if needed != 1 else ''}, has {len(counted)}"
            + lost,
        )


def _check_policy_binding(peer: PeerFacts, policy: Policy, reasons: _Reasons) -> None:
    """Fail closed: a peer whose policy section cannot be resolved to its node id safely
    gets nothing, neither that section's rules nor the defaults it narrowed."""
    if problem := policy.binding_problem(peer.node_id, peer.name):
        reasons.deny(
            "policy_binding", f"the policy cannot tell which rules are {peer.name}'s: {problem}"
        )


def _check_widening(
    record: RecordFacts, policy: Policy, local_node: str, reasons: _Reasons
) -> None:
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
            f"this version widens the terms of an earlier one ({widening.words}) and has "
            f"{len(counted)} of the {needed} curator approvals that needs",
        )
    else:
        reasons.deny(
            "widened_needs_approval",
            f"this version widens the terms of an earlier one ({widening.words}): it needs "
            f"{needed} curator approval{'s' if needed != 1 else ''} other than its editor's, "
            f"has {len(counted)}",
        )


def _check_bounds(
    record: RecordFacts,
    peer: PeerFacts,
    rules: PeerRules,
    local_node: str,
    reasons: _Reasons,
    now: int,
) -> None:
    """Every record bounding this one's consent must allow the peer too: a later version,
    the original it derives from (governance.effective_consent). A denial is coded
    ``<relation>:<code>`` and names the bound."""
    for bound in record.bounds:
        if bound.consent is None:
            reasons.deny(
                "original_unknown",
                f"it derives from {bound.words}, which this node does not hold, so where "
                "it may go is unknown",
            )
            continue
        if bound.origin == peer.node_id:
            continue  # the peer wrote that record: it learns nothing of it from us
        checked = _Reasons()
        if bound.origin != local_node:
            _check_reshare(bound.consent, checked)
        _check_consent_for_peer(bound.consent, peer, checked, now)
        _check_sensitivity(bound.sensitivity, peer, rules, checked)
        verb = "narrowed consent" if bound.relation == "later" else "limits where it may go"
        for denial in (reason for reason in checked.items if not reason.allows):
            code = f"{bound.relation}:{denial.code}"  # later:scope_local, original:no_reshare
            reasons.deny(code, f"{bound.words} {verb}: {denial.text}")


def _check_supersede(record: RecordFacts, sender: PeerFacts, reasons: _Reasons) -> None:
    """Only a lesson's own origin may publish a new version of it: anything else would hide
    the lesson everywhere it spreads. A relaying peer may not hold the lesson it replaces,
    so only the record's own origin is struck for it."""
    old = record.supersedes_origin
    if old is None or may_supersede_origin(old, record.origin):
        return
    text = "it claims to be a new version of another node's lesson; only that node can make one"
    if sender.node_id == record.origin:
        reasons.deny("foreign_supersede", text)
    else:
        reasons.deny("foreign_supersede_relayed", f"{text} (passed on by {sender.name})")
