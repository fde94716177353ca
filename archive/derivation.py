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
  derived record arriving later is refused like a stale copy, at any depth
  (:func:`withdrawn_link`). A revocation names only its origin's own records
  (:func:`withdrawal_scope`): withdrawing a translation never names its original.
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
# within one origin. Each row carries its record's links, so a step is one index lookup.
_WALK = """
WITH RECURSIVE walk (root, id, kind, origin, supersedes, translation_of) AS (
    SELECT id, id, 'self', origin, supersedes, translation_of FROM records WHERE {seeds}
    UNION
    SELECT walk.root, later.id, CASE walk.kind WHEN 'original' THEN 'original' ELSE 'later' END,
        later.origin, later.supersedes, later.translation_of
    FROM walk JOIN records AS later ON later.supersedes = walk.id AND later.origin = walk.origin
    WHERE walk.kind IN ('self', 'later', 'original')
    UNION
    SELECT walk.root, original.id, 'original',
        original.origin, original.supersedes, original.translation_of
    FROM walk JOIN records AS original ON original.id = walk.translation_of
    UNION
    SELECT walk.root, earlier.id,
        CASE WHEN walk.kind IN ('original', 'original_earlier') THEN 'original_earlier'
        ELSE 'earlier' END,
        earlier.origin, earlier.supersedes, earlier.translation_of
    FROM walk JOIN records AS earlier
    ON earlier.id = walk.supersedes AND earlier.origin = walk.origin
)
SELECT walk.root, walk.id, walk.kind, walk.origin, bound.consent, bound.sensitivity
FROM walk JOIN records AS bound ON bound.id = walk.id
WHERE walk.kind IN ('later', 'original') AND walk.id != walk.root
UNION ALL
SELECT DISTINCT walk.root, walk.translation_of, 'unknown', NULL, NULL, NULL FROM walk
WHERE walk.translation_of IS NOT NULL
AND NOT EXISTS (SELECT 1 FROM records AS held WHERE held.id = walk.translation_of)
"""
# Only records with a link can have a bound: a version (its earlier versions may translate
# something), a superseded record, a translation.
_LINKED = (
    "supersedes IS NOT NULL OR translation_of IS NOT NULL "
    "OR id IN (SELECT supersedes FROM records WHERE supersedes IS NOT NULL)"
)


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
    rows = db.execute(_WALK.format(seeds="id = ?"), [record_id])
    return sorted((BoundRow(*row[1:]) for row in rows), key=lambda bound: bound.record_id)


def all_consent_bounds(db: sqlite_utils.Database) -> dict[str, list[BoundRow]]:
    """The bounds of every record that has any, by record id: the same walk as
    :func:`consent_bounds`, done in memory over the linked records only (read in one
    query), then the bounds' consent in one more. An archive of unlinked lessons costs one
    scan; a query per record would cost a million."""
    graph = _LinkGraph(db)
    walked = {root: graph.bounds(root) for root in list(graph.links)}
    wanted = json.dumps(sorted({bound for found in walked.values() for bound, _ in found}))
    terms = {
        str(record_id): (str(consent), str(sensitivity))
        for record_id, consent, sensitivity in db.execute(
            "SELECT id, consent, sensitivity FROM records "
            "WHERE id IN (SELECT value FROM json_each(?))",
            [wanted],
        )
    }
    result: dict[str, list[BoundRow]] = {}
    for root, found in walked.items():
        for bound, relation in sorted(found):
            if relation == "unknown":
                row = BoundRow(bound, relation, None, None, None)
            else:
                row = BoundRow(bound, relation, graph.origin(bound), *terms[bound])
            result.setdefault(root, []).append(row)
    return result


class _LinkGraph:
    """(origin, supersedes, translation_of) of every linked record, and of every original
    we hold that a translation names, with the version links that count (same origin)."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.links: dict[str, tuple[str, str | None, str | None]] = {
            str(record_id): (str(origin), supersedes, translation_of)
            for record_id, origin, supersedes, translation_of in db.execute(
                f"SELECT id, origin, supersedes, translation_of FROM records WHERE {_LINKED}"
            )
        }
        originals = {link[2] for link in self.links.values() if link[2]} - set(self.links)
        self.originals = {
            str(record_id): (str(origin), None, None)
            for record_id, origin in db.execute(
                "SELECT id, origin FROM records WHERE id IN (SELECT value FROM json_each(?))",
                [json.dumps(sorted(originals))],
            )
        }
        self.later: dict[str, list[str]] = {}
        for record_id, (origin, supersedes, _) in self.links.items():
            if supersedes in self.links and self.links[supersedes][0] == origin:
                self.later.setdefault(supersedes, []).append(record_id)

    def _info(self, record_id: str) -> tuple[str, str | None, str | None] | None:
        return self.links.get(record_id) or self.originals.get(record_id)

    def origin(self, record_id: str) -> str:
        return self.links[record_id][0] if record_id in self.links else self.originals[record_id][0]

    def bounds(self, root: str) -> set[tuple[str, str]]:
        """The walk of ``_WALK`` from one root: {(bound id, relation)}."""
        seen = {(root, "self")}
        frontier = [(root, "self")]
        found: set[tuple[str, str]] = set()
        while frontier:
            record_id, kind = frontier.pop()
            origin, supersedes, translation_of = self._info(record_id) or ("", None, None)
            steps = []
            if kind in ("self", "later", "original"):
                down = "original" if kind == "original" else "later"
                steps += [(later, down) for later in self.later.get(record_id, ())]
            if translation_of is not None:
                if self._info(translation_of) is None:
                    found.add((translation_of, "unknown"))
                else:
                    steps.append((translation_of, "original"))
            earlier = self._info(supersedes) if supersedes else None
            if supersedes and earlier is not None and earlier[0] == origin:
                up = "original_earlier" if kind.startswith("original") else "earlier"
                steps.append((supersedes, up))
            for step in steps:
                if step not in seen:
                    seen.add(step)
                    frontier.append(step)
                    if step[1] in ("later", "original") and step[0] != root:
                        found.add(step)
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
    """The revocation that withdrew a record ``lesson`` derives from, at any depth, if one
    did: then ``lesson`` is refused like a stale copy (a tombstone beats derived copies too).

    The walk goes up the links as far as this archive knows them: through the records we
    hold, and through the records refused here because they derived from a withdrawn one
    (each keeps a tombstone, see ``archive.tombstones.tombstone_derived``), so a translation
    of a translation of a withdrawn lesson is refused even when the middle one never got
    in. The original of a translation counts as withdrawn when a tombstone covers it and we
    no longer hold it; the record a version replaces, only when the tombstone is bound to
    the version's own origin (a version is its origin's, so only its origin's withdrawal
    counts), and a version link across origins is not followed (it is inert).
    """
    seen: set[str] = set()
    frontier = [_Links.of(lesson)]
    while frontier:
        links = frontier.pop()
        steps = ((links.translation_of, None), (links.supersedes, links.origin))
        for target, bound_origin in steps:
            if target is None or target in seen:
                continue
            seen.add(target)
            row = db.execute(
                "SELECT t.revocation_id FROM tombstones AS t JOIN revocations AS r "
                "ON r.revocation_id = t.revocation_id WHERE t.record_id = ? "
                "AND (? IS NULL OR coalesce(t.derived_origin, r.origin) = ?) "
                "AND NOT EXISTS (SELECT 1 FROM records WHERE id = t.record_id) LIMIT 1",
                [target, bound_origin, bound_origin],
            ).fetchone()
            if row is not None:
                return str(row[0])
            held = _Links.held(db, target)
            if held is not None and bound_origin in (None, held.origin):
                frontier.append(held)
    return None


@dataclass(frozen=True)
class _Links:
    """A record's origin and the ids it derives from (hex)."""

    origin: str
    supersedes: str | None
    translation_of: str | None

    @classmethod
    def of(cls, lesson: Lesson) -> _Links:
        supersedes, original = lesson.supersedes, lesson.translation_of
        return cls(
            lesson.origin_id,
            None if supersedes is None else supersedes.hex(),
            None if original is None else original.hex(),
        )

    @classmethod
    def held(cls, db: sqlite_utils.Database, record_id: str) -> _Links | None:
        row = db.execute(
            "SELECT origin, supersedes, translation_of FROM records WHERE id = ?", [record_id]
        ).fetchone()
        return None if row is None else cls(str(row[0]), row[1], row[2])


def withdrawal_scope(db: sqlite_utils.Database, record_id: str, origin: str) -> list[str]:
    """The ids a revocation of ``record_id`` by ``origin`` names: the record, every version
    of it (earlier and later), the translations ``origin`` made of any of them, their
    versions and translations, and so on, downwards only.

    Only records held here whose origin is ``origin``: a revocation may name nothing else
    (a receiver refuses one naming another origin's record, and strikes its sender). So
    withdrawing a translation never names its original, nor an earlier version of that
    original that this node never held. Other origins' translations go with it anyway:
    every holder purges what derives from a withdrawn record (:func:`dependents_of`)."""
    found = {record_id}
    frontier = [record_id]
    while frontier:
        rows = db.execute(
            "SELECT earlier.id FROM records AS r JOIN records AS earlier "
            "ON earlier.id = r.supersedes AND earlier.origin = r.origin "
            "WHERE r.id = :id AND r.origin = :origin "
            "UNION SELECT id FROM records WHERE origin = :origin "
            "AND (supersedes = :id OR translation_of = :id)",
            {"id": frontier.pop(), "origin": origin},
        )
        for (linked,) in rows:
            if linked not in found:
                found.add(str(linked))
                frontier.append(str(linked))
    return sorted(found)
