"""The one rule of offline copies: only what nobody will ever need to withdraw.

A printed page or a copied folder cannot be purged, expire or honour a participant who
changes their mind, so an export takes a lesson only when its consent is public and
unconditional: scope ``public`` on a basis of consent, no expiry, and no participant whose
consent is withdrawn, limited in time or not given to sharing. Anything else is refused
with the reason, and the export stops whole: a copy with silent holes would mislead the
cohort that reads it.
"""

from __future__ import annotations

from archive.record import Lesson

PRINTED = "nobody could withdraw it from a printed copy"


def export_refusal(lesson: Lesson) -> str | None:
    """Why ``lesson`` may not go into an offline copy, or None when it may."""
    consent = lesson.consent
    if consent.scope != "public":
        return f"consent scope {consent.scope}, not public: {PRINTED}"
    if consent.basis != "consent":
        return f"consent basis {consent.basis}: the people in it never agreed, and {PRINTED}"
    if consent.expires is not None:
        return f"its consent expires: {PRINTED} when it does"
    for subject in consent.subjects:
        if subject.withdrawn or not subject.share:
            return f"participant {subject.pseudonym} did not agree to share: {PRINTED}"
        if subject.expires is not None:
            return f"participant {subject.pseudonym}'s consent expires: {PRINTED} when it does"
    return None
