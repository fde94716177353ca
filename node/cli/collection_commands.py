"""``rhizome collection …``: build a collection of lessons for a cohort, and export it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from archive.record import SCOPES
from node.actions.collections import (
    ChangeCollection,
    CollectionView,
    CreateCollection,
    PeerGap,
    change_collection,
    create_collection,
    gaps_for_peer,
    list_collections,
    show_collection,
)
from node.actions.exports import FORMATS, ExportCollection, export_collection
from node.cli.context import CliContext
from node.cli.output import console, json_option, print_json, short
from node.exchange_serialize import collection_json
from node.i18n import gettext as _
from node.i18n import ngettext


@click.group()
def collection() -> None:
    """Build collections of lessons for a cohort, and export them for offline reading."""


@collection.command()
@click.argument("name")
@click.argument("lessons", nargs=-1, metavar="[LESSON]...")
@click.option("--cohort", required=True, help="Who it is for: 'Nairobi 2027, legal observers'.")
@click.option("--intro", default="", help="The introduction (Markdown).")
@click.option(
    "--intro-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Read the introduction from this Markdown file.",
)  # fmt: skip
@click.option(
    "--scope", type=click.Choice(SCOPES), default="local", show_default=True,
    help="Who may receive the collection itself; each lesson keeps its own consent.",
)  # fmt: skip
@click.option("--language", default=None, help="BCP 47 tag [default: the node's language].")
@click.pass_obj
def create(
    cli: CliContext, name: str, lessons: tuple[str, ...], cohort: str, intro: str,
    intro_file: Path | None, scope: str, language: str | None,
) -> None:  # fmt: skip
    """Create collection NAME with the LESSONs given (ids or prefixes), in that order."""
    node, member = cli.acting_member()
    introduction = intro_file.read_text(encoding="utf-8") if intro_file else intro
    request = CreateCollection(member, name, cohort, introduction, lessons, scope, language)
    record_id = create_collection(node, request)
    console.print(_("Created collection {name} ({id}).").format(name=name, id=short(record_id)),
                  markup=False)  # fmt: skip


@collection.command()
@click.argument("collection_id", metavar="COLLECTION")
@click.argument("lessons", nargs=-1, required=True, metavar="LESSON...")
@click.option("--at", "position", type=click.IntRange(min=1), default=None,
              help="Put them at this place (1 is first) [default: at the end].")  # fmt: skip
@click.pass_obj
def add(
    cli: CliContext, collection_id: str, lessons: tuple[str, ...], position: int | None
) -> None:
    """Add LESSONs to COLLECTION: a new version of it, signed."""
    node, member = cli.acting_member()
    record_id = change_collection(node, ChangeCollection(member, collection_id, add=lessons,
                                                         position=position))  # fmt: skip
    console.print(
        _("New version {id} of the collection.").format(id=short(record_id)), markup=False
    )


@collection.command()
@click.argument("collection_id", metavar="COLLECTION")
@click.argument("lessons", nargs=-1, required=True, metavar="LESSON...")
@click.pass_obj
def remove(cli: CliContext, collection_id: str, lessons: tuple[str, ...]) -> None:
    """Remove LESSONs from COLLECTION: a new version of it, signed."""
    node, member = cli.acting_member()
    record_id = change_collection(node, ChangeCollection(member, collection_id, remove=lessons))
    console.print(
        _("New version {id} of the collection.").format(id=short(record_id)), markup=False
    )


@collection.command(name="list")
@json_option
@click.pass_obj
def list_(cli: CliContext, as_json: bool) -> None:
    """List the collections here (newest versions), with the lessons each is missing."""
    views = list_collections(cli.node())
    if as_json:
        print_json([collection_json(view) for view in views])
        return
    if not views:
        console.print(_("No collections yet: rhizome collection create NAME --cohort WHO"),
                      markup=False)  # fmt: skip
    for view in views:
        console.print(f"{short(view.record.id_hex)}  {view.record.lesson.title}  "
                      f"({_count_line(view)})", markup=False)  # fmt: skip


@collection.command()
@click.argument("collection_id", metavar="COLLECTION")
@click.option(
    "--peer", default=None, help="Which of its lessons this peer will not receive, and why."
)
@json_option
@click.pass_obj
def show(cli: CliContext, collection_id: str, peer: str | None, as_json: bool) -> None:
    """Show COLLECTION: its lessons in order, and each gap explained."""
    node = cli.node()
    view = show_collection(node, collection_id)
    answer: dict[str, Any] = collection_json(view)
    if peer is not None:
        gaps = gaps_for_peer(node, collection_id, peer)
        answer["withheld_from_peer"] = [
            {"position": gap.entry.position, "reasons": list(gap.reasons)} for gap in gaps
        ]
    if as_json:
        print_json(answer)
        return
    _print_view(view)
    if peer is not None:
        _print_peer_gaps(gaps, peer)


@collection.command()
@click.argument("collection_id", metavar="COLLECTION")
@click.argument("destination", type=click.Path(path_type=Path))
@click.option("--format", "format_", type=click.Choice(FORMATS), default="html", show_default=True,
              help="html: a folder that opens in any browser; pdf: one file to print.")  # fmt: skip
@click.pass_obj
def export(cli: CliContext, collection_id: str, destination: Path, format_: str) -> None:
    """Write COLLECTION to DESTINATION for participants without the node.

    Only lessons whose consent is public go on paper or a stick: nobody could withdraw
    them from a printed copy. Any other lesson refuses the whole export, with the reason.
    """
    node, member = cli.acting_member()
    done = export_collection(node, ExportCollection(member, collection_id, format_, destination))
    console.print(
        ngettext("Wrote {count} lesson to {path}.", "Wrote {count} lessons to {path}.",
                 done.lessons).format(count=done.lessons, path=done.path),
        markup=False,
    )  # fmt: skip
    if done.attachments:
        words = ngettext("With {count} attachment.", "With {count} attachments.", done.attachments)
        console.print(words.format(count=done.attachments), markup=False)
    for gone in done.left_out:
        console.print(_("Left out of {lesson}: {caption}: {reason}").format(
            lesson=gone.lesson, caption=gone.attachment.caption or gone.attachment.media_type,
            reason=gone.reason), markup=False)  # fmt: skip


def _count_line(view: CollectionView) -> str:
    total, gaps = len(view.entries), len(view.gaps)
    line = ngettext("{count} lesson", "{count} lessons", total).format(count=total)
    if gaps:
        line += ", " + ngettext("{count} missing", "{count} missing", gaps).format(count=gaps)
    return line


def _print_view(view: CollectionView) -> None:
    lesson = view.record.lesson
    console.print(f"{lesson.title}  ({short(view.record.id_hex)})", markup=False)
    console.print(_("For: {cohort}").format(cohort=view.collection.cohort), markup=False)
    if lesson.body.strip():
        console.print(lesson.body.strip(), markup=False)
    for entry in view.entries:
        if entry.lesson is not None:
            console.print(f"{entry.position:>3}. {entry.lesson.title}  ({short(entry.lesson.id)})",
                          markup=False)  # fmt: skip
        else:
            console.print(f"{entry.position:>3}. — {entry.gap}", markup=False)
    for reason, count in view.gap_summary():
        console.print(
            ngettext("{count} lesson of this collection is not here: {reason}",
                     "{count} lessons of this collection are not here: {reason}",
                     count).format(count=count, reason=reason),
            markup=False,
        )  # fmt: skip


def _print_peer_gaps(gaps: list[PeerGap], peer: str) -> None:
    if not gaps:
        console.print(_("{peer} may receive every lesson of this collection.").format(peer=peer),
                      markup=False)  # fmt: skip
    for gap in gaps:
        console.print(
            _("Lesson {position} does not go to {peer}: {reasons}").format(
                position=gap.entry.position, peer=peer, reasons="; ".join(gap.said or gap.reasons)),
            markup=False,
        )  # fmt: skip
