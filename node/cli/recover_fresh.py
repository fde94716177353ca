"""``rhizome key recover --node-id ID --peer NODE_ID@URL``: a hub with no backup comes back.

The walk-through of node/recover_home.py on a terminal: what is missing is asked for (the
recovery code without echo, the node id, the peers' addresses), every step is said as it
happens, and a refusal names the peer and why. Nothing is written unless a peer took the
recovery.
"""

from __future__ import annotations

import asyncio
import getpass
import sys

import aiohttp
import click

from crypto.recovery_code import join_recovery_shares, recovery_key_from_code
from crypto.signing import SigningIdentity
from node.cli.context import CliContext
from node.cli.output import console, err_console, print_json
from node.config import DEFAULT_PORT
from node.i18n import gettext as _
from node.keys import statement_summary
from node.passphrase import new_passphrase
from node.recover_home import FreshRecovery, PeerAddress, parse_peer_address, recover_without_backup


def recovery_key_asked(code: str | None, shares: tuple[str, ...]) -> SigningIdentity:
    """The recovery key from ``--code`` or ``--share``, or typed (without echo) when neither."""
    if code and shares:
        raise click.UsageError(
            _("give the recovery code (--code) or the stewards' shares (--share), not both")
        )
    if shares:
        return join_recovery_shares(list(shares))
    if not code:
        if not sys.stdin.isatty():
            raise click.UsageError(
                _("give the recovery code (--code) or the stewards' shares (--share)")
            )
        code = getpass.getpass(_("Recovery code (as printed at init): "))
    return recovery_key_from_code(code)


def peers_asked(texts: tuple[str, ...]) -> list[PeerAddress]:
    """The peers' addresses from ``--peer``, or typed one a line when none were given."""
    found = list(texts)
    if not found and sys.stdin.isatty():
        err_console.print(
            _("Give each peer as NODE_ID@URL (its node id and address, read to you by its "
              "operator) or paste an invite code it made; an empty line ends."),
            markup=False,
        )  # fmt: skip
        while line := input("peer> ").strip():
            found.append(line)
    if not found:
        raise click.UsageError(_("name at least one peer (--peer NODE_ID@URL, or an invite code)"))
    return [parse_peer_address(text) for text in found]


def recover_fresh(
    cli: CliContext,
    *,
    node_id: str,
    recovery: SigningIdentity,
    peer_texts: tuple[str, ...],
    compromised_since: int | None,
    new_recovery_key: bool,
    url: str | None,
    port: int | None,
    as_json: bool,
) -> FreshRecovery:
    """Rebuild ``cli.home`` for ``node_id`` from its peers, saying each step."""
    peers = peers_asked(peer_texts)
    passphrase = new_passphrase(sys.stdin.isatty())

    def say(line: str) -> None:
        if not as_json:
            console.print(line, markup=False)

    say(
        _("Recovering node {node_id} in {home}, with no backup.").format(
            node_id=node_id, home=cli.home
        )
    )

    async def main() -> FreshRecovery:
        async with aiohttp.ClientSession() as session:
            return await recover_without_backup(
                cli.home, node_id=node_id, recovery=recovery, peers=peers, session=session,
                say=say, passphrase=passphrase, compromised_since=compromised_since,
                new_recovery_key=new_recovery_key, url=url, port=port or DEFAULT_PORT,
            )  # fmt: skip

    done = asyncio.run(main())
    if as_json:
        print_json(_report(done))
    else:
        _tell(done)
    return done


def _report(done: FreshRecovery) -> dict[str, object]:
    return {
        "node_id": done.node_id,
        "name": done.name,
        "home": str(done.home),
        "statement": statement_summary(done.statement),
        "accepted": done.accepted,
        "refused": done.refused,
        "received": sum(report.received for report in done.syncs),
        "errors": [error for report in done.syncs for error in report.errors],
    }


def _tell(done: FreshRecovery) -> None:
    received = sum(report.received for report in done.syncs)
    said = _("Recovered {name} ({node_id}): {peers} took the recovery; {count} lessons came back.")
    peers = ", ".join(done.accepted)
    console.print(
        said.format(name=done.name, node_id=done.node_id, peers=peers, count=received),
        markup=False,
    )
    for address, why in done.refused.items():
        console.print(_("  {peer} refused: {why}").format(peer=address, why=why), markup=False)
    console.print(
        _("Lost for good without a backup: lessons that never left this hub (scope local), "
          "members and their keys (add them again), attachments' files not yet fetched. "
          "Start the hub with `rhizome serve`."),
        markup=False,
    )  # fmt: skip
