"""``rhizome status``: how the node is doing, read from its home (no key needed)."""

from __future__ import annotations

import click
from rich import filesize

from node.cli.context import CliContext
from node.cli.output import console, json_option, print_json
from node.i18n import N_, ngettext
from node.i18n import gettext as _
from node.serialize import iso_time
from node.status import NodeStatus, PeerHealth, node_status, status_json
from node.wording import plural

REACHABLE_WORDS = {
    "yes": N_("reachable"),
    "no": N_("NOT reachable"),
    "unknown": N_("no exchange yet"),
}


@click.command()
@json_option
@click.pass_obj
def status(cli: CliContext, as_json: bool) -> None:
    """Show how the node is doing: whether it is served, the key's seal, disk space, the
    schema, and per peer whether it is reachable, the last exchange and the last error,
    withdrawals still to deliver and purge receipts still missing.

    Exit status 0 even when there are warnings: read them, or use --json in scripts.
    """
    node = cli.node()
    found = node_status(node.paths, node.db, node.node_id, node.config.name)
    if as_json:
        print_json(status_json(found))
        return
    for line in status_lines(found):
        console.print(line, markup=False)


def status_lines(found: NodeStatus) -> list[str]:
    """The status for a person, in the current language (values, ids and codes as they are)."""
    if found.served_by:
        served = _("yes, by PID {pid} since {since}").format(
            pid=found.served_by.pid, since=iso_time(found.served_by.since)
        )
    else:
        served = _("no (start it with `rhizome serve`)")
    sealed = {
        True: _("sealed with a passphrase"),
        False: _("NOT sealed"),
        None: _("cannot be read"),
    }
    current_key = found.current_key
    if found.current_key != found.node_id:
        current_key = _("{key}  (rotated; the node id stays)").format(key=found.current_key)
    rows = [
        (_("Current key:"), current_key),
        (_("Served:"), served),
        (_("Node key:"), sealed[found.key_sealed]),
        (
            _("Schema:"),
            _("version {schema} (this Rhizome knows {latest})").format(
                schema=found.schema, latest=found.schema_latest
            ),
        ),
        (_("Disk free:"), filesize.decimal(found.disk_free)),
        (_("Records:"), str(found.records)),
        (
            _("Withdrawals:"),
            _("{count} still to deliver").format(count=found.withdrawals_waiting),
        ),
        (
            _("Purge receipts:"),
            ngettext("{count} missing", "{count} missing", found.receipts_missing).format(
                count=found.receipts_missing
            ),
        ),
        (_("Peers:"), str(len(found.peers)) if found.peers else _("none yet")),
    ]
    width = max(len(label) for label, _value in rows) + 3  # the values line up
    lines = [f"{found.name}  ({found.node_id})"]
    lines += [f"{label:<{width}}{value}" for label, value in rows]
    for health in found.peers:
        lines += _peer_lines(health)
    warnings = found.warnings()
    lines.append(_("Warnings:") if warnings else _("No warnings."))
    lines += [f"  - {warning}" for warning in warnings]
    return lines


def _peer_lines(health: PeerHealth) -> list[str]:
    peer = health.peer
    never = _("never")
    lines = [
        f"  {peer.name} ({peer.region}) [{peer.status}], {_(REACHABLE_WORDS[health.reachable])}",
        "    "
        + _("last exchange {exchange}, last successful sync {sync}").format(
            exchange=iso_time(health.last_exchange) or never,
            sync=iso_time(peer.last_sync) or never,
        ),
    ]
    if peer.last_error:
        lines.append("    " + _("last error: {error}").format(error=peer.last_error))
    if health.withdrawals_waiting or health.receipts_missing:
        lines.append(
            "    "
            + _("{withdrawals} to deliver, {receipts} missing").format(
                withdrawals=plural(health.withdrawals_waiting, "withdrawal"),
                receipts=plural(health.receipts_missing, "purge receipt"),
            )
        )
    return lines
