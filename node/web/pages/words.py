"""Codes in plain words, for people who run a hub rather than read its source.

Templates use these as filters (``{{ record.kind | kind }}``); consent gets whole sentences,
so curators can check what the people concerned agreed to without knowing the file format.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from archive.record import Consent, Subject

KIND_WORDS = {
    "case_study": "Case study",
    "after_action_review": "After-action review",
    "checklist": "Checklist",
    "training_module": "Training module",
    "action_brief": "Action brief",
    "story": "Story",
}
SENSITIVITY_WORDS = {
    "low": "Low",
    "medium": "Medium",
    "high": "High",
}
BASIS_WORDS = {
    "consent": "The people concerned agreed to what is written below.",
    "notice": "The people concerned were only told about it (notice), so it never leaves this hub.",
    "none": "No consent was recorded, so it never leaves this hub.",
}
SCOPE_WORDS = {
    "local": "Nobody else: it stays on this hub.",
    "peers": "Only the peers named here.",
    "federation": "This hub's trusted peers.",
    "public": "Anyone: it may be made public, and go to every trusted peer.",
}
REASON_WORDS = {
    "consent-withdrawn": "Consent was withdrawn",
    "safety": "It puts someone at risk",
    "error": "It was published by mistake",
    "expired": "Consent has expired",
    "other": "Another reason",
}
LABEL_WORDS = {
    "provenance": "Where it comes from",
    "protocol": "How to treat it",
    "permission": "What it may be used for",
}
EVENT_WORDS = {
    "record.added": "Lesson added",
    "record.approved": "Lesson approved",
    "record.received": "Lesson received from a peer",
    "record.accepted": "Quarantined lesson accepted",
    "record.rejected": "Quarantined lesson rejected",
    "record.revoked": "Lesson withdrawn here",
    "record.purged": "Lesson purged (withdrawn by its origin)",
    "record.widened": "New version widens consent (needs curators)",
    "policy.bound": "Policy section bound to a peer's node id",
    "policy.unbound": "Policy section unbound",
    "member.added": "Member added",
    "member.roles": "Member's roles changed",
    "member.removed": "Member removed",
    "member.token": "API token made",
    "member.token_revoked": "API token revoked",
    "member.password": "Member's password set",
    "peer.added": "Peer paired",
    "peer.active": "Peer resumed",
    "peer.suspended": "Peer suspended",
    "peer.removed": "Peer removed",
    "peer.quota_refused": "Peer's records refused: over its quota",
}


def kind_words(kind: str) -> str:
    return KIND_WORDS.get(kind, kind)


def event_words(kind: str) -> str:
    return EVENT_WORDS.get(kind, kind)


def reason_words(code: str) -> str:
    return REASON_WORDS.get(code, code)


def when(seconds: int | None) -> str:
    """A time people read at a glance: ``2026-05-28 20:26 UTC``."""
    if seconds is None:
        return "never"
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def day(seconds: int | None) -> str:
    if seconds is None:
        return ""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%d")


def short(record_id: str) -> str:
    return record_id[:12]


def peer_label(node_id: str, names: Mapping[str, str]) -> str:
    """A peer's name, or the start of its node id when we do not know it by name."""
    return names.get(node_id) or f"node {node_id.split('-', 1)[0]}"


def detail_words(detail: Mapping[str, Any], names: Mapping[str, str]) -> list[tuple[str, str]]:
    """An event's details for reading: peers by name, yes and no, lists as lists."""
    words = []
    for key, value in detail.items():
        if isinstance(value, bool):
            text = "yes" if value else "no"
        elif isinstance(value, list):
            text = ", ".join(str(item) for item in value)
        else:
            text = names.get(str(value), str(value))
        words.append((key, text))
    return words


def consent_terms(consent: Consent, names: Mapping[str, str]) -> list[tuple[str, str]]:
    """(term, description) pairs for a definition list: consent as a curator reads it."""
    terms = [("Consent", BASIS_WORDS.get(consent.basis, consent.basis))]
    if consent.basis != "consent":
        return terms
    who = SCOPE_WORDS.get(consent.scope, consent.scope)
    if consent.scope == "peers":
        named = ", ".join(peer_label(node_id, names) for node_id in consent.peers)
        who = f"Only these peers: {named}." if named else "Only named peers, and none is named."
    terms.append(("Who may receive it", who))
    if consent.regions_allow:
        terms.append(("Only in the regions", ", ".join(consent.regions_allow)))
    if consent.regions_deny:
        terms.append(("Never in the regions", ", ".join(consent.regions_deny)))
    terms.append(
        (
            "Passing it on",
            "Hubs that receive it may pass it on to their own peers."
            if consent.reshare
            else "Hubs that receive it must not pass it on.",
        )
    )
    terms.append(
        (
            "Consent ends",
            f"{when(consent.expires)}; then this hub withdraws it everywhere by itself."
            if consent.expires is not None
            else "No end date was set.",
        )
    )
    purposes = ", ".join(consent.purposes)
    terms.append(("May be used for", purposes or "No purpose was named."))
    return terms


def subject_words(subject: Subject) -> str:
    """One participant's consent in a sentence (their pseudonym is shown apart from it)."""
    if subject.withdrawn:
        return "withdrew their consent: the lesson no longer leaves this hub"
    parts = [
        "agreed to sharing" if subject.share else "did not agree to sharing",
        "agreed to being recorded" if subject.recorded else "did not agree to being recorded",
        "agreed to photos" if subject.photographed else "did not agree to photos",
    ]
    if subject.expires is not None:
        parts.append(f"until {when(subject.expires)}")
    return "; ".join(parts)


FILTERS: dict[str, Callable[..., str]] = {
    "kind": kind_words,
    "when": when,
    "day": day,
    "short": short,
    "event": event_words,
    "reason": reason_words,
}
