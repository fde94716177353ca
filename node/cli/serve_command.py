"""``rhizome serve`` and ``rhizome demo``."""

from __future__ import annotations

import errno
import ipaddress
import logging
import signal
import time
from pathlib import Path

import click
from aiohttp import web

from governance.policy_binding import binding_warnings
from node.cli.context import CliContext
from node.cli.output import console, err_console
from node.cli.serve_unlock import UNSEALED_WARNING, passphrase_source
from node.cli.serve_unlock import unlock_in_browser as serve_unlock_page
from node.config import load_config
from node.demo.run import run_demo
from node.home import HomePaths
from node.i18n import gettext as _
from node.node import Node
from node.sealed_home import is_sealed
from node.serve_lock import serving
from node.tls import PLAIN_HTTP_WARNING, server_tls
from node.web.app import create_app
from node.web.json_logs import LOG_LEVELS, configure_logging
from node.web.pages.wipe import SERVER_STOP

log = logging.getLogger("rhizome.serve")


@click.command()
@click.option("--host", default=None, help="Address to listen on [default: config, 127.0.0.1].")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=None, help="Port [default: config, 8470]."
)
@click.option(
    "--log-json", is_flag=True,
    help="Log one JSON object per line (time, level, logger, message, ids) on stderr.",
)  # fmt: skip
@click.option(
    "--log-level", type=click.Choice(LOG_LEVELS, case_sensitive=False), default="info",
    show_default=True, help="Log this level and above.",
)  # fmt: skip
@click.option(
    "--passphrase-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="A sealed home's passphrase, read from this file (mode 0600, owned by you).",
)  # fmt: skip
@click.option(
    "--passphrase-media", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="A sealed home's passphrase, read from a file on removable media (another disk).",
)  # fmt: skip
@click.option(
    "--unlock-in-browser", is_flag=True,
    help="A sealed home waits locked for its passphrase on the unlock page, even at a terminal.",
)  # fmt: skip
@click.pass_obj
def serve(
    cli: CliContext, host: str | None, port: int | None, log_json: bool, log_level: str,
    passphrase_file: Path | None, passphrase_media: Path | None, unlock_in_browser: bool,
) -> None:  # fmt: skip
    """Run the node: JSON API, federation with peers, background sync and health check,
    until Ctrl-C or SIGTERM.

    It listens on 127.0.0.1 unless you pass --host on purpose. One server per node home:
    a second `serve` on the same home says which process serves it. The node key is opened
    first (asking for its passphrase), because the node signs what it sends to peers. Logs
    name ids and counts, never what a lesson says.

    A sealed home needs its passphrase: from --passphrase-file, --passphrase-media, a systemd
    credential (rhizome-passphrase) or the terminal. With none of them (or with
    --unlock-in-browser) it starts locked: /healthz answers "locked" and the unlock page asks
    for the passphrase, then everything starts. Never put the passphrase in the environment.
    """
    configure_logging(as_json=log_json, level=log_level)
    paths = HomePaths(cli.home)
    paths.require_existing()
    source = passphrase_source(paths, passphrase_file, passphrase_media)
    config = load_config(paths.config)
    host = host or config.host
    port = config.port if port is None else port
    with serving(paths.root, int(time.time())):
        if source is None or (unlock_in_browser and is_sealed(paths.root)):
            typed = serve_unlock_page(paths, host, port)
            source = lambda: typed  # noqa: E731 -- kept in this process's memory only
        node = cli.node(source)
        try:
            _check_and_run(node, host, port)
        finally:
            node.close()


def _check_and_run(node: Node, host: str, port: int) -> None:
    if not node.sealed:
        err_console.print(_("Warning: {problem}").format(problem=_(UNSEALED_WARNING)), markup=False)
        log.warning("home not sealed", extra={"problem": UNSEALED_WARNING})
    # Refuse to start with a policy we cannot read, and say why; warn of peer sections
    # that cannot be resolved safely (those peers get nothing until the operator fixes them).
    for warning in binding_warnings(node.policy()):
        problem = f"{node.paths.policy}: {warning}"  # the governance layer's own words
        err_console.print(_("Warning: {problem}").format(problem=problem), markup=False)
        log.warning("policy section unresolved", extra={"problem": warning})
    _run(node, host, port)


def _run(node: Node, host: str, port: int) -> None:
    if not node.config.tls and not is_loopback(host):
        raise click.ClickException(
            _(
                "[server] tls = false is only for a node behind a TLS reverse proxy on this "
                "machine: listen on 127.0.0.1, not {host}, or turn tls back on"
            ).format(host=host)
        )
    app = create_app(node)
    app[SERVER_STOP] = stop_this_server  # a wipe from the web page ends the server
    if not is_loopback(host) and node.config.public_read:
        err_console.print(
            _(
                "Note: listening on {host} with public_read on: anyone who can reach this "
                "address can read the lessons whose consent scope is public, without signing in."
            ).format(host=host),
            markup=False,
        )

    context, scheme, certificate = server_tls(node)
    if node.config.allow_plain_http:
        err_console.print(
            _("Warning: {problem}").format(problem=_(PLAIN_HTTP_WARNING)), markup=False
        )
        log.warning("allow_plain_http is on", extra={"problem": PLAIN_HTTP_WARNING})

    def announce(_: str) -> None:  # called by aiohttp once the port is bound
        log.info("started", extra={"node": node.node_id, "host": host, "port": port,
                                   "certificate": certificate})  # fmt: skip
        console.print(
            "\n".join(serving_lines(node, f"{scheme}://{host}:{port}/", certificate)),
            markup=False,
            emoji=False,  # a fingerprint holds ":CD:", which rich would turn into an emoji
        )

    try:
        web.run_app(
            app, host=host, port=port, print=announce, handle_signals=True, ssl_context=context
        )
    except OSError as error:
        raise click.ClickException(listen_error(error, host, port)) from error
    log.info("stopped", extra={"node": node.node_id})
    console.print(_("Stopped {name}.").format(name=node.config.name), markup=False)


def serving_lines(node: Node, url: str, certificate: str) -> list[str]:
    """What ``serve`` prints once it listens: where, the node id and the certificate's
    fingerprint (to compare with what a browser shows), the values lined up."""
    labels = (_("node id"), _("certificate"))
    width = max(len(label) for label in labels) + 2
    return [
        _("Serving {name} on {url}  (Ctrl-C to stop)").format(name=node.config.name, url=url),
        f"  {labels[0]:<{width}}{node.node_id}",
        f"  {labels[1]:<{width}}{certificate}",
    ]


def stop_this_server() -> None:
    """Stop as on SIGTERM: aiohttp's clean shutdown (what a wipe from the web needs)."""
    signal.raise_signal(signal.SIGTERM)


def listen_error(error: OSError, host: str, port: int) -> str:
    """One line for an address we cannot listen on, naming what to do."""
    if error.errno == errno.EADDRINUSE:
        return _(
            "port {port} on {host} is already in use (another `rhizome serve`?); "
            "stop that program or pick another port with --port"
        ).format(port=port, host=host)
    if error.errno == errno.EACCES:
        return _(
            "not allowed to listen on port {port}; ports below 1024 need privileges, use --port"
        ).format(port=port)
    if error.errno == errno.EADDRNOTAVAIL:
        return _(
            "{host} is not an address of this machine; use --host with one of its addresses"
        ).format(host=host)
    return _("cannot listen on {host}:{port}: {error}").format(
        host=host, port=port, error=error.strerror or error
    )


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@click.command()
@click.option("--once", is_flag=True, help="Tell the story, then stop and delete everything.")
@click.option(
    "--port", type=click.IntRange(0, 65533), default=8470, show_default=True,
    help="First port of the three hubs (0: any free ports).",
)  # fmt: skip
def demo(once: bool, port: int) -> None:
    """Start three demo hubs on this machine (Nairobi, Manila, São Paulo) and tell their
    story: consent, approval, one-peer sharing, a reshare, a lesson that stays home, and a
    revocation with its receipts. They serve until Ctrl-C; everything is deleted after."""
    run_demo(port, once)
