"""``rhizome verify``: prove the archive is intact."""

from __future__ import annotations

import sys

import click
from rich.progress import Progress

from archive.verify import verify_archive
from governance.decision_log import decision_chain_problems
from node.cli.context import CliContext
from node.cli.output import console, err_console, json_option, print_json
from node.i18n import gettext as _
from node.i18n import ngettext


@click.command()
@json_option
@click.pass_obj
def verify(cli: CliContext, as_json: bool) -> None:
    """Re-check every record signature, derived column, the event log and the decision log.

    Exit 0 when everything is intact; otherwise exit 2 and name each broken item.
    """
    node = cli.node()
    with Progress(console=err_console, disable=not err_console.is_terminal or as_json) as bar:
        task = bar.add_task("Verifying", total=None)
        report = verify_archive(node.db, node.public_key, lambda n: bar.advance(task, n))
    for broken in decision_chain_problems(node.db):
        item, _sep, text = broken.partition(": ")
        report.problems.append({"item": item, "problem": text})
    if as_json:
        print_json(
            {
                "intact": report.intact,
                "records_checked": report.records_checked,
                "events_checked": report.events_checked,
                "problems": report.problems,
            }
        )
    elif report.intact:
        records, entries = report.records_checked, report.events_checked
        said = _("Intact: {records} and {entries} verified.").format(
            records=ngettext("{count} record", "{count} records", records).format(count=records),
            entries=ngettext("{count} log entry", "{count} log entries", entries).format(
                count=entries
            ),
        )
        console.print(said, markup=False)
    else:
        for problem in report.problems:
            broken = _("BROKEN {item}: {problem}").format(**problem)
            console.print(broken, markup=False)
        count = len(report.problems)
        found = ngettext("{count} problem found.", "{count} problems found.", count)
        console.print(found.format(count=count), markup=False)
    if not report.intact:
        sys.exit(2)
