"""May this attachment's bytes leave with its lesson? The consent of each person in it.

A lesson's text and its attachments are decided apart: the record may go to a peer (that is
:func:`governance.decisions.decide_outbound`) while a photo of it stays home, because a photo
shows people and a recording records them, and each of them agreed to some things only.
:func:`decide_attachment` is pure: the attachment, the consent blocks that bound it (the
record's own, then its later versions', the narrowest wins), the time. For every subject the
attachment names:

- their entry must exist in every bounding consent block that lists subjects;
- ``share`` true, not ``withdrawn``, not ``expires``-d;
- an image or a video that shows them needs ``photographed: true``;
- audio or a video that records them needs ``recorded: true``.

A denial names the person and the field in words: "the photo stays: Heron did not agree
to be photographed". An attachment that names no subject follows its record alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from archive.attachment import Attachment
from archive.record import Consent, Subject

NOUNS = {"image": "photo", "audio": "recording", "video": "video", "document": "document"}


@dataclass(frozen=True)
class AttachmentReason:
    code: str
    text: str
    allows: bool


@dataclass(frozen=True)
class AttachmentDecision:
    """Whether the attachment may leave (with a record that may leave), and why."""

    attachment: Attachment
    allowed: bool
    reasons: tuple[AttachmentReason, ...]

    @property
    def words(self) -> str:
        """One line for explain: "the photo stays: Heron did not agree to be photographed"."""
        if self.allowed:
            return self.reasons[0].text
        return "; ".join(reason.text for reason in self.reasons if not reason.allows)


def decide_attachment(
    attachment: Attachment, consents: Sequence[Consent], now: int
) -> AttachmentDecision:
    """``consents``: the record's own consent first, then those of records bounding it."""
    noun = NOUNS[attachment.kind]
    reasons: list[AttachmentReason] = []
    for pseudonym in attachment.subjects:
        for consent in consents:
            problem = _subject_problem(attachment, consent, pseudonym, now)
            if problem is not None:
                code, why = problem
                reasons.append(AttachmentReason(code, f"the {noun} stays: {why}", False))
                break
    if not reasons:
        who = ", ".join(attachment.subjects)
        text = (
            f"the {noun} may go with the lesson: {who} agreed"
            if who
            else f"the {noun} names no one in it and goes with the lesson"
        )
        reasons.append(AttachmentReason("attachment_consented", text, True))
    return AttachmentDecision(attachment, all(r.allows for r in reasons), tuple(reasons))


def _subject_problem(
    attachment: Attachment, consent: Consent, pseudonym: str, now: int
) -> tuple[str, str] | None:
    entry = _entry(consent.subjects, pseudonym)
    if entry is None:
        return "subject_unknown", f"{pseudonym} has no consent entry"
    if entry.withdrawn:
        return "subject_withdrawn", f"{pseudonym} withdrew their consent"
    if not entry.share:
        return "subject_not_shared", f"{pseudonym} did not agree to sharing"
    if entry.expires is not None and entry.expires <= now:
        return "subject_expired", f"{pseudonym}'s consent has expired"
    if attachment.shows_people and not entry.photographed:
        return "not_photographed", f"{pseudonym} did not agree to be photographed"
    if attachment.records_people and not entry.recorded:
        return "not_recorded", f"{pseudonym} did not agree to be recorded"
    return None


def _entry(subjects: tuple[Subject, ...], pseudonym: str) -> Subject | None:
    return next((subject for subject in subjects if subject.pseudonym == pseudonym), None)


def attachments_allowed(
    attachments: Sequence[Attachment], consents: Sequence[Consent], now: int
) -> list[AttachmentDecision]:
    """The decision for each attachment of a record."""
    return [decide_attachment(attachment, consents, now) for attachment in attachments]
