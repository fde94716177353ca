"""Who may make a new version of a lesson, and what a version that widens consent needs.

One rule, used by every front-end (CLI ``lesson add``/``import``, the JSON API, the web edit
form, through ``RecordWriter``) and by the outbound decision:

- only the author of the version being replaced, or a steward, may supersede it;
- a version whose terms are wider than those of ANY earlier version of the record (wider
  scope, more peers, fewer denied regions, reshare turned on, a later or no expiry, more
  purposes, a participant's restriction lifted, or a lower sensitivity) is a *widening*: it
  leaves the node only with the curator approvals the strictest of those versions requires,
  and never fewer than one, never counting the editor's own (:mod:`governance.decisions`).

Comparing with every earlier version, not only the previous one, is what stops a widening
from being laundered: a second, unchanged version of an unapproved widening is still wider
than the original.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlite_utils

from archive.errors import InvalidLesson
from archive.event_log import append_event
from archive.record import SCOPES, SENSITIVITIES, Consent, Subject, consent_from_json
from archive.record_facts import earlier_versions, record_author
from archive.signed_record import SignedRecord
from crypto.signing import SigningIdentity
from governance.members import get_member

# What each widened field is called in words (policy explain, the event log, errors).
WIDENED_WORDS = {
    "basis": "consent basis",
    "scope": "scope",
    "peers": "named peers",
    "regions_allow": "allowed regions",
    "regions_deny": "denied regions",
    "reshare": "reshare",
    "expires": "expiry",
    "purposes": "purposes",
    "subjects": "participants' consent",
    "sensitivity": "sensitivity",
}


@dataclass(frozen=True)
class VersionTerms:
    """What one version of a record promises: its consent, sensitivity and author."""

    consent: Consent
    sensitivity: str
    author: str = ""


@dataclass(frozen=True)
class Widening:
    """How a version is wider than the earlier versions of its record."""

    fields: tuple[str, ...]
    strictest_sensitivity: str  # the highest sensitivity any earlier version had

    @property
    def words(self) -> str:
        return ", ".join(WIDENED_WORDS[name] for name in self.fields)


def may_supersede(editor: str, editor_roles: Iterable[str], replaced_author: str) -> bool:
    """Only the author of the replaced version or a steward may make a new version of it."""
    return editor == replaced_author or "steward" in set(editor_roles)


def supersede_refusal(editor: str, replaced_author: str) -> str:
    return (
        f"{editor} may not make a new version of a lesson written by {replaced_author}: "
        "only its author or a steward may"
    )


def widening(earlier: Sequence[VersionTerms], new: VersionTerms) -> Widening | None:
    """How ``new`` is wider than any of the ``earlier`` versions; None if it is not."""
    if not earlier:
        return None
    fields: set[str] = set()
    for old in earlier:
        fields.update(widened_consent(old.consent, new.consent))
        if SENSITIVITIES.index(new.sensitivity) < SENSITIVITIES.index(old.sensitivity):
            fields.add("sensitivity")
    if not fields:
        return None
    strictest = max((old.sensitivity for old in earlier), key=SENSITIVITIES.index)
    return Widening(tuple(name for name in WIDENED_WORDS if name in fields), strictest)


def approvals_for_widening(needed_for: dict[str, int], new_sensitivity: str, w: Widening) -> int:
    """The approvals a widened version needs: the stricter terms' count, at least one."""
    return max(needed_for[w.strictest_sensitivity], needed_for[new_sensitivity], 1)


def widened_consent(old: Consent, new: Consent) -> set[str]:
    """The consent fields in which ``new`` allows more than ``old``."""
    fields = set()
    if new.basis == "consent" and old.basis != "consent":
        fields.add("basis")
    if SCOPES.index(new.scope) > SCOPES.index(old.scope):
        fields.add("scope")
    elif new.scope == old.scope == "peers" and set(new.peers) - set(old.peers):
        fields.add("peers")
    if old.regions_allow and (
        not new.regions_allow or _folded(new.regions_allow) - _folded(old.regions_allow)
    ):
        fields.add("regions_allow")
    if _folded(old.regions_deny) - _folded(new.regions_deny):
        fields.add("regions_deny")
    if new.reshare and not old.reshare:
        fields.add("reshare")
    if _later(old.expires, new.expires):
        fields.add("expires")
    if (old.purposes and not new.purposes) or set(new.purposes) - set(old.purposes):
        fields.add("purposes")
    if _subjects_widened(old.subjects, new.subjects):
        fields.add("subjects")
    return fields


def _folded(regions: Iterable[str]) -> set[str]:
    return {region.strip().casefold() for region in regions}


def _later(old: int | None, new: int | None) -> bool:
    """Whether an expiry moved later (no expiry is the latest of all)."""
    return old is not None and (new is None or new > old)


def _subjects_widened(old: Sequence[Subject], new: Sequence[Subject]) -> bool:
    now_by_name = {subject.pseudonym: subject for subject in new}
    for before in old:
        after = now_by_name.get(before.pseudonym)
        if after is None:  # a participant's entry dropped: their restriction is gone
            return True
        if (
            (after.share and not before.share)
            or (after.recorded and not before.recorded)
            or (after.photographed and not before.photographed)
            or (before.withdrawn and not after.withdrawn)
            or _later(before.expires, after.expires)
        ):
            return True
    return False


def earlier_terms(
    db: sqlite_utils.Database, origin: str, record_id: str | None = None
) -> dict[str, list[VersionTerms]]:
    """The terms of every earlier version of ``origin``'s records (or of one record), by id.

    Only versions from the same origin count: a version can only be made by its origin.
    """
    found: dict[str, list[VersionTerms]] = {}
    for newer, consent, sensitivity, author, earlier_origin in earlier_versions(
        db, origin, record_id
    ):
        if earlier_origin == origin:
            found.setdefault(newer, []).append(
                VersionTerms(consent_from_json(consent), sensitivity, author)
            )
    return found


class Widenings:
    """The widenings of one origin's records, the chain read once per evaluation."""

    def __init__(self, db: sqlite_utils.Database, origin: str) -> None:
        self.db = db
        self.origin = origin
        self._earlier: dict[str, list[VersionTerms]] | None = None

    def of(
        self, record_id: str, origin: str, consent: Consent, sensitivity: str
    ) -> Widening | None:
        if origin != self.origin:  # a peer's record: its origin's curators decided
            return None
        if self._earlier is None:
            self._earlier = earlier_terms(self.db, self.origin)
        return widening(self._earlier.get(record_id, []), VersionTerms(consent, sensitivity))


def widening_detail(w: Widening, needed: int) -> dict[str, object]:
    """What the event log keeps of a widening (field names, never content)."""
    return {"widened": list(w.fields), "approvals_needed": needed}


def check_new_version(
    db: sqlite_utils.Database,
    identity: SigningIdentity,
    approvals_needed: dict[str, int],
    record: SignedRecord,
    where: str,
    now: int,
) -> Widening | None:
    """Apply the version rule to a new version of ours, just stored (in its transaction).

    Raise :class:`InvalidLesson` (the version is rolled back) unless its editor (the new
    version's author) wrote the version it replaces or is a steward; log a widening.
    """
    lesson = record.lesson
    assert lesson.supersedes is not None  # the writer calls this for new versions only
    replaced_author = str(record_author(db, lesson.supersedes.hex()))
    editor = get_member(db, lesson.author)
    roles = editor.roles if editor is not None and editor.active else ()
    if not may_supersede(lesson.author, roles, replaced_author):
        raise InvalidLesson(where, "supersedes", supersede_refusal(lesson.author, replaced_author))
    earlier = earlier_terms(db, lesson.origin_id, record.id_hex).get(record.id_hex, [])
    found = widening(earlier, VersionTerms(lesson.consent, lesson.sensitivity, lesson.author))
    if found is not None:
        needed = approvals_for_widening(approvals_needed, lesson.sensitivity, found)
        detail = {**widening_detail(found, needed), "editor": lesson.author}
        append_event(db, identity, "record.widened", record.id_hex, detail, now)
    return found


class WideningsOneByOne(Widenings):
    """The widenings of a few records, one query each: a fetched batch must not read the
    version chains of the whole archive (a scan per batch, linear in the archive)."""

    def of(
        self, record_id: str, origin: str, consent: Consent, sensitivity: str
    ) -> Widening | None:
        if origin != self.origin:  # a peer's record: its origin's curators decided
            return None
        earlier = earlier_terms(self.db, self.origin, record_id).get(record_id, [])
        return widening(earlier, VersionTerms(consent, sensitivity))
