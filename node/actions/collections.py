"""Collection actions: build a collection of lessons for a cohort, change it, read it.

A collection is a signed record (kind ``collection``, :mod:`archive.details`): its name,
cohort and introduction, and its lessons in order, each named by a commitment rather than
its id. It is shared by its own consent and the policy like any record; its lessons travel
only under their own decisions, so a collection never carries a lesson a peer may not have,
and a peer sees the gaps explained by the scope each missing lesson had (:func:`show`).
Every change is a new version that supersedes the last, signed like any lesson.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

from archive.details import Collection, CollectionItem, collection_item
from archive.exchange_queries import find_item, is_listed, latest_of_kind, record_scope
from archive.lesson_file import LessonDraft
from archive.queries import RecordSummary, history, load_record, record_summary
from archive.record import EXCHANGE_KINDS, Consent
from archive.signed_record import SignedRecord
from federation.peers import resolve_peer
from federation.sharing import Offer
from governance.members import Member
from governance.roles import require
from node.errors import NodeError
from node.node import Node
from node.reason_words import say_reason

# Why a peer may be missing a lesson, by the consent scope the lesson had when it was added.
GAP_WORDS = {
    "local": "consent scope local: it never leaves the hub where it was written",
    "peers": "consent scope peers: only the peers its consent names receive it",
    "federation": "held back by the origin hub's policy or approvals, or not arrived yet",
    "public": "held back by the origin hub's policy or approvals, or not arrived yet",
}
WITHDRAWN_WORDS = "no longer in this archive: withdrawn or purged since it was added"


class CollectionError(NodeError):
    """The collection cannot be changed this way; the message says why."""

    code = "invalid_collection"


@dataclass(frozen=True)
class CreateCollection:
    by: Member
    name: str
    cohort: str
    introduction: str = ""
    lessons: tuple[str, ...] = ()  # ids or unique prefixes, in order
    scope: str = "local"  # who may receive the collection itself (its lessons decide theirs)
    language: str | None = None


@dataclass(frozen=True)
class ChangeCollection:
    by: Member
    collection: str  # an id or prefix of any version: the newest is changed
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    position: int | None = None  # where ``add`` goes, 1-based; None: at the end
    name: str | None = None  # None: unchanged
    cohort: str | None = None
    introduction: str | None = None


@dataclass(frozen=True)
class Entry:
    """One place in a collection, as this node sees it."""

    position: int
    item: CollectionItem
    lesson: RecordSummary | None  # None: a gap
    gap: str | None = None  # why, in words

    @property
    def hint(self) -> str:
        return self.item.hint


@dataclass(frozen=True)
class CollectionView:
    record: SignedRecord
    collection: Collection
    entries: tuple[Entry, ...]
    own: bool  # written on this node

    @property
    def gaps(self) -> tuple[Entry, ...]:
        return tuple(entry for entry in self.entries if entry.lesson is None)

    def gap_summary(self) -> list[tuple[str, int]]:
        """(reason, how many lessons) of the gaps: "2 lessons ... consent scope local"."""
        counts = Counter(entry.gap for entry in self.gaps if entry.gap)
        return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))


def create_collection(node: Node, request: CreateCollection) -> str:
    """Sign and store a new collection; its full id."""
    require(request.by.name, request.by.roles, "collection.curate")
    items = tuple(_item_for(node, text) for text in request.lessons)
    _no_repeats(items)
    draft = LessonDraft(
        title=request.name,
        kind="collection",
        body=_body(request.introduction),
        language=request.language,
        consent=Consent(basis="consent", scope=request.scope),
        details=Collection(request.cohort.strip(), items),
    )
    return _store(node, draft, request.by)


def change_collection(node: Node, request: ChangeCollection) -> str:
    """Add or remove lessons: a new version superseding the newest; its full id."""
    require(request.by.name, request.by.roles, "collection.curate")
    newest = _newest_version(node, load_record(node.db, node.resolve_id(request.collection)))
    collection = _collection_of(newest)
    if newest.lesson.origin_id != node.node_id:
        raise CollectionError("only the hub that made a collection can change it")
    removed = {_item_for(node, text, check_listed=False).ref for text in request.remove}
    missing = removed - {item.ref for item in collection.items}
    if missing:
        raise CollectionError(f"{len(missing)} of the lessons to remove are not in the collection")
    # A lesson withdrawn since it was added leaves the collection at its next version.
    kept = [
        item
        for item in collection.items
        if item.ref not in removed and find_item(node.db, item) is not None
    ]
    added = [_item_for(node, text) for text in request.add]
    at = len(kept) if request.position is None else max(0, min(len(kept), request.position - 1))
    items = (*kept[:at], *added, *kept[at:])
    _no_repeats(items)
    lesson = newest.lesson
    if request.cohort is not None:
        collection = replace(collection, cohort=request.cohort.strip())
    introduction = lesson.body if request.introduction is None else _body(request.introduction)
    draft = LessonDraft(
        title=lesson.title if request.name is None else request.name,
        kind="collection",
        body=introduction,
        summary=lesson.summary,
        language=lesson.language,
        region=lesson.region,
        tags=lesson.tags,
        sensitivity=lesson.sensitivity,
        consent=lesson.consent,
        labels=lesson.labels,
        supersedes=newest.id_hex,
        details=replace(collection, items=items),
    )
    return _store(node, draft, request.by)


def show_collection(node: Node, collection: str) -> CollectionView:
    """The newest version of the collection (any version's id may name it), with each lesson
    found here, or the gap explained."""
    record = _newest_version(node, load_record(node.db, node.resolve_id(collection)))
    details = _collection_of(record)
    own = record.lesson.origin_id == node.node_id
    entries = tuple(
        _entry(node, position, item, own) for position, item in enumerate(details.items, 1)
    )
    return CollectionView(record, details, entries, own)


def list_collections(node: Node) -> list[CollectionView]:
    """Every collection here (newest versions), newest first, with its gaps counted."""
    return [
        show_collection(node, record.id_hex) for record in latest_of_kind(node.db, "collection")
    ]


@dataclass(frozen=True)
class PeerGap:
    entry: Entry
    reasons: tuple[str, ...]  # the decision's denials, in English words (JSON)
    said: tuple[str, ...] = ()  # the same in the reader's language (empty: as ``reasons``)


def gaps_for_peer(node: Node, collection: str, peer: str) -> list[PeerGap]:
    """Which lessons of the collection ``peer`` will not receive, and the decision's words
    (what ``rhizome policy explain`` says for each): what the peer will see as gaps."""
    view = show_collection(node, collection)
    target = resolve_peer(node.db, peer)
    offer = Offer.of(node.local_node())
    gaps = []
    for entry in view.entries:
        if entry.lesson is None:
            gaps.append(PeerGap(entry, (entry.gap or WITHDRAWN_WORDS,)))
            continue
        decision = offer.explain(entry.lesson.id, target)
        if decision is not None and not decision.allowed:
            denials = decision.denials
            gaps.append(
                PeerGap(
                    entry,
                    tuple(reason.text for reason in denials),
                    tuple(say_reason(reason) for reason in denials),
                )
            )
    return gaps


def _entry(node: Node, position: int, item: CollectionItem, own: bool) -> Entry:
    record_id = find_item(node.db, item)
    if record_id is not None and is_listed(node.db, record_id):
        return Entry(position, item, record_summary(node.db, record_id))
    if own:
        return Entry(position, item, None, WITHDRAWN_WORDS)
    return Entry(position, item, None, GAP_WORDS.get(item.scope, GAP_WORDS["federation"]))


def _item_for(node: Node, text: str, check_listed: bool = True) -> CollectionItem:
    record_id = node.resolve_id(text)
    summary = record_summary(node.db, record_id)
    if summary.kind in EXCHANGE_KINDS:
        raise CollectionError(f"{record_id[:12]} is a {summary.kind}: a collection holds lessons")
    if check_listed and not is_listed(node.db, record_id):
        raise CollectionError(
            f"{record_id[:12]} is an older version or waits in quarantine: add the newest, "
            "accepted version"
        )
    scope = record_scope(node.db, record_id) or "local"
    return collection_item(bytes.fromhex(record_id), scope)


def _body(introduction: str) -> str:
    text = introduction.replace("\r\n", "\n").strip()  # a web form sends CRLF
    return text + "\n" if text else ""


def _no_repeats(items: tuple[CollectionItem, ...]) -> None:
    refs = [item.ref for item in items]
    if len(set(refs)) != len(refs):
        raise CollectionError("a lesson appears twice in the collection")


def _collection_of(record: SignedRecord) -> Collection:
    details = record.lesson.details
    if not isinstance(details, Collection):
        raise CollectionError(f"{record.id_hex[:12]} is a {record.lesson.kind}, not a collection")
    return details


def _newest_version(node: Node, record: SignedRecord) -> SignedRecord:
    versions = history(node.db, record.id_hex)  # oldest first, the one named included
    return load_record(node.db, versions[-1].id) if versions else record


def _store(node: Node, draft: LessonDraft, by: Member) -> str:
    intake = node.take_lesson(draft, "collection", by.name)
    if intake.record_id is None:
        raise CollectionError(f"collection not stored: {intake}")
    return intake.record_id
