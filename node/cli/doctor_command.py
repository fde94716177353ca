"""``rhizome doctor``: check the home, the key, the disk, the schema, our URL and peers."""

from __future__ import annotations

import asyncio
import sys

import click

from crypto.errors import RhizomeError
from federation.peers import Peer, list_peers
from node.cli.context import CliContext
from node.cli.output import console, json_option, print_json
from node.doctor import (
    FAIL,
    WARN,
    Finding,
    echo_findings,
    findings_json,
    local_findings,
    network_findings,
)
from node.i18n import N_
from node.i18n import gettext as _
from node.node import Node
from node.status import node_status

MARKS = {"ok": N_("ok"), "warn": N_("WARN"), "fail": N_("FAIL")}


@click.command()
@json_option
@click.option("--offline", is_flag=True, help="Only the local checks: no network at all.")
@click.option(
    "--peer", "peer_name", metavar="NAME",
    help="Check only this peer (its name or node id), and ask only it for the echo.",
)  # fmt: skip
@click.pass_obj
def doctor(cli: CliContext, as_json: bool, offline: bool, peer_name: str | None) -> None:
    """Check that the node is safe and healthy, and say what to do about each problem:
    permissions of the home and its keys, the key's passphrase seal, free disk space, the
    database schema, whether the node's advertised URL answers, for every active peer
    whether it answers and how far its clock is from ours, and whether each active peer
    reaches this node at the URL it has for it (a signed echo: the peer tries the URL and
    signs what it saw).

    Exit status 1 if any check fails (warnings do not fail). The echo is signed with the
    node key: a sealed key needs its passphrase (RHIZOME_PASSPHRASE or a terminal);
    --offline needs none.
    """
    node = cli.node()
    found = node_status(node.paths, node.db, node.node_id, node.config.name)
    findings = local_findings(found, node.paths.root)
    if not offline:
        peers = [
            peer for peer in list_peers(node.db)
            if peer_name is None or peer_name in (peer.name, peer.node_id)
        ]  # fmt: skip
        if peer_name is not None and not peers:
            raise click.UsageError(
                _("no peer is named {name} (see `rhizome peer list`)").format(name=repr(peer_name))
            )
        findings += asyncio.run(network_findings(found, node.config.url, peers))
        findings += _echoes(node, peers)
    if as_json:
        print_json(findings_json(findings))
    else:
        marks = {result: _(mark) for result, mark in MARKS.items()}
        width = max(len(mark) for mark in marks.values())  # the checks line up
        for finding in findings:
            mark = marks[finding.result]
            console.print(f"{mark:<{width}}  {finding.check}: {finding.detail}", markup=False)
            if finding.remedy and finding.result != "ok":
                console.print(f"{'':<{width + 2}}→ {finding.remedy}", markup=False)
    if any(finding.result == FAIL for finding in findings):
        sys.exit(1)


def _echoes(node: Node, peers: list[Peer]) -> list[Finding]:
    """The signed echo from each active peer; a key that cannot be opened skips it."""
    if not any(peer.status == "active" for peer in peers):
        return []
    try:
        local = node.local_node()
    except RhizomeError as error:
        unopened = _("not asked: the node key cannot be opened ({error})").format(error=error)
        return [Finding(_("echo"), WARN, unopened)]
    return asyncio.run(echo_findings(local, peers))
