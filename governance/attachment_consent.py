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
from governance.words import N_, Words

# What each kind of attachment is called (policy explain's list; N_: in the catalogs).
NOUNS = {
    "image": N_("photo"),
    "audio": N_("recording"),
    "video": N_("video"),
    "document": N_("document"),
}
# The same nouns with their article, as a reason says them ("the photo stays: ...").
NOUN_PHRASES = {
    "image": N_("the photo"),
    "audio": N_("the recording"),
    "video": N_("the video"),
    "document": N_("the document"),
}


@dataclass(frozen=True)
class AttachmentReason:
    code: str
    text: str  # in English: the JSON API
    allows: bool
    words: Words | None = None  # the same, for the reader's language (node.reason_words)


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
    noun = Words(NOUN_PHRASES[attachment.kind])
    reasons: list[AttachmentReason] = []
    for pseudonym in attachment.subjects:
        for consent in consents:
            problem = _subject_problem(attachment, consent, pseudonym, now)
            if problem is not None:
                code, why = problem
                words = Words.of(N_("{noun} stays: {why}"), noun=noun, why=why)
                reasons.append(AttachmentReason(code, words.english, False, words))
                break
    if not reasons:
        who = ", ".join(attachment.subjects)
        words = (
            Words.of(N_("{noun} may go with the lesson: {who} agreed"), noun=noun, who=who)
            if who
            else Words.of(N_("{noun} names no one in it and goes with the lesson"), noun=noun)
        )
        reasons.append(AttachmentReason("attachment_consented", words.english, True, words))
    return AttachmentDecision(attachment, all(r.allows for r in reasons), tuple(reasons))


def _subject_problem(
    attachment: Attachment, consent: Consent, pseudonym: str, now: int
) -> tuple[str, Words] | None:
    entry = _entry(consent.subjects, pseudonym)
    if entry is None:
        return "subject_unknown", Words.of(N_("{name} has no consent entry"), name=pseudonym)
    if entry.withdrawn:
        return "subject_withdrawn", Words.of(N_("{name} withdrew their consent"), name=pseudonym)
    if not entry.share:
        return "subject_not_shared", Words.of(N_("{name} did not agree to sharing"), name=pseudonym)
    if entry.expires is not None and entry.expires <= now:
        return "subject_expired", Words.of(N_("{name}'s consent has expired"), name=pseudonym)
    if attachment.shows_people and not entry.photographed:
        return "not_photographed", Words.of(
            N_("{name} did not agree to be photographed"), name=pseudonym
        )
    if attachment.records_people and not entry.recorded:
        return "not_recorded", Words.of(N_("{name} did not agree to be recorded"), name=pseudonym)
    return None


def _entry(subjects: tuple[Subject, ...], pseudonym: str) -> Subject | None:
    return next((subject for subject in subjects if subject.pseudonym == pseudonym), None)


def attachments_allowed(
    attachments: Sequence[Attachment], consents: Sequence[Consent], now: int
) -> list[AttachmentDecision]:
    """The decision for each attachment of a record."""
    return [decide_attachment(attachment, consents, now) for attachment in attachments]
