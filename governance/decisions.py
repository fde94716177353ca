"""The decision functions: may this record go to that peer, may it come in from that one?

Both are pure: they take facts (the record's consent and metadata, the peer, the time) and
return a :class:`Decision` with every reason, in machine codes and plain words. Default
deny: a record leaves only when every rule allows it, and any one deny wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from archive.record import SENSITIVITIES, Consent

DEFAULT_MAX_SENSITIVITY = "medium"


@dataclass(frozen=True)
class Reason:
    code: str
    text: str
    allows: bool


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reasons: tuple[Reason, ...]

    @property
    def denials(self) -> tuple[Reason, ...]:
        return tuple(reason for reason in self.reasons if not reason.allows)


@dataclass(frozen=True)
class RecordFacts:
    """What a decision may know about a record: never its text."""

    record_id: str
    origin: str
    consent: Consent
    sensitivity: str
    kind: str
    tags: tuple[str, ...] = ()
    received_from: str | None = None


@dataclass(frozen=True)
class PeerFacts:
    node_id: str
    name: str
    region: str
    status: str = "active"
    max_sensitivity: str = DEFAULT_MAX_SENSITIVITY


@dataclass
class _Reasons:
    items: list[Reason] = field(default_factory=list)

    def allow(self, code: str, text: str) -> None:
        self.items.append(Reason(code, text, True))

    def deny(self, code: str, text: str) -> None:
        self.items.append(Reason(code, text, False))

    def decision(self) -> Decision:
        allowed = bool(self.items) and all(reason.allows for reason in self.items)
        return Decision(allowed, tuple(self.items))


def decide_outbound(record: RecordFacts, peer: PeerFacts, *, local_node: str, now: int) -> Decision:
    """May ``record`` be offered and sent to ``peer``?"""
    reasons = _Reasons()
    _check_peer_active(peer, reasons)
    if record.origin == peer.node_id:
        reasons.deny("peer_is_origin", "the peer is the record's origin and already holds it")
    if record.origin != local_node:
        _check_reshare(record.consent, reasons)
    _check_consent_for_peer(record.consent, peer, reasons, now)
    _check_sensitivity(record.sensitivity, peer, reasons)
    return reasons.decision()


def decide_inbound(
    record: RecordFacts, sender: PeerFacts, *, local_node: str, now: int
) -> Decision:
    """May ``record``, sent by ``sender``, be stored here?"""
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
    consent = record.consent
    if consent.basis != "consent":
        reasons.deny(
            "no_consent", f"consent basis is '{consent.basis}', so it should never have left"
        )
    if consent.scope == "local":
        reasons.deny("scope_local", "the record's consent keeps it on its origin node")
    elif consent.scope == "peers" and local_node not in consent.peers:
        reasons.deny("not_named_peer", "the record's consent names other peers, not this node")
    _check_expiry(consent, reasons, now)
    return reasons.decision()


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
    if peer.region in consent.regions_deny:
        reasons.deny("region_denied", f"consent excludes the region {peer.region}")
    if consent.regions_allow and peer.region not in consent.regions_allow:
        reasons.deny(
            "region_not_allowed", f"consent allows only {', '.join(consent.regions_allow)}"
        )
    _check_expiry(consent, reasons, now)


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


def _check_sensitivity(sensitivity: str, peer: PeerFacts, reasons: _Reasons) -> None:
    if SENSITIVITIES.index(sensitivity) > SENSITIVITIES.index(peer.max_sensitivity):
        reasons.deny(
            "above_ceiling",
            f"sensitivity {sensitivity} is above {peer.name}'s ceiling {peer.max_sensitivity}",
        )
    else:
        reasons.allow("within_ceiling", f"sensitivity {sensitivity} is within the ceiling")
