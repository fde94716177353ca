"""``rhizome lesson …``: add, import, list, show and search lessons."""

from __future__ import annotations

from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from archive.queries import RecordSummary
from archive.record import KINDS
from archive.search import SearchFilters, count_matches, mark_hits
from governance.quarantine import quarantined_records
from node.actions.lessons import (
    ApproveLesson,
    ReviewQuarantined,
    accept_lesson,
    approve_lesson,
    reject_lesson,
)
from node.actions.reading import (
    ListLessons,
    SearchLessons,
    every_lesson,
    list_lessons,
    search_lessons,
)
from node.cli.context import CliContext
from node.cli.lesson_intake_commands import add, import_
from node.cli.output import console, json_option, print_json, short
from node.details_json import details_lines
from node.i18n import N_, ngettext
from node.i18n import gettext as _
from node.serialize import hit_json, iso_time, lesson_detail, summary_json

MAX_COUNTED = 10_000  # search counts matches up to this, then says "10,000+"
# lesson show's fields: the key in lesson_detail, and its label for a person.
FIELD_LABELS = {
    "id": N_("id"),
    "kind": N_("kind"),
    "language": N_("language"),
    "region": N_("region"),
    "sensitivity": N_("sensitivity"),
    "origin": N_("origin"),
    "author": N_("author"),
    "created": N_("created"),
}


@click.group()
def lesson() -> None:
    """Add, import, list, show and search lessons."""


lesson.add_command(add)
lesson.add_command(import_)


@lesson.command(name="list")
@json_option
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most N lessons.")
@click.pass_obj
def list_(cli: CliContext, as_json: bool, limit: int | None) -> None:
    """List the newest version of every lesson, most recent first."""
    node = cli.node()
    if limit is None:
        records = list(every_lesson(node))
    else:
        records = list_lessons(node, ListLessons(limit=limit)).lessons
    if as_json:
        print_json([summary_json(record) for record in records])
        return
    _print_table(records)


@lesson.command()
@click.argument("record_id", metavar="ID")
@json_option
@click.pass_obj
def show(cli: CliContext, record_id: str, as_json: bool) -> None:
    """Show one lesson (ID or a unique prefix): fields, consent, body and version history."""
    node = cli.node()
    detail = lesson_detail(node.db, node.resolve_id(record_id), node.node_id)
    if as_json:
        print_json(detail)
        return
    _print_detail(detail)


@lesson.command()
@click.argument("record_id", metavar="ID")
@click.pass_obj
def approve(cli: CliContext, record_id: str) -> None:
    """Approve lesson ID for sharing, signed with your member key (curators only).

    An approval is bound to this exact version; authors cannot approve their own lessons.
    """
    node, member = cli.acting_member()
    done = approve_lesson(node, ApproveLesson(member, record_id))
    said = (
        _("Approved {title} ({id}) as {member}.")
        if done.new
        else _("Already approved by you: {title} ({id}) as {member}.")
    )
    title, full_id = done.record.title, done.record.id
    console.print(said.format(title=title, id=short(full_id), member=done.member), markup=False)


@lesson.command()
@click.argument("record_id", metavar="ID")
@click.pass_obj
def accept(cli: CliContext, record_id: str) -> None:
    """Let a quarantined lesson from a peer show in list and search."""
    node, member = cli.acting_member()
    full_id = accept_lesson(node, ReviewQuarantined(member, record_id))
    console.print(_("Accepted {id}.").format(id=short(full_id)), markup=False)


@lesson.command()
@click.argument("record_id", metavar="ID")
@click.pass_obj
def reject(cli: CliContext, record_id: str) -> None:
    """Refuse a quarantined lesson from a peer: it is purged and never fetched again."""
    node, member = cli.acting_member()
    full_id = reject_lesson(node, ReviewQuarantined(member, record_id))
    console.print(_("Rejected and purged {id}.").format(id=short(full_id)), markup=False)


@lesson.command(name="quarantine")
@json_option
@click.pass_obj
def quarantine_(cli: CliContext, as_json: bool) -> None:
    """List lessons from peers waiting for a curator to accept or reject them."""
    records = quarantined_records(cli.node().db)
    if as_json:
        print_json([summary_json(record) for record in records])
        return
    if not records:
        console.print(_("Nothing waits in quarantine."), markup=False)
        return
    _print_table(records)


@lesson.command(name="search")
@click.argument("query")
@json_option
@click.option("--kind", type=click.Choice(KINDS), default=None, help="Only this kind.")
@click.option("--language", default=None, help="Only this language (BCP 47).")
@click.option("--region", default=None, help="Only this region.")
@click.option("--tag", default=None, help="Only lessons with this tag.")
@click.option("--limit", type=click.IntRange(1, 500), default=20, show_default=True)
@click.pass_obj
def search_(
    cli: CliContext,
    query: str,
    as_json: bool,
    kind: str | None,
    language: str | None,
    region: str | None,
    tag: str | None,
    limit: int,
) -> None:
    """Full-text search (case and accents ignored), best matches first."""
    filters = SearchFilters(kind=kind, language=language, region=region, tag=tag)
    node = cli.node()
    hits = search_lessons(node, SearchLessons(query, filters, limit))
    if as_json:
        print_json([hit_json(hit) for hit in hits])
        return
    if not hits:
        console.print(_("No lessons match."), markup=False)
        return
    total = count_matches(node.db, query, filters, cap=MAX_COUNTED)
    of = f"{MAX_COUNTED:,}+" if total > MAX_COUNTED else f"{total:,}"
    said = ngettext("{shown} of {count} lesson", "{shown} of {count} lessons", total).format(
        shown=len(hits), count=of
    )
    more = _("{found}; --limit shows more") if total > len(hits) else "{found}"
    console.print(more.format(found=said), markup=False)
    for hit in hits:
        record = hit.record
        where = f"{short(record.id)} · {record.kind} · {record.language}"
        console.print(f"[bold]{escape(record.title)}[/]  [dim]{where}[/]")
        snippet = mark_hits(escape(hit.snippet), "[reverse]", "[/reverse]")
        console.print(f"  {' '.join(snippet.split())}")


def _print_table(records: list[RecordSummary]) -> None:
    if not records:
        console.print(_("No lessons yet. Add one with `rhizome lesson add FILE.md`."), markup=False)
        return
    # Piped: whole titles, one tab-separated line per lesson, under the field names (codes a
    # script reads, like --json's keys: never translated).
    if not console.is_terminal:
        click.echo("\t".join(("id", "title", "kind", "lang", "created", "sensitivity")))
        for record in records:
            created = (iso_time(record.created) or "")[:10]
            fields = (record.id, record.title, record.kind, record.language, created,
                      record.sensitivity)  # fmt: skip
            click.echo("\t".join(" ".join(str(f).split()) for f in fields))
        return
    table = Table(box=None, pad_edge=False)
    fixed = ((_("kind"), 15), (_("lang"), 5), (_("created"), 10), (_("sensitivity"), 11))
    # The title takes what the other columns leave, so none of them is ever dropped.
    title_width = max(
        16, console.width - 12 - sum(width for _name, width in fixed) - 2 * len(fixed) - 2
    )
    table.add_column(_("id"), no_wrap=True, width=12)
    table.add_column(_("title"), overflow="ellipsis", no_wrap=True, width=title_width)
    for name, width in fixed:
        table.add_column(name, no_wrap=True, width=width)
    for record in records:
        created = (iso_time(record.created) or "")[:10]
        table.add_row(
            short(record.id),
            escape(record.title),
            record.kind,
            record.language,
            created,
            record.sensitivity,
        )
    console.print(table)


def _print_detail(detail: dict[str, Any]) -> None:
    console.print(f"[bold]{escape(str(detail['title']))}[/]")
    width = max(12, *(len(_(label)) for label in FIELD_LABELS.values()))  # values line up
    for name, label in FIELD_LABELS.items():
        console.print(f"  {_(label):{width}} {detail[name]}", markup=False)
    consent = detail["consent"]
    assert isinstance(consent, dict)
    scope = _("{basis}, scope {scope}").format(basis=consent["basis"], scope=consent["scope"])
    consent_label = _("consent")
    console.print(f"  {consent_label:{width}} {scope}", markup=False)
    for key, heading in (("history", _("history:")), ("translations", _("translations:"))):
        entries = detail[key]
        assert isinstance(entries, list)
        if len(entries) > (1 if key == "history" else 0):
            console.print(f"  {heading}", markup=False)
            for entry in entries:
                marker = "→" if entry["id"] == detail["id"] else " "
                console.print(
                    f"   {marker} {short(entry['id'])}  {entry['created']}  {entry['title']}",
                    markup=False,
                )
    if detail.get("details"):
        for line in details_lines(detail["details"]):
            console.print(line, markup=False)
    _print_governance(detail)
    console.print()
    console.print(str(detail["body"]), markup=False)


def _print_governance(detail: dict[str, Any]) -> None:
    if detail.get("quarantined"):
        console.print(
            "  " + _("QUARANTINED: waits for a curator (rhizome lesson accept/reject)"),
            markup=False,
        )
    label_word = _("label")
    for label in detail["labels"]:
        console.print(
            f"  {label_word:12} {label['type']}: {label['name']} — {label['community']}",
            markup=False,
        )
    approvals = detail.get("approvals") or []
    if approvals:
        console.print("  " + _("approvals:"), markup=False)
    for approval in approvals:
        state = _("counts") if approval["counts"] else _("does not count now")
        if not approval["verified"]:
            state = _("SIGNATURE DOES NOT VERIFY")
        console.print(f"    {approval['member']}  {approval['at']}  ({state})", markup=False)
