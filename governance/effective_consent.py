"""Effective consent: a record leaves only where every record that bounds it may go.

A record's own consent block is not the whole story. Its effective consent is the
intersection (the narrowest) of its own and that of

- every **later version** of it: once v2 narrows consent, v1 never leaves under wider terms
  than v2 (an earlier version does not bound a later one: widening in a new version is
  allowed, with the approvals :mod:`governance.versions` asks for);
- the **original** it translates (or an earlier version of it translated), with that
  original's own later versions and originals, recursively: a translation or a version of a
  record from another origin can only narrow that record's consent, may travel only where
  the original may, and passing it on needs the original's ``reshare`` unless we are the
  original's origin. A translation of an original we do not hold goes nowhere: we cannot
  tell where the original may go.

Version links count only within one origin (:func:`archive.derivation.may_supersede_origin`).
The decision function checks each bound as it checks the record's own consent and names
the bound in its reasons (:func:`governance.decisions.decide_outbound`). Because the result
is an intersection, adding a version or a translation link never widens what may leave.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from archive.derivation import BoundRow, all_consent_bounds, consent_bounds
from archive.record import Consent, consent_from_json
from governance.words import N_, Words

RELATION_WORDS = {
    "later": N_("a later version ({record})"),
    "original": N_("the original it derives from ({record})"),
    "unknown": N_("the original it derives from ({record})"),
}


@dataclass(frozen=True)
class Bound:
    """A record whose consent also limits this one (``consent`` None: we do not hold it)."""

    record_id: str
    relation: str  # "later", "original" or "unknown"
    origin: str
    consent: Consent | None
    sensitivity: str = "low"

    @property
    def words(self) -> str:
        """How explain names it: "a later version (1a2b3c4d)"."""
        return self.phrase.english

    @property
    def phrase(self) -> Words:
        return Words.of(RELATION_WORDS[self.relation], record=self.record_id[:8])


def _bound(row: BoundRow, parsed: dict[str, Consent]) -> Bound:
    if row.consent_json is None:
        return Bound(row.record_id, "unknown", "", None)
    consent = parsed.get(row.consent_json)
    if consent is None:
        consent = parsed[row.consent_json] = consent_from_json(row.consent_json)
    return Bound(row.record_id, row.relation, str(row.origin), consent, str(row.sensitivity))


def bounds_of(db: sqlite_utils.Database, record_id: str) -> tuple[Bound, ...]:
    """The bounds of one record (one query)."""
    parsed: dict[str, Consent] = {}
    return tuple(_bound(row, parsed) for row in consent_bounds(db, record_id))


class ConsentBounds:
    """The bounds of every record, read in one query the first time one is asked for (an
    offer set over a whole archive must not cost a query per record)."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self._all: dict[str, tuple[Bound, ...]] | None = None

    def of(self, record_id: str) -> tuple[Bound, ...]:
        if self._all is None:
            parsed: dict[str, Consent] = {}
            self._all = {
                root: tuple(_bound(row, parsed) for row in rows)
                for root, rows in all_consent_bounds(self.db).items()
            }
        return self._all.get(record_id, ())
