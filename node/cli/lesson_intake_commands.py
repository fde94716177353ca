"""``rhizome lesson add`` and ``rhizome lesson import``: lessons in, each one once.

Both go through the one rule of :mod:`archive.lesson_sources` (as the API and the web form
do): the same lesson again is "already here", a changed file becomes a new version only
with ``--update``, a withdrawn one is refused. ``--dry-run`` says what would happen and
stores nothing. An import stopped with Ctrl-C keeps what it stored, prints its summary and
exits 130; running it again resumes.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import click
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from archive.lesson_sources import Intake, Outcome, changed_error
from archive.queries import load_record
from node.actions.lessons import AddLesson, add_lesson
from node.cli.attach_options import attachment_inputs, attachment_options
from node.cli.context import CliContext
from node.cli.output import console, err_console, short
from node.i18n import gettext as _
from node.i18n import ngettext
from node.importer import FolderScan, ImportReport, import_files, scan_folder
from node.node import Node, read_lesson_file

INTERRUPTED_EXIT = 130  # what shells report for a command stopped by Ctrl-C (128 + SIGINT)
UPDATE_HELP = "Store a changed file as a new version of the lesson it was stored as."
DRY_RUN_HELP = "Say what would happen; store nothing."


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--update", is_flag=True, help=UPDATE_HELP)
@click.option("--dry-run", is_flag=True, help=DRY_RUN_HELP)
@attachment_options
@click.pass_obj
def add(
    cli: CliContext, file: Path, update: bool, dry_run: bool, attach: tuple[Path, ...],
    caption: tuple[str, ...], subjects: tuple[str, ...],
) -> None:  # fmt: skip
    """Sign and store one lesson from a Markdown FILE with YAML front matter.

    The same lesson again is not stored twice: it is "already here". Prints the record id
    as the last line (the one already here, or the new one).

    Attach photos, recordings and documents with --attach (or `attachments:` in the front
    matter); each file is cleaned of location and device metadata before it is stored.
    """
    node, member = cli.acting_member()
    draft, source = read_lesson_file(file)
    inputs = node.attachments_of_file(file, draft)
    inputs += attachment_inputs(attach, caption, subjects, node.attachment_caps)
    asked = AddLesson(
        member, draft, str(file), source, update=update, dry_run=dry_run,
        attachments=tuple(inputs),
    )  # fmt: skip
    intake = add_lesson(node, asked)
    if intake.outcome is Outcome.CHANGED and not dry_run:
        raise changed_error(intake)
    if dry_run:
        planned = _("Dry run: {plan}. Nothing was stored.").format(plan=_planned_line(intake))
        console.print(planned, markup=False)
        return
    assert intake.record_id is not None
    title = escape(intake.title)
    if intake.outcome is Outcome.ALREADY_HERE:
        console.print(_("Already here: [bold]{title}[/] (nothing stored)").format(title=title))
    else:
        record = load_record(node.db, intake.record_id)
        lesson = record.lesson
        said = (
            _("Added [bold]{title}[/] ({kind}, {language})")
            if intake.outcome is Outcome.STORED
            else _("Added a new version of [bold]{title}[/] ({kind}, {language})")
        )
        console.print(said.format(title=title, kind=lesson.kind, language=lesson.language))
        if note := node.widening_note(record):
            err_console.print(note, markup=False)
    click.echo(intake.record_id)


@click.command(name="import")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--recursive", is_flag=True, help="Read subfolders too (hidden ones excepted).")
@click.option("--update", is_flag=True, help=UPDATE_HELP)
@click.option("--dry-run", is_flag=True, help=DRY_RUN_HELP)
@click.pass_obj
def import_(cli: CliContext, folder: Path, recursive: bool, update: bool, dry_run: bool) -> None:
    """Add every lesson file (.md, .markdown) of FOLDER; report each refused file and keep
    the good ones.

    Safe to run again: lessons already here are not stored twice, so a run that was
    stopped resumes. Ctrl-C stops after the current file, keeps what was stored and prints
    the summary (exit 130).
    """
    node, member = cli.acting("lesson.add")
    scan = scan_folder(folder, recursive)
    if not dry_run:
        node.identity  # noqa: B018 -- ask for the passphrase before the progress bar starts
    report = _run(node, scan, member.name, update, dry_run)
    _print_report(report, scan, dry_run)
    if report.interrupted:
        sys.exit(INTERRUPTED_EXIT)
    if report.refused and not report.taken:
        sys.exit(1)


def _run(node: Node, scan: FolderScan, author: str, update: bool, dry_run: bool) -> ImportReport:
    report = ImportReport()
    columns = (TextColumn("Importing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with (
        _stop_on_ctrl_c() as stop_asked,
        Progress(*columns, console=err_console, disable=not err_console.is_terminal) as bar,
    ):
        task = bar.add_task("import", total=len(scan.files))
        try:
            import_files(
                node, scan.files, author, lambda n: bar.advance(task, n),
                update=update, dry_run=dry_run, should_stop=stop_asked, report=report,
            )  # fmt: skip
        except KeyboardInterrupt:  # a second Ctrl-C: the batch under way is rolled back
            report.interrupted = True
    if stop_asked():
        report.interrupted = report.done < len(scan.files)
    return report


@contextmanager
def _stop_on_ctrl_c() -> Iterator[Callable[[], bool]]:
    """The first Ctrl-C asks the import to stop after the current file; a second one
    interrupts at once. Outside the main thread (no signals there) it never asks."""
    asked: list[bool] = []

    def ask(signum: int, frame: FrameType | None) -> None:
        asked.append(True)
        err_console.print(_("Stopping after this file… (Ctrl-C again to stop at once)"))
        signal.signal(signal.SIGINT, signal.default_int_handler)

    try:
        previous = signal.signal(signal.SIGINT, ask)
    except ValueError:  # not the main thread
        yield lambda: False
        return
    try:
        yield lambda: bool(asked)
    finally:
        signal.signal(signal.SIGINT, previous)


def _print_report(report: ImportReport, scan: FolderScan, dry_run: bool) -> None:
    for where, problem in report.refused:
        err_console.print(_("refused {where}: {problem}").format(where=where, problem=problem),
                          markup=False)  # fmt: skip
    for intake in report.of(Outcome.CHANGED):
        assert intake.previous is not None
        changed = _(
            "changed {where}: stored before as {id}; use --update to store it as a new version"
        )
        err_console.print(changed.format(where=intake.where, id=short(intake.previous)),
                          markup=False)  # fmt: skip
    for intake in report.of(Outcome.UPDATED):
        assert intake.previous is not None
        updated = (
            _("updated {where}: would store a new version of {id}")
            if dry_run
            else _("updated {where}: stored a new version of {id}")
        )
        err_console.print(updated.format(where=intake.where, id=short(intake.previous)),
                          markup=False)  # fmt: skip
    skipped = _skipped(scan)
    if skipped:
        console.print(skipped, markup=False)
    if report.interrupted:
        stopped = _(
            "Interrupted after {done} of {total} files: what was stored stays. Run the same "
            "import again to resume."
        )
        console.print(stopped.format(done=f"{report.done:,}", total=f"{len(scan.files):,}"),
                      markup=False)  # fmt: skip
    console.print(_summary(report, dry_run), markup=False)


def _summary(report: ImportReport, dry_run: bool) -> str:
    counts = {
        "stored": f"{len(report.of(Outcome.STORED)):,}",
        "here": f"{len(report.of(Outcome.ALREADY_HERE)):,}",
        "updated": f"{len(report.of(Outcome.UPDATED)):,}",
        "changed": f"{len(report.of(Outcome.CHANGED)):,}",
        "refused": f"{len(report.refused):,}",
    }
    if dry_run:
        return _(
            "Dry run, nothing was stored. It would have: stored {stored}, already here {here}, "
            "updated {updated}, changed {changed}, refused {refused}."
        ).format(**counts)
    return _(
        "Stored {stored}, already here {here}, updated {updated}, changed {changed}, "
        "refused {refused}."
    ).format(**counts)


def _skipped(scan: FolderScan) -> str:
    folders, files = scan.skipped_folders, scan.skipped_files
    parts = []
    if folders:
        parts.append(ngettext("{count} subfolder (use --recursive to read them)",
                              "{count} subfolders (use --recursive to read them)",
                              folders).format(count=f"{folders:,}"))  # fmt: skip
    if files:
        parts.append(ngettext("{count} file that is not a lesson (.md, .markdown)",
                              "{count} files that are not lessons (.md, .markdown)",
                              files).format(count=f"{files:,}"))  # fmt: skip
    if len(parts) == 2:
        return _("Skipped {folders} and {files}.").format(folders=parts[0], files=parts[1])
    return _("Skipped {what}.").format(what=parts[0]) if parts else ""


def _planned_line(intake: Intake) -> str:
    if intake.outcome is Outcome.STORED:
        return _("would add {title}").format(title=intake.title)
    if intake.outcome is Outcome.ALREADY_HERE:
        if intake.record_id:
            here = _("{title} is already here as {id}")
            return here.format(title=intake.title, id=short(intake.record_id))
        return _("{title} is already here").format(title=intake.title)
    assert intake.previous is not None
    if intake.outcome is Outcome.UPDATED:
        newer = _("would add {title} as a new version of {id}")
        return newer.format(title=intake.title, id=short(intake.previous))
    changed = _(
        "{title} changed since it was stored as {id}; --update would store it as a new version"
    )
    return changed.format(title=intake.title, id=short(intake.previous))
