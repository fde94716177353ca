"""Export a collection for participants without the node: an HTML folder or one PDF.

Only lessons whose consent is public and unconditional go in (:mod:`node.export.rule`); if
any lesson of the collection is not, or is not in this archive, the export is refused whole
with each reason, and nothing is written. A lesson's attachments go in where the consent of
every person in them allows (:mod:`node.export.attachments`); the PDF takes the photos (a
recording or a document cannot be printed); each one left out is named with its reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from archive.blobs import BlobStore
from archive.queries import load_record
from archive.record import Lesson
from governance.members import Member
from governance.roles import require
from node.actions.collections import CollectionView, show_collection
from node.errors import NodeError
from node.export.attachments import CopiedFile, LeftOut, plan_attachments
from node.export.html_folder import html_pages, write_folder
from node.export.rule import export_refusal
from node.node import Node

FORMATS = ("html", "pdf")


class ExportRefused(NodeError):
    """The collection holds lessons that may not leave on paper or a stick. Remove them
    from the collection (``rhizome collection remove``), or export another collection."""

    code = "export_refused"


@dataclass(frozen=True)
class ExportCollection:
    by: Member
    collection: str
    format: str  # "html" (a folder) or "pdf" (one file)
    destination: Path  # must not exist: an export never overwrites


@dataclass(frozen=True)
class Exported:
    path: Path
    lessons: int
    attachments: int  # copied into the folder or printed
    left_out: tuple[LeftOut, ...]  # each attachment that stayed out, with the reason


def exportable_lessons(entries: list[tuple[int, Lesson | None]]) -> list[Lesson]:
    """The lessons of a collection in order, or :class:`ExportRefused` naming every lesson
    that may not be copied and why (``None``: a lesson this archive does not hold)."""
    refusals = []
    for position, lesson in entries:
        if lesson is None:
            refusals.append(f"lesson {position} is not in this archive")
        elif reason := export_refusal(lesson):
            refusals.append(f"lesson {position} ({lesson.title}): {reason}")
    if refusals:
        raise ExportRefused("not exported: " + "; ".join(refusals))
    return [lesson for _, lesson in entries if lesson is not None]


def export_collection(node: Node, request: ExportCollection) -> Exported:
    """Write the offline copy at ``request.destination``."""
    require(request.by.name, request.by.roles, "collection.curate")
    if request.format not in FORMATS:
        raise ExportRefused(f"unknown format {request.format!r}: html or pdf")
    if request.destination.exists():
        raise ExportRefused(f"{request.destination} exists already: name a new folder or file")
    if request.format == "pdf":
        data, left_out, printed, count = collection_pdf(node, request.collection)
        request.destination.write_bytes(data)
        return Exported(request.destination, count, printed, tuple(left_out))
    view = show_collection(node, request.collection)
    lessons = exportable_lessons(lessons_of(node, view))
    files, left_out = plan_attachments(lessons, _blob_reader(node), node.now())
    lesson = view.record.lesson
    pages = html_pages(lesson.title, view.collection.cohort, lesson.body, lessons, files)
    write_folder(request.destination, pages)
    copied = sum(len(each) for each in files)
    return Exported(request.destination, len(lessons), copied, tuple(left_out))


def collection_pdf(node: Node, collection: str) -> tuple[bytes, list[LeftOut], int, int]:
    """(the PDF, the attachments left out, how many photos it prints, how many lessons):
    the same rules as a folder, for the page's download and ``export --format pdf``."""
    view = show_collection(node, collection)
    lessons = exportable_lessons(lessons_of(node, view))
    files, left_out = plan_attachments(lessons, _blob_reader(node), node.now())
    images, unprintable = printable(lessons, files)
    lesson = view.record.lesson
    # Imported here: fpdf and its font tools cost every CLI command 0.4 s at start.
    from node.export.pdf import pdf_bytes

    data = pdf_bytes(lesson.title, view.collection.cohort, lesson.body, lessons, images)
    printed = sum(len(each) for each in images)
    return data, left_out + unprintable, printed, len(lessons)


UNPRINTABLE = "a printed copy holds photos only"


def printable(
    lessons: list[Lesson], files: list[list[CopiedFile]]
) -> tuple[list[list[CopiedFile]], list[LeftOut]]:
    """The photos of each lesson for the PDF, and the other files, left out."""
    images = [[copied for copied in each if copied.attachment.kind == "image"] for each in files]
    others = [
        LeftOut(lesson.title, copied.attachment, UNPRINTABLE)
        for lesson, each in zip(lessons, files, strict=True)
        for copied in each
        if copied.attachment.kind != "image"
    ]
    return images, others


def _blob_reader(node: Node) -> Callable[[str], bytes | None]:
    store = BlobStore.of(node.db)
    return lambda digest: store.read(digest) if store.has(digest) else None


def lessons_of(node: Node, view: CollectionView) -> list[tuple[int, Lesson | None]]:
    return [
        (entry.position, load_record(node.db, entry.lesson.id).lesson if entry.lesson else None)
        for entry in view.entries
    ]
