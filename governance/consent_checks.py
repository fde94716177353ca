"""The checks of a record's own consent against a peer: reshare, scope, regions, purposes and
expiry (one place each; governance/decisions.py runs them in order)."""

from __future__ import annotations

from collections.abc import Iterable

from archive.record import Consent
from governance.decision_facts import PeerFacts, Reasons
from governance.words import N_


def check_reshare(consent: Consent, reasons: Reasons) -> None:
    if consent.reshare:
        reasons.allow("reshare_allowed", N_("the record's consent allows passing it on"))
    else:
        reasons.deny("no_reshare", N_("the record came from another node and may not be passed on"))


def check_consent_for_peer(consent: Consent, peer: PeerFacts, reasons: Reasons, now: int) -> None:
    if consent.basis != "consent":
        reasons.deny(
            "no_consent",
            N_("consent basis is '{basis}': only consent lets it leave"),
            basis=consent.basis,
        )
        return
    if consent.scope == "local":
        reasons.deny("scope_local", N_("consent scope is local: it never leaves this node"))
    elif consent.scope == "peers":
        if peer.node_id in consent.peers:
            reasons.allow("named_peer", N_("consent names {peer}"), peer=peer.name)
        else:
            reasons.deny(
                "not_named_peer", N_("consent names only other peers, not {peer}"), peer=peer.name
            )
    else:
        reasons.allow("scope_" + consent.scope, N_("consent scope is {scope}"), scope=consent.scope)
    check_consent_regions(consent, peer.region, reasons)
    check_purposes(consent, peer, reasons)
    check_expiry(consent, reasons, now)


def check_purposes(consent: Consent, peer: PeerFacts, reasons: Reasons) -> None:
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
            N_(
                "consent allows only the purposes {allowed}; {peer} has declared no "
                "purposes, so they do not limit it"
            ),
            allowed=allowed,
            peer=peer.name,
        )
    elif extra := sorted(set(peer.purposes) - set(consent.purposes)):
        reasons.deny(
            "purpose_not_consented",
            N_(
                "{peer} declared it uses lessons for {declared}; consent allows only "
                "{allowed}, not {extra}"
            ),
            peer=peer.name,
            declared=declared,
            allowed=allowed,
            extra=", ".join(extra),
        )
    else:
        reasons.allow(
            "purposes_consented",
            N_("{peer} declared it uses lessons for {declared}, all among {allowed}"),
            peer=peer.name,
            declared=declared,
            allowed=allowed,
        )


def same_region(region: str, regions: Iterable[str]) -> bool:
    """Regions compare without regard to case or outer spaces: "East Africa" = "east africa"."""
    wanted = region.strip().casefold()
    return any(wanted == other.strip().casefold() for other in regions)


def check_consent_regions(consent: Consent, region: str, reasons: Reasons) -> None:
    if same_region(region, consent.regions_deny):
        reasons.deny("region_denied", N_("consent excludes the region {region}"), region=region)
    if consent.regions_allow and not same_region(region, consent.regions_allow):
        reasons.deny(
            "region_not_allowed",
            N_("consent allows only {regions}"),
            regions=", ".join(consent.regions_allow),
        )


def check_expiry(consent: Consent, reasons: Reasons, now: int) -> None:
    if consent.expires is not None and consent.expires <= now:
        reasons.deny("consent_expired", N_("the consent has expired"))
    for subject in consent.subjects:
        if subject.withdrawn or not subject.share:
            reasons.deny("subject_withheld", N_("a participant has not agreed to sharing"))
            return
        if subject.expires is not None and subject.expires <= now:
            reasons.deny("subject_expired", N_("a participant's consent has expired"))
            return
