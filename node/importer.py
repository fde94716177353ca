"""``rhizome lesson import DIR``: many lesson files in one pass.

Files are parsed and signed first, then stored in batches (one transaction a batch, one
savepoint a file), so a bad file is reported with its reason and the good ones still go in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from archive.errors import InvalidLesson
from archive.lesson_file import parse_lesson_file
from archive.record import Lesson
from crypto.errors import RhizomeError
from node.node import DEFAULT_MEMBER, Node

BATCH_SIZE = 500
Progress = Callable[[int], None]


@dataclass
class ImportReport:
    imported: list[tuple[str, str]] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)


def lesson_files(folder: Path) -> list[Path]:
    """Every ``.md`` file directly in ``folder``, in name order."""
    if not folder.is_dir():
        raise InvalidLesson(str(folder), None, "not a folder")
    return sorted(path for path in folder.iterdir() if path.suffix == ".md" and path.is_file())


def import_folder(
    node: Node, folder: Path, author: str = DEFAULT_MEMBER, progress: Progress | None = None
) -> ImportReport:
    report = ImportReport()
    files = iter(lesson_files(folder))
    while batch := list(islice(files, BATCH_SIZE)):
        lessons = list(_parsed(node, batch, author, report))
        for where, outcome in node.writer.add_lessons(lessons):
            if isinstance(outcome, InvalidLesson):
                report.rejected.append((where, outcome.problem))
            else:
                report.imported.append((where, outcome.id_hex))
        if progress:
            progress(len(batch))
    return report


def _parsed(
    node: Node, paths: list[Path], author: str, report: ImportReport
) -> Iterator[tuple[str, Lesson]]:
    for path in paths:
        where = str(path)
        try:
            draft = parse_lesson_file(path.read_bytes(), where)
            yield where, node.lesson_from_draft(draft, where, author)
        except InvalidLesson as error:
            report.rejected.append((where, str(error).removeprefix(f"{where}: ")))
        except (OSError, RhizomeError) as error:
            report.rejected.append((where, str(error)))
