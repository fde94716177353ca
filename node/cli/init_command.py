"""``rhizome init``: create a node home."""

from __future__ import annotations

import os
import sys

import click

from archive.record import is_language_tag
from crypto.signing import SigningIdentity
from node.cli.context import CliContext
from node.cli.key_commands import parse_split, show_recovery_key
from node.cli.output import console, err_console
from node.config import DEFAULT_HOST, DEFAULT_PORT
from node.errors import ConfigError
from node.home import HomePaths, create_home
from node.i18n import gettext as _
from node.keys import start_key_history
from node.node import Node
from node.passphrase import ENV_VAR, new_passphrase
from node.passphrase_sources import CHOOSING_SCREEN, propose_passphrase
from node.tls import node_fingerprint


@click.command()
@click.option("--name", required=True, help="The hub's name, as peers will see it.")
@click.option("--region", required=True, help="The hub's region, e.g. 'East Africa'.")
@click.option(
    "--language", default="en", show_default=True, help="Default lesson language (BCP 47)."
)
@click.option("--url", default=None, help="The address peers use to reach this node.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--passphrase/--no-passphrase",
    "ask_passphrase",
    default=None,
    help="Seal the home (database, keys, secrets) with a passphrase (asked twice) [default: "
    "ask on a terminal; "
    "RHIZOME_PASSPHRASE is used when set].",
)
@click.option(
    "--recovery-shares",
    "shares",
    default=None,
    metavar="K-of-N",
    help="Split the recovery key among N stewards, any K of whom can recover the node "
    "(e.g. 2-of-3), instead of printing one recovery code.",
)
@click.pass_obj
def init(
    cli: CliContext,
    name: str,
    region: str,
    language: str,
    url: str | None,
    port: int,
    ask_passphrase: bool | None,
    shares: str | None,
) -> None:
    """Create a new node home: key, config.toml, policy.toml and database.

    Prints the recovery code (or the stewards' shares) once: it is not stored in the home.
    Prints the node id last: read it to the hubs you pair with.
    """
    if not is_language_tag(language):
        raise ConfigError(
            _("--language: {value} is not a BCP 47 tag like en or pt-BR").format(
                value=repr(language)
            )
        )
    if shares:
        parse_split(shares)  # a typo must not leave a home whose recovery key was never shown
    HomePaths(cli.home).require_new()  # refuse before asking for a passphrase
    ask = sys.stdin.isatty() if ask_passphrase is None else ask_passphrase
    if ask and ENV_VAR not in os.environ:  # one screen: why, and a strong proposal
        screen = _(CHOOSING_SCREEN).format(proposal=propose_passphrase())
        err_console.print(screen, markup=False)
    passphrase = new_passphrase(ask)
    if passphrase is None and ask_passphrase is None and ENV_VAR not in os.environ:
        err_console.print(
            _(
                "Warning: no terminal to type a passphrase, so the node key is NOT sealed: "
                "whoever copies {home} can sign as this node. To seal it, run init in a "
                "terminal, or set {variable}; pass --no-passphrase to make an unsealed key on "
                "purpose."
            ).format(home=cli.home, variable=ENV_VAR),
            markup=False,
        )
    config, identity = create_home(
        cli.home,
        name=name.strip(),
        region=region.strip(),
        language=language,
        url=url,
        host=DEFAULT_HOST,
        port=port,
        passphrase=passphrase,
    )
    recovery = SigningIdentity.generate()  # never written to the home: shown once below
    opened = Node(cli.home, passphrase=lambda: passphrase or "")
    try:
        start_key_history(opened.db, identity, recovery.public_key, opened.now())
    finally:
        opened.close()
    if not passphrase and ask and ENV_VAR not in os.environ:  # an empty passphrase, typed
        err_console.print(
            _(
                "Warning: this hub is NOT sealed: its database, keys and secrets lie in plain "
                "text on disk. Fine for a lab or a demo; seal a real hub with `rhizome seal`."
            ),
            markup=False,
        )
    console.print(
        _("Created node {name} ({region}) in {home}").format(
            name=config.name, region=config.region, home=cli.home
        ),
        markup=False,
    )
    key_line = (
        _("Key: {path} (sealed with your passphrase); back it up somewhere safe.")
        if passphrase
        else _("Key: {path} (NOT sealed by a passphrase); back it up somewhere safe.")
    )
    console.print(key_line.format(path=cli.home / "node.key"), markup=False)
    show_recovery_key(recovery, shares)
    # The node id stays the last line (scripts read it with `tail -1`).
    console.print(
        _("TLS certificate fingerprint (SHA-256; compare it with what your browser shows):"),
        markup=False,
    )
    console.print(f"  {node_fingerprint(identity)}", markup=False, emoji=False)  # ":CD:"
    console.print(_("Node id:"), markup=False)
    click.echo(config.node_id)
