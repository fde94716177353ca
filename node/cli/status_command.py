"""``rhizome status``: how the node is doing, read from its home (no key needed)."""

from __future__ import annotations

import click
from rich import filesize

from node.cli.context import CliContext
from node.cli.output import console, json_option, print_json
from node.serialize import iso_time
from node.status import NodeStatus, PeerHealth, node_status, status_json
from node.wording import plural

REACHABLE_WORDS = {
    "yes": "reachable",
    "no": "NOT reachable",
    "unknown": "no exchange yet",
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
    served = (
        f"yes, by {found.served_by.describe()}"
        if found.served_by
        else "no (start it with `rhizome serve`)"
    )
    sealed = {True: "sealed with a passphrase", False: "NOT sealed", None: "cannot be read"}
    lines = [
        f"{found.name}  ({found.node_id})",
        f"Current key:      {found.current_key}"
        + ("" if found.current_key == found.node_id else "  (rotated; the node id stays)"),
        f"Served:           {served}",
        f"Node key:         {sealed[found.key_sealed]}",
        f"Schema:           version {found.schema} (this Rhizome knows {found.schema_latest})",
        f"Disk free:        {filesize.decimal(found.disk_free)}",
        f"Records:          {found.records}",
        f"Withdrawals:      {found.withdrawals_waiting} still to deliver",
        f"Purge receipts:   {found.receipts_missing} missing",
    ]
    lines.append(f"Peers:            {len(found.peers) or 'none yet'}")
    for health in found.peers:
        lines += _peer_lines(health)
    warnings = found.warnings()
    lines.append("Warnings:" if warnings else "No warnings.")
    lines += [f"  - {warning}" for warning in warnings]
    return lines


def _peer_lines(health: PeerHealth) -> list[str]:
    peer = health.peer
    lines = [
        f"  {peer.name} ({peer.region}) [{peer.status}], {REACHABLE_WORDS[health.reachable]}",
        f"    last exchange {iso_time(health.last_exchange) or 'never'}, "
        f"last successful sync {iso_time(peer.last_sync) or 'never'}",
    ]
    if peer.last_error:
        lines.append(f"    last error: {peer.last_error}")
    if health.withdrawals_waiting or health.receipts_missing:
        lines.append(
            f"    {plural(health.withdrawals_waiting, 'withdrawal')} to deliver, "
            f"{plural(health.receipts_missing, 'purge receipt')} missing"
        )
    return lines
