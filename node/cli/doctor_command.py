"""``rhizome doctor``: check the home, the key, the disk, the schema, our URL and peers."""

from __future__ import annotations

import asyncio
import sys

import click

from federation.peers import list_peers
from node.cli.context import CliContext
from node.cli.output import console, json_option, print_json
from node.doctor import FAIL, findings_json, local_findings, network_findings
from node.status import node_status

MARKS = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}


@click.command()
@json_option
@click.option("--offline", is_flag=True, help="Only the local checks: no network at all.")
@click.pass_obj
def doctor(cli: CliContext, as_json: bool, offline: bool) -> None:
    """Check that the node is safe and healthy, and say what to do about each problem:
    permissions of the home and its keys, the key's passphrase seal, free disk space, the
    database schema, whether the node's advertised URL answers, and for every active peer
    whether it answers and how far its clock is from ours.

    Exit status 1 if any check fails (warnings do not fail). No passphrase is needed.
    """
    node = cli.node()
    found = node_status(node.paths, node.db, node.node_id, node.config.name)
    findings = local_findings(found, node.paths.root)
    if not offline:
        peers = list_peers(node.db)
        findings += asyncio.run(network_findings(found, node.config.url, peers))
    if as_json:
        print_json(findings_json(findings))
    else:
        for finding in findings:
            console.print(
                f"{MARKS[finding.result]}  {finding.check}: {finding.detail}", markup=False
            )
            if finding.remedy and finding.result != "ok":
                console.print(f"      → {finding.remedy}", markup=False)
    if any(finding.result == FAIL for finding in findings):
        sys.exit(1)
