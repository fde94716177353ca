"""``rhizome verify``: prove the archive is intact."""

from __future__ import annotations

import sys

import click
from rich.progress import Progress

from archive.verify import verify_archive
from governance.decision_log import decision_chain_problems
from node.cli.context import CliContext
from node.cli.output import console, err_console, json_option, print_json
from node.wording import plural


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
        item, _, text = broken.partition(": ")
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
        counts = (
            f"{plural(report.records_checked, 'record')} and "
            f"{plural(report.events_checked, 'log entry')}"
        )
        console.print(f"Intact: {counts} verified.")
    else:
        for problem in report.problems:
            console.print(f"BROKEN {problem['item']}: {problem['problem']}", markup=False)
        count = len(report.problems)
        console.print(f"{count} problem{'s' if count != 1 else ''} found.")
    if not report.intact:
        sys.exit(2)
