"""``rhizome bundle …``: carry records on a USB stick where the network is down or watched."""

from __future__ import annotations

import os
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from federation.bundles import (
    MAX_BUNDLE_BYTES,
    BadBundle,
    export_bundle,
    import_bundle,
    record_export,
    since_of,
)
from federation.peers import resolve_peer
from node.cli.context import CliContext
from node.cli.output import console, err_console, json_option, print_json
from node.i18n import gettext as _
from node.i18n import ngettext


@click.group()
def bundle() -> None:
    """Export records for one peer to a file, or import a file a peer gave you."""


@bundle.command(name="export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--for", "peer_ref", required=True, metavar="PEER", help="The peer it is for.")
@click.option(
    "--since",
    default=None,
    metavar="BUNDLE_OR_TIME",
    help="Only what is new since an earlier bundle file (or an ISO 8601 time).",
)
@click.pass_obj
def export_(cli: CliContext, file: Path, peer_ref: str, since: str | None) -> None:
    """Write what PEER may have to FILE: signed by this node, readable only by PEER."""
    node, _member = cli.acting("sync")
    peer = resolve_peer(node.db, peer_ref)
    if peer.status != "active":
        raise BadBundle(f"{peer.name} is {peer.status}; resume it first")
    since_time = since_of(node.db, since, peer) if since else None
    local = node.local_node()
    export = export_bundle(local, peer, since_time)
    data, contents = export.data, export.contents
    _write_new(file, data)
    record_export(local, peer, export)  # only once the file exists
    wrote = _(
        "Wrote {file}: {records} and {withdrawals} for {peer}, {size} bytes, sealed to their key."
    )
    console.print(
        wrote.format(
            file=file, records=_records(len(contents.records)),
            withdrawals=_withdrawals(len(contents.revocations)), peer=peer.name,
            size=f"{len(data):,}",
        ),
        markup=False,
    )  # fmt: skip
    if contents.left_out:
        left = _("{records} did not fit: export again with --since {file}")
        console.print(left.format(records=_records(contents.left_out), file=file), markup=False)


def _write_new(file: Path, data: bytes) -> None:
    try:
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as error:
        raise BadBundle(f"{file}: already exists; choose another name") from error
    except OSError as error:
        raise BadBundle(f"{file}: cannot create it ({error.strerror})") from error
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    except OSError as error:
        file.unlink(missing_ok=True)
        raise BadBundle(
            f"{file}: cannot write it ({error.strerror}); nothing was exported"
        ) from error


@bundle.command(name="import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Report what would change; store nothing.")
@json_option
@click.pass_obj
def import_(cli: CliContext, file: Path, dry_run: bool, as_json: bool) -> None:
    """Apply a bundle FILE from a peer, all or nothing, with the same checks as sync."""
    node, _member = cli.acting("sync")
    try:
        if file.stat().st_size > MAX_BUNDLE_BYTES:
            raise BadBundle(f"{file}: larger than the bundle limit of {MAX_BUNDLE_BYTES} bytes")
        data = file.read_bytes()
    except OSError as error:
        raise BadBundle(f"{file}: cannot read it ({error.strerror})") from error
    columns = (TextColumn("Importing"), BarColumn(), MofNCompleteColumn())
    disable = as_json or not err_console.is_terminal
    with Progress(*columns, console=err_console, disable=disable) as bar:
        task = bar.add_task("import", total=None)
        report = import_bundle(
            node.local_node(), data, dry_run=dry_run, progress=lambda n: bar.advance(task, n)
        )
    if as_json:
        print_json(vars(report))
        return
    said = (
        _("Would store {records} ({quarantined} to quarantine), {duplicates} already here, "
          "{refused} refused; {withdrawals} applied.")
        if dry_run
        else _("Stored {records} ({quarantined} to quarantine), {duplicates} already here, "
               "{refused} refused; {withdrawals} applied.")
    )  # fmt: skip
    console.print(
        said.format(
            records=_records(report.stored), quarantined=report.quarantined,
            duplicates=report.duplicates, refused=report.rejected,
            withdrawals=_withdrawals(report.revocations),
        ),
        markup=False,
    )  # fmt: skip
    if report.held:
        console.print(
            ngettext(
                "{count} record held: signed by a key of its origin this hub has not learnt "
                "yet. Sync with a peer that knows that hub's key history, then import the "
                "bundle again.",
                "{count} records held: signed by a key of their origin this hub has not learnt "
                "yet. Sync with a peer that knows that hub's key history, then import the "
                "bundle again.",
                report.held,
            ).format(count=report.held),
            markup=False,
        )


def _records(count: int) -> str:
    return ngettext("{count} record", "{count} records", count).format(count=count)


def _withdrawals(count: int) -> str:
    return ngettext("{count} withdrawal", "{count} withdrawals", count).format(count=count)
