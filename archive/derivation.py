"""Derived records: how versions and translations link to the records they come from.

A record may name the record it replaces (``supersedes``) and the original it translates
(``translation_of``). Those links carry three promises, and this module reads the archive
for all three:

- **Who may supersede.** Only a record of the same origin is a version of another
  (:func:`may_supersede_origin`); a ``supersedes`` link across origins is inert everywhere:
  it hides nothing, narrows nothing and widens nothing (it is refused on the way in, and the
  queries ignore it for records stored before the rule or before the original arrived).
- **Consent bounds.** A record leaves only where every record that bounds it may go: each
  later version of it, and the original it (or an earlier version of it) translates, with
  that original's own bounds, recursively (:func:`consent_bounds`, :func:`all_consent_bounds`).
- **Withdrawal reaches dependents.** When a record is revoked, the translations and versions
  derived from it are purged with it, whatever their origin (:func:`dependents_of`), and a
  derived record arriving later is refused like a stale copy (:func:`withdrawn_link`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import sqlite_utils

from archive.record import Lesson


def may_supersede_origin(old_origin: str, new_origin: str) -> bool:
    """Whether a record of ``new_origin`` may be a new version of one of ``old_origin``.

    Only the same origin may, today. The seam for key rotation: once a node's key can be
    rotated, a key on ``old_origin``'s rotation chain will be allowed here, and every path
    (inbound checks, the local writer, the latest-version queries in Python) follows.
    """
    return old_origin == new_origin


def foreign_supersede(db: sqlite_utils.Database, lesson: Lesson) -> str | None:
    """The origin of the record ``lesson`` claims to supersede, when we hold that record and
    its origin may not be superseded by ``lesson``'s (a hijack); None otherwise."""
    if lesson.supersedes is None:
        return None
    row = db.execute(
        "SELECT origin FROM records WHERE id = ?", [lesson.supersedes.hex()]
    ).fetchone()
    if row is None or may_supersede_origin(str(row[0]), lesson.origin_id):
        return None
    return str(row[0])


# A walk from each root along the links that bound its consent. Kinds: 'self' (the root),
# 'later' (a later version of it: a bound), 'earlier' (an earlier version: not a bound, but
# what it translates is), 'original' (an original translated by the root or an earlier
# version of it, or a later version of such an original: a bound), 'original_earlier' (an
# earlier version of an original: only what it translates bounds). Version links count only
# within one origin.
_WALK = """
WITH RECURSIVE walk (root, id, kind) AS (
    {seeds}
    UNION
    SELECT walk.root, later.id, CASE walk.kind WHEN 'original' THEN 'original' ELSE 'later' END
    FROM walk JOIN records AS cur ON cur.id = walk.id
    JOIN records AS later ON later.supersedes = cur.id AND later.origin = cur.origin
    WHERE walk.kind IN ('self', 'later', 'original')
    UNION
    SELECT walk.root, original.id, 'original'
    FROM walk JOIN records AS cur ON cur.id = walk.id
    JOIN records AS original ON original.id = cur.translation_of
    UNION
    SELECT walk.root, earlier.id,
        CASE WHEN walk.kind IN ('original', 'original_earlier') THEN 'original_earlier'
        ELSE 'earlier' END
    FROM walk JOIN records AS cur ON cur.id = walk.id
    JOIN records AS earlier ON earlier.id = cur.supersedes AND earlier.origin = cur.origin
)
SELECT walk.root, walk.id, walk.kind, bound.origin, bound.consent, bound.sensitivity
FROM walk JOIN records AS bound ON bound.id = walk.id
WHERE walk.kind IN ('later', 'original') AND walk.id != walk.root
UNION
SELECT walk.root, cur.translation_of, 'unknown', NULL, NULL, NULL
FROM walk JOIN records AS cur ON cur.id = walk.id
WHERE cur.translation_of IS NOT NULL
AND NOT EXISTS (SELECT 1 FROM records AS held WHERE held.id = cur.translation_of)
"""
# Only records with a link can have a bound: a version (its earlier versions may translate
# something), a superseded record, a translation. Each select uses an index.
_LINKED = """
    SELECT id, id, 'self' FROM records WHERE supersedes IS NOT NULL
    UNION SELECT id, id, 'self' FROM records WHERE translation_of IS NOT NULL
    UNION SELECT supersedes, supersedes, 'self' FROM records WHERE supersedes IS NOT NULL
"""


@dataclass(frozen=True)
class BoundRow:
    """One record that bounds another's consent, as stored (consent as its JSON column).

    ``relation`` is 'later' (a later version), 'original' (the original it translates, or a
    later version of that original) or 'unknown' (an original we do not hold: origin, consent
    and sensitivity are then None)."""

    record_id: str
    relation: str
    origin: str | None
    consent_json: str | None
    sensitivity: str | None


def consent_bounds(db: sqlite_utils.Database, record_id: str) -> list[BoundRow]:
    """Every record that bounds the consent of ``record_id`` (one query)."""
    rows = db.execute(_WALK.format(seeds="SELECT ?, ?, 'self'"), [record_id, record_id])
    return sorted((BoundRow(*row[1:]) for row in rows), key=lambda bound: bound.record_id)


def all_consent_bounds(db: sqlite_utils.Database) -> dict[str, list[BoundRow]]:
    """The bounds of every record that has any, by record id (one query for the archive)."""
    found: dict[str, list[BoundRow]] = {}
    for root, *bound in db.execute(_WALK.format(seeds=_LINKED)):
        found.setdefault(str(root), []).append(BoundRow(*bound))
    return found


# Downwards from withdrawn records: translations of them (any origin), and versions of a
# withdrawn record made by the origin of that record. ``:origin`` is the revocation's signer:
# a named id we no longer hold was its (it purged it); one held from another origin is not
# withdrawn at all, so nothing derived from it is either.
_DEPENDENTS = """
WITH RECURSIVE withdrawn (id, origin) AS (
    SELECT seed.value, :origin FROM json_each(:ids) AS seed
    LEFT JOIN records AS held ON held.id = seed.value
    WHERE held.origin IS NULL OR held.origin = :origin
    UNION
    SELECT derived.id, derived.origin FROM withdrawn
    JOIN records AS derived ON derived.translation_of = withdrawn.id
    UNION
    SELECT derived.id, derived.origin FROM withdrawn
    JOIN records AS derived ON derived.supersedes = withdrawn.id
    AND derived.origin = withdrawn.origin
)
SELECT DISTINCT id, origin FROM withdrawn
WHERE id NOT IN (SELECT value FROM json_each(:ids)) ORDER BY id
"""


def dependents_of(
    db: sqlite_utils.Database, record_ids: Iterable[str], origin: str
) -> list[tuple[str, str]]:
    """(id, origin) of the records we hold that derive from ``record_ids`` withdrawn by
    ``origin``: their translations by any origin, versions and translations of those, and so
    on. The ids themselves are left out; a version counts only when made by the origin of
    the record it replaces."""
    ids = json.dumps(sorted(set(record_ids)))
    rows = db.execute(_DEPENDENTS, {"ids": ids, "origin": origin})
    return [(str(record_id), str(derived_origin)) for record_id, derived_origin in rows]


def withdrawn_link(db: sqlite_utils.Database, lesson: Lesson) -> str | None:
    """The revocation that withdrew the record ``lesson`` derives from, if one did: then
    ``lesson`` is refused like a stale copy (a tombstone beats derived copies too).

    The original of a translation counts as withdrawn when a tombstone covers it and we no
    longer hold it; the record a version replaces, only when the tombstone is bound to the
    version's own origin (a version is its origin's, so only its origin's withdrawal counts).
    """
    for target, same_origin_only in (
        (lesson.translation_of, False),
        (lesson.supersedes, True),
    ):
        if target is None:
            continue
        row = db.execute(
            "SELECT t.revocation_id FROM tombstones AS t JOIN revocations AS r "
            "ON r.revocation_id = t.revocation_id WHERE t.record_id = ? "
            "AND (? = 0 OR coalesce(t.derived_origin, r.origin) = ?) "
            "AND NOT EXISTS (SELECT 1 FROM records WHERE id = t.record_id) LIMIT 1",
            [target.hex(), int(same_origin_only), lesson.origin_id],
        ).fetchone()
        if row is not None:
            return str(row[0])
    return None
