"""``rhizome lesson import DIR``: many lesson files in one pass, safe to run again.

Every file goes through the one rule of :mod:`archive.lesson_sources`: a lesson already here
(the same content, from any run, any path) is reported, not stored twice; a changed copy of
a stored lesson becomes a new version only with ``update``; a withdrawn one is refused. So a
run that was interrupted, killed or stopped half-way is finished by running it again.

Files are parsed and checked first, then stored in batches: one transaction a batch, one
savepoint a file, so a bad file is reported with its reason and the good ones still go in.
The report holds only what was committed: a batch rolled back by a crash or a second Ctrl-C
is simply taken in by the next run. ``should_stop`` is asked between files (the CLI's
first Ctrl-C), and the batch so far is then committed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from archive.attachment_intake import Prepared, blobs_stored, prepare, with_attachments
from archive.db import transaction
from archive.errors import InvalidLesson
from archive.lesson_file import parse_lesson_file
from archive.lesson_sources import (
    Intake,
    Outcome,
    SourceFile,
    content_bytes,
    plan_lesson,
    take_lesson,
)
from archive.record import Lesson
from crypto.errors import RhizomeError
from node.members_default import DEFAULT_MEMBER
from node.node import Node

BATCH_SIZE = 500
LESSON_SUFFIXES = (".md", ".markdown")  # compared without case: .MD and .Markdown too
Progress = Callable[[int], None]
StopAsked = Callable[[], bool]


@dataclass
class FolderScan:
    """The lesson files of a folder, and what was left out (said, never silent)."""

    files: list[Path]
    skipped_folders: int = 0
    skipped_files: int = 0


@dataclass
class ImportReport:
    """What happened to each file (committed only); ``interrupted`` if stopped early."""

    taken: list[Intake] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    interrupted: bool = False

    def of(self, outcome: Outcome) -> list[Intake]:
        return [intake for intake in self.taken if intake.outcome is outcome]

    @property
    def imported(self) -> list[tuple[str, str]]:
        """(file, record id) of every lesson stored by this run, new or a new version."""
        return [
            (intake.where, intake.record_id)
            for intake in self.taken
            if intake.outcome in (Outcome.STORED, Outcome.UPDATED) and intake.record_id
        ]

    @property
    def rejected(self) -> list[tuple[str, str]]:
        return self.refused

    @property
    def done(self) -> int:
        return len(self.taken) + len(self.refused)


def scan_folder(folder: Path, recursive: bool = False) -> FolderScan:
    """Every lesson file in ``folder`` (and its subfolders when ``recursive``, hidden ones
    such as ``.git`` left out), in path order."""
    if not folder.is_dir():
        raise InvalidLesson(str(folder), None, "not a folder")
    scan = FolderScan(files=[])
    pending = [folder]
    while pending:
        current = pending.pop()
        for path in current.iterdir():
            if path.name.startswith("."):
                continue
            if path.is_dir():
                if recursive:
                    pending.append(path)
                else:
                    scan.skipped_folders += 1
            elif path.is_file() and path.suffix.lower() in LESSON_SUFFIXES:
                scan.files.append(path)
            else:
                scan.skipped_files += 1
    scan.files.sort(key=lambda path: path.relative_to(folder).parts)
    return scan


def lesson_files(folder: Path, recursive: bool = False) -> list[Path]:
    return scan_folder(folder, recursive).files


def import_files(
    node: Node,
    files: list[Path],
    author: str = DEFAULT_MEMBER,
    progress: Progress | None = None,
    *,
    update: bool = False,
    dry_run: bool = False,
    should_stop: StopAsked = lambda: False,
    report: ImportReport | None = None,
) -> ImportReport:
    """Take in ``files``; fills ``report`` (pass one to keep what was committed even when a
    KeyboardInterrupt escapes) and returns it."""
    report = ImportReport() if report is None else report
    seen: set[bytes] = set()  # a dry run's own "stored" files, so a copy says already here
    pending = iter(files)
    while batch := list(islice(pending, BATCH_SIZE)):
        parsed = list(_parsed(node, batch, author, report, progress, should_stop))
        if dry_run:
            _plan(node, parsed, update, seen, report, progress)
        else:
            _store(node, parsed, update, report, progress, should_stop)
        if should_stop():
            report.interrupted = report.done < len(files)
            break
    return report


def import_folder(
    node: Node,
    folder: Path,
    author: str = DEFAULT_MEMBER,
    progress: Progress | None = None,
    *,
    recursive: bool = False,
    update: bool = False,
    dry_run: bool = False,
) -> ImportReport:
    """:func:`import_files` for the lesson files of ``folder``."""
    files = lesson_files(folder, recursive)
    return import_files(node, files, author, progress, update=update, dry_run=dry_run)


# The lesson, named by its path, its source, and its attachments cleaned (not yet stored).
Parsed = tuple[str, Lesson, SourceFile, list[Prepared]]


def _parsed(
    node: Node,
    paths: list[Path],
    author: str,
    report: ImportReport,
    progress: Progress | None,
    should_stop: StopAsked,
) -> Iterator[Parsed]:
    for path in paths:
        if should_stop():
            return
        where = str(path)
        try:
            draft = parse_lesson_file(path.read_bytes(), where)
            lesson = node.lesson_from_draft(draft, where, author)
            files = node.attachments_of_file(path, draft)  # front matter's attachments:
            prepared = prepare(files, node.attachment_caps, where)
            lesson = with_attachments(lesson, prepared, where)
        except InvalidLesson as error:
            report.refused.append((where, str(error).removeprefix(f"{where}: ")))
        except (OSError, RhizomeError) as error:
            report.refused.append((where, str(error)))
        else:
            yield where, lesson, SourceFile(str(path.resolve()), path.name), prepared
            continue
        if progress:
            progress(1)


def _store(
    node: Node,
    parsed: list[Parsed],
    update: bool,
    report: ImportReport,
    progress: Progress | None,
    should_stop: StopAsked,
) -> None:
    taken: list[Intake] = []
    refused: list[tuple[str, str]] = []
    with transaction(node.db):  # one commit a batch; each file in its own savepoint
        for where, lesson, source, prepared in parsed:
            if should_stop():
                break
            try:
                with blobs_stored(node.db, prepared):
                    taken.append(take_lesson(node.writer, lesson, where, source, update=update))
            except InvalidLesson as error:
                refused.append((where, error.problem))
            if progress:
                progress(1)
    report.taken.extend(taken)  # only now: committed
    report.refused.extend(refused)


def _plan(
    node: Node,
    parsed: list[Parsed],
    update: bool,
    seen: set[bytes],
    report: ImportReport,
    progress: Progress | None,
) -> None:
    for where, lesson, source, _ in parsed:
        try:
            intake = plan_lesson(node.db, lesson, where, source, update=update)
        except InvalidLesson as error:
            report.refused.append((where, error.problem))
        else:
            content = content_bytes(lesson)
            if intake.outcome is Outcome.STORED and content in seen:
                intake = Intake(where, Outcome.ALREADY_HERE, lesson.title)
            seen.add(content)
            report.taken.append(intake)
        if progress:
            progress(1)
