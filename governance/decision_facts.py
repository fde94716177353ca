"""What the decision functions decide on and what they return: the facts of a record and of
a peer (never a record's text), each reason (a code, English words and the template for the
reader's language), and the decision (governance/decisions.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from archive.record import Consent
from governance.approvals import ApprovalFacts
from governance.effective_consent import Bound
from governance.policy_file import Policy
from governance.versions import Widening
from governance.words import Words


@dataclass(frozen=True)
class Reason:
    code: str
    text: str  # in English: the decision log, the JSON API
    allows: bool
    # The same sentence as a template and values, for the reader's language (node.reason_words).
    words: Words | None = None


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
class Reasons:
    items: list[Reason] = field(default_factory=list)

    def allow(self, code: str, template: str, **values: str | int | Words) -> None:
        words = Words.of(template, **values)
        self.items.append(Reason(code, words.english, True, words))

    def deny(self, code: str, template: str, **values: str | int | Words) -> None:
        words = Words.of(template, **values)
        self.items.append(Reason(code, words.english, False, words))

    def deny_reason(self, code: str, words: Words) -> None:
        self.items.append(Reason(code, words.english, False, words))

    def decision(self, policy: Policy, quarantine: bool = False) -> Decision:
        allowed = bool(self.items) and all(reason.allows for reason in self.items)
        return Decision(allowed, tuple(self.items), policy.hash, quarantine and allowed)
