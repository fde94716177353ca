"""Codes in plain words, for people who run a hub rather than read its source.

Templates use these as filters (``{{ record.kind | kind }}``); consent gets whole sentences,
so curators can check what the people concerned agreed to without knowing the file format.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from archive.record import Consent, Subject
from node.i18n import N_
from node.i18n import gettext as _

KIND_WORDS = {
    "case_study": N_("Case study"),
    "after_action_review": N_("After-action review"),
    "checklist": N_("Checklist"),
    "training_module": N_("Training module"),
    "action_brief": N_("Action brief"),
    "story": N_("Story"),
    "collection": N_("Collection"),
    "evaluation": N_("Evaluation"),
}
SENSITIVITY_WORDS = {
    "low": N_("Low"),
    "medium": N_("Medium"),
    "high": N_("High"),
}
BASIS_WORDS = {
    "consent": N_("The people concerned agreed to what is written below."),
    "notice": N_(
        "The people concerned were only told about it (notice), so it never leaves this hub."
    ),
    "none": N_("No consent was recorded, so it never leaves this hub."),
}
SCOPE_WORDS = {
    "local": N_("Nobody else: it stays on this hub."),
    "peers": N_("Only the peers named here."),
    "federation": N_("This hub's trusted peers."),
    "public": N_("Anyone: it may be made public, and go to every trusted peer."),
}
REASON_WORDS = {
    "consent-withdrawn": N_("Consent was withdrawn"),
    "safety": N_("It puts someone at risk"),
    "error": N_("It was published by mistake"),
    "expired": N_("Consent has expired"),
    "other": N_("Another reason"),
}
LABEL_WORDS = {
    "provenance": N_("Where it comes from"),
    "protocol": N_("How to treat it"),
    "permission": N_("What it may be used for"),
}
EVENT_WORDS = {
    "record.added": N_("Lesson added"),
    "record.approved": N_("Lesson approved"),
    "record.received": N_("Lesson received from a peer"),
    "record.accepted": N_("Quarantined lesson accepted"),
    "record.rejected": N_("Quarantined lesson rejected"),
    "record.revoked": N_("Lesson withdrawn here"),
    "record.purged": N_("Lesson purged (withdrawn by its origin)"),
    "record.widened": N_("New version widens consent (needs curators)"),
    "policy.bound": N_("Policy section bound to a peer's node id"),
    "policy.unbound": N_("Policy section unbound"),
    "member.added": N_("Member added"),
    "member.roles": N_("Member's roles changed"),
    "member.removed": N_("Member removed"),
    "member.token": N_("API token made"),
    "member.token_revoked": N_("API token revoked"),
    "member.password": N_("Member's password set"),
    "member.language": N_("Member's language chosen"),
    "peer.added": N_("Peer paired"),
    "peer.active": N_("Peer resumed"),
    "peer.suspended": N_("Peer suspended"),
    "peer.removed": N_("Peer removed"),
    "peer.quota_refused": N_("Peer's records refused: over its quota"),
}


def kind_words(kind: str) -> str:
    return _(KIND_WORDS[kind]) if kind in KIND_WORDS else kind


def event_words(kind: str) -> str:
    return _(EVENT_WORDS[kind]) if kind in EVENT_WORDS else kind


def reason_words(code: str) -> str:
    return _(REASON_WORDS[code]) if code in REASON_WORDS else code


def when(seconds: int | None) -> str:
    """A time people read at a glance: ``2026-05-28 20:26 UTC``."""
    if seconds is None:
        return _("never")
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def day(seconds: int | None) -> str:
    if seconds is None:
        return ""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%d")


def short(record_id: str) -> str:
    return record_id[:12]


def peer_label(node_id: str, names: Mapping[str, str]) -> str:
    """A peer's name, or the start of its node id when we do not know it by name."""
    return names.get(node_id) or _("node {start}").format(start=node_id.split("-", 1)[0])


def detail_words(detail: Mapping[str, Any], names: Mapping[str, str]) -> list[tuple[str, str]]:
    """An event's details for reading: peers by name, yes and no, lists as lists."""
    words = []
    for key, value in detail.items():
        if isinstance(value, bool):
            text = _("yes") if value else _("no")
        elif isinstance(value, list):
            text = ", ".join(str(item) for item in value)
        else:
            text = names.get(str(value), str(value))
        words.append((key, text))
    return words


def consent_terms(consent: Consent, names: Mapping[str, str]) -> list[tuple[str, str]]:
    """(term, description) pairs for a definition list: consent as a curator reads it."""
    basis = BASIS_WORDS.get(consent.basis)
    terms = [(_("Consent"), _(basis) if basis else consent.basis)]
    if consent.basis != "consent":
        return terms
    scope = SCOPE_WORDS.get(consent.scope)
    who = _(scope) if scope else consent.scope
    if consent.scope == "peers":
        named = ", ".join(peer_label(node_id, names) for node_id in consent.peers)
        who = (
            _("Only these peers: {names}.").format(names=named)
            if named
            else _("Only named peers, and none is named.")
        )
    terms.append((_("Who may receive it"), who))
    if consent.regions_allow:
        terms.append((_("Only in the regions"), ", ".join(consent.regions_allow)))
    if consent.regions_deny:
        terms.append((_("Never in the regions"), ", ".join(consent.regions_deny)))
    terms.append(
        (
            _("Passing it on"),
            _("Hubs that receive it may pass it on to their own peers.")
            if consent.reshare
            else _("Hubs that receive it must not pass it on."),
        )
    )
    terms.append(
        (
            _("Consent ends"),
            _("{date}; then this hub withdraws it everywhere by itself.").format(
                date=when(consent.expires)
            )
            if consent.expires is not None
            else _("No end date was set."),
        )
    )
    purposes = ", ".join(consent.purposes)
    terms.append((_("May be used for"), purposes or _("No purpose was named.")))
    return terms


def subject_words(subject: Subject) -> str:
    """One participant's consent in a sentence (their pseudonym is shown apart from it)."""
    if subject.withdrawn:
        return _("withdrew their consent: the lesson no longer leaves this hub")
    parts = [
        _("agreed to sharing") if subject.share else _("did not agree to sharing"),
        _("agreed to being recorded") if subject.recorded else _("did not agree to being recorded"),
        _("agreed to photos") if subject.photographed else _("did not agree to photos"),
    ]
    if subject.expires is not None:
        parts.append(_("until {date}").format(date=when(subject.expires)))
    return "; ".join(parts)


def mebibytes(size: int) -> str:
    """A size for people: 25 MiB, 1.5 MiB (the caps of config.toml are in bytes)."""
    return f"{size / (1024 * 1024):.3g} MiB"


FILTERS: dict[str, Callable[..., str]] = {
    "mib": mebibytes,
    "kind": kind_words,
    "when": when,
    "day": day,
    "short": short,
    "event": event_words,
    "reason": reason_words,
}
