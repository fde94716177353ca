"""The model's own reading of consent and lineage, written from ARCHITECTURE.md and issue 11,
independent of the code under test.

* A record leaves its origin only with an established consent (basis "consent"), a scope
  other than local, the receiver named when the scope is "peers", every participant agreeing
  to share (none withdrawn), and ``reshare`` when the sender is not the record's origin.
* Its *effective* consent is the narrowest along its version chain: the record itself and
  every newer version the sender holds must each allow the receiver (a superseded version
  never leaves under wider terms than the latest).
* A translation travels only where its original may: the original (and its newer versions
  as far as the sender knows them) must allow the receiver, resharing if the sender is not
  the original's origin. Sending a translation back to the original's own origin leaks nothing of
  the original and is not judged by the original's consent.
* What a revocation withdraws: the revoked record's whole version chain and everything
  derived from it (translations, their versions, translations of those), whatever their
  origin. Never upwards: revoking a translation does not withdraw another origin's original.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from archive.record import Consent
from archive.signed_record import SignedRecord


@dataclass(frozen=True)
class ModelRecord:
    id: str
    origin: str  # node id
    consent: Consent
    sensitivity: str
    supersedes: str | None
    translation_of: str | None
    canaries: frozenset[str] = frozenset()  # words found nowhere but in this lesson's text

    @classmethod
    def of(cls, record: SignedRecord) -> ModelRecord:
        lesson = record.lesson
        return cls(
            record.id_hex,
            lesson.origin_id,
            lesson.consent,
            lesson.sensitivity,
            lesson.supersedes.hex() if lesson.supersedes else None,
            lesson.translation_of.hex() if lesson.translation_of else None,
            frozenset(re.findall(CANARY + r"\w+", lesson.body)),
        )


Records = Mapping[str, ModelRecord]
# Each lesson's body holds a word made of this and the step and node that wrote it; a
# translation copies its original's text, canary included.
CANARY = "zqmodel"


@dataclass(frozen=True)
class Receiver:
    """The node a record reached, where, and when."""

    node_id: str
    region: str
    now: int


def refusal(consent: Consent, receiver: Receiver, resharing: bool) -> str | None:
    """Why ``consent`` keeps a record from ``receiver`` (None: it allows it)."""
    if consent.basis != "consent":
        return f"consent basis is {consent.basis}"
    if consent.scope == "local":
        return "scope is local"
    if consent.scope == "peers" and receiver.node_id not in consent.peers:
        return "scope peers does not name the receiver"
    if receiver.region in consent.regions_deny:
        return f"regions_deny names {receiver.region}"
    if consent.regions_allow and receiver.region not in consent.regions_allow:
        return f"regions_allow does not name {receiver.region}"
    if consent.expires is not None and consent.expires <= receiver.now:
        return "the consent has expired"
    if any(subject.withdrawn or not subject.share for subject in consent.subjects):
        return "a participant did not agree to share"
    if resharing and not consent.reshare:
        return "reshare is false and the sender is not the origin"
    return None


def newer_versions(records: Records, record_id: str) -> list[str]:
    """The versions that supersede ``record_id``, oldest first."""
    found: list[str] = []
    current = record_id
    while True:
        successors = sorted(r.id for r in records.values() if r.supersedes == current)
        successors = [s for s in successors if s not in found]
        if not successors:
            return found
        current = successors[0]
        found.append(current)


def chain(records: Records, record_id: str) -> set[str]:
    """Every version of the lesson ``record_id`` belongs to (both directions)."""
    oldest = record_id
    seen = {oldest}
    while (record := records.get(oldest)) and record.supersedes and record.supersedes not in seen:
        oldest = record.supersedes
        seen.add(oldest)
    return {oldest, *newer_versions(records, oldest)}


def consent_breach(
    records: Records, record_id: str, receiver: Receiver, sender: str, sender_knows: set[str]
) -> str | None:
    """Why ``record_id`` must not have gone from ``sender`` to ``receiver`` (None: fine)."""
    versions = [record_id, *(v for v in newer_versions(records, record_id) if v in sender_knows)]
    for version_id in versions:
        version = records[version_id]
        why = refusal(version.consent, receiver, resharing=sender != version.origin)
        if why:
            which = "it" if version_id == record_id else f"its newer version {version_id[:12]}"
            return f"{which}: {why}"
        original_id = version.translation_of
        if original_id is None or original_id not in records:
            continue
        original = records[original_id]
        if receiver.node_id == original.origin:
            continue
        known = [
            v for v in [original_id, *newer_versions(records, original_id)] if v in sender_knows
        ]
        # A sender that holds no version of the original is still bound by the original's
        # own consent (it cannot know later versions, so those do not count against it).
        why = consent_breach(records, (known or [original_id])[0], receiver, sender, sender_knows)
        if why:
            return f"its original {original_id[:12]} ({why})"
    return None


def withdrawn_with(records: Records, roots: Iterable[str]) -> set[str]:
    """Everything a revocation of ``roots`` withdraws: their chains and all derived records."""
    found: set[str] = set()
    frontier = list(roots)
    while frontier:
        current = frontier.pop()
        if current in found:
            continue
        for version in chain(records, current):
            if version not in found:
                found.add(version)
                frontier.extend(r.id for r in records.values() if r.translation_of == version)
    return found


SCOPE_RANK = {"local": 0, "peers": 1, "federation": 2, "public": 3}
SENSITIVITY_RANK = {"low": 0, "medium": 1, "high": 2}


def wider(new: ModelRecord, earlier: ModelRecord) -> bool:
    """Whether ``new`` promises more than ``earlier`` in a way anyone would call wider: an
    established consent where there was none, a wider scope, more named peers, reshare turned
    on, every participant's restriction lifted, or a lower sensitivity."""
    a, b = new.consent, earlier.consent
    withheld = [s.withdrawn or not s.share for s in b.subjects]
    return (
        (a.basis == "consent" and b.basis != "consent")
        or SCOPE_RANK[a.scope] > SCOPE_RANK[b.scope]
        or (a.scope == b.scope == "peers" and bool(set(a.peers) - set(b.peers)))
        or (a.reshare and not b.reshare)
        or (any(withheld) and not any(s.withdrawn or not s.share for s in a.subjects))
        or SENSITIVITY_RANK[new.sensitivity] < SENSITIVITY_RANK[earlier.sensitivity]
    )


def widening_strictest(records: Records, record_id: str) -> str | None:
    """If ``record_id`` widens any earlier version of its lesson: the highest sensitivity of
    those earlier versions (a widening needs at least the approvals that one needed)."""
    earlier = []
    current = records[record_id].supersedes
    while current is not None and current in records and current not in earlier:
        earlier.append(current)
        current = records[current].supersedes
    new = records[record_id]
    if not any(wider(new, records[version]) for version in earlier):
        return None
    return max((records[v].sensitivity for v in earlier), key=SENSITIVITY_RANK.__getitem__)
