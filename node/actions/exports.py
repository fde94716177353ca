"""Export a collection for participants without the node: an HTML folder or one PDF.

Only lessons whose consent is public and unconditional go in (:mod:`node.export.rule`); if
any lesson of the collection is not, or is not in this archive, the export is refused whole
with each reason, and nothing is written. Attachments are not copied yet: a lesson's
attachments would need their own consent check (their subjects' ``photographed`` and
``recorded``) before leaving on paper or a stick; until then the copy says how many were
left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from archive.queries import load_record
from archive.record import Lesson
from governance.members import Member
from governance.roles import require
from node.actions.collections import CollectionView, show_collection
from node.errors import NodeError
from node.export.html_folder import html_pages, write_folder
from node.export.pdf import pdf_bytes
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
    attachments_left_out: int


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
    view = show_collection(node, request.collection)
    lessons = exportable_lessons(lessons_of(node, view))
    lesson = view.record.lesson
    cohort = view.collection.cohort
    if request.format == "html":
        write_folder(request.destination, html_pages(lesson.title, cohort, lesson.body, lessons))
    else:
        data = pdf_bytes(lesson.title, cohort, lesson.body, lessons)
        request.destination.write_bytes(data)
    left_out = sum(len(item.attachments) for item in lessons)
    return Exported(request.destination, len(lessons), left_out)


def lessons_of(node: Node, view: CollectionView) -> list[tuple[int, Lesson | None]]:
    return [
        (entry.position, load_record(node.db, entry.lesson.id).lesson if entry.lesson else None)
        for entry in view.entries
    ]
