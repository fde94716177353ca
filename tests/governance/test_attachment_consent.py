"""The consent of each person in an attachment, and the purposes a peer declared.

The matrix of the issue: subject × photographed / recorded / share / expired / withdrawn ×
the peer's declared purposes, as a property against the decision functions: an attachment
leaves only if every person it shows agreed to exactly what it does to them, and a lesson
whose consent names purposes reaches only peers whose purposes are all among them.
"""

from __future__ import annotations

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from archive.attachment import MEDIA_KINDS, Attachment
from archive.record import Consent, Subject
from governance.attachment_consent import decide_attachment
from governance.decisions import PeerFacts, RecordFacts, decide_outbound
from governance.policy_file import Policy

NOW = 1_780_000_000
NAMES = ("Heron", "Kite", "Otter")
PURPOSES = ("training", "research", "press")
POLICY = Policy(hash="test", approvals=(("low", 0), ("medium", 0), ("high", 0)))

subjects = st.builds(
    Subject,
    pseudonym=st.sampled_from(NAMES),
    share=st.booleans(),
    recorded=st.booleans(),
    photographed=st.booleans(),
    expires=st.none() | st.sampled_from([NOW - 1, NOW, NOW + 3600]),
    withdrawn=st.booleans(),
)
consents = st.lists(subjects, max_size=3, unique_by=lambda s: s.pseudonym).map(
    lambda found: Consent(basis="consent", scope="federation", subjects=tuple(found))
)
attachments = st.builds(
    Attachment,
    hash=st.just(bytes(32)),
    media_type=st.sampled_from(sorted(MEDIA_KINDS)),
    size=st.just(1),
    subjects=st.lists(st.sampled_from(NAMES), max_size=3, unique=True).map(tuple),
)


def agrees(subject: Subject | None, attachment: Attachment) -> bool:
    """The issue's rule, written out once more for the oracle."""
    if subject is None or subject.withdrawn or not subject.share:
        return False
    if subject.expires is not None and subject.expires <= NOW:
        return False
    kind = MEDIA_KINDS[attachment.media_type]
    if kind in ("image", "video") and not subject.photographed:
        return False
    return not (kind in ("audio", "video") and not subject.recorded)


@given(attachments, consents)
def test_an_attachment_leaves_only_with_the_consent_of_everyone_in_it(
    attachment: Attachment, consent: Consent
) -> None:
    entries = {subject.pseudonym: subject for subject in consent.subjects}
    expected = all(agrees(entries.get(name), attachment) for name in attachment.subjects)
    decision = decide_attachment(attachment, [consent], NOW)
    assert decision.allowed == expected
    if not expected:  # explain names the person who keeps it home
        refusing = [n for n in attachment.subjects if not agrees(entries.get(n), attachment)]
        assert refusing[0] in decision.words
        assert decision.words.startswith("the ")


@given(attachments, consents, consents)
def test_a_later_version_narrows_what_an_attachment_may_do(
    attachment: Attachment, own: Consent, later: Consent
) -> None:
    both = decide_attachment(attachment, [own, later], NOW).allowed
    assert both == (
        decide_attachment(attachment, [own], NOW).allowed
        and decide_attachment(attachment, [later], NOW).allowed
    )


def test_the_photo_stays_in_words() -> None:
    consent = Consent(basis="consent", scope="federation",
                      subjects=(Subject("Heron", share=True, recorded=True),))  # fmt: skip
    photo = Attachment(bytes(32), "image/jpeg", 10, subjects=("Heron",))
    decision = decide_attachment(photo, [consent], NOW)
    assert not decision.allowed
    assert decision.words == "the photo stays: Heron did not agree to be photographed"
    audio = dataclasses.replace(photo, media_type="audio/ogg")
    assert decide_attachment(audio, [consent], NOW).allowed


@given(
    st.lists(st.sampled_from(PURPOSES), unique=True).map(tuple),
    st.lists(st.sampled_from(PURPOSES), unique=True).map(tuple),
)
def test_a_lesson_goes_only_to_peers_whose_purposes_are_all_consented(
    consented: tuple[str, ...], declared: tuple[str, ...]
) -> None:
    facts = RecordFacts(
        record_id="ab" * 32, origin="LOCAL", sensitivity="low", kind="checklist",
        consent=Consent(basis="consent", scope="federation", purposes=consented),
    )  # fmt: skip
    peer = PeerFacts(node_id="PEER", name="Manila Hub", region="SEA", purposes=declared)
    decision = decide_outbound(facts, peer, POLICY, local_node="LOCAL", now=NOW)
    # A peer whose purposes were never recorded is not held to them (documented).
    expected = not consented or not declared or set(declared) <= set(consented)
    assert decision.allowed == expected
    denied = {r.code for r in decision.denials}
    assert ("purpose_not_consented" in denied) == (not expected)
    if consented and not declared:
        assert "purposes_undeclared" in decision.codes


def test_a_video_needs_both_photographed_and_recorded() -> None:
    video = Attachment(bytes(32), "video/mp4", 10, subjects=("Heron",))
    for photographed, recorded, words in (
        (True, False, "the video stays: Heron did not agree to be recorded"),
        (False, True, "the video stays: Heron did not agree to be photographed"),
        (True, True, "the video may go with the lesson: Heron agreed"),
    ):
        heron = Subject("Heron", share=True, recorded=recorded, photographed=photographed)
        consent = Consent(basis="consent", scope="federation", subjects=(heron,))
        for media_type in ("video/mp4", "video/webm", "video/x-matroska"):
            decision = decide_attachment(
                dataclasses.replace(video, media_type=media_type), [consent], NOW
            )
            assert decision.allowed == (photographed and recorded)
            assert decision.words == words
