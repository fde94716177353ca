"""``rhizome serve`` and ``rhizome demo``."""

from __future__ import annotations

import ipaddress

import click
from aiohttp import web

from node.cli.context import CliContext
from node.cli.output import console, err_console
from node.demo.run import run_demo
from node.web.app import create_app
from node.web.json_logs import configure_logging


@click.command()
@click.option("--host", default=None, help="Address to listen on [default: config, 127.0.0.1].")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=None, help="Port [default: config, 8470]."
)
@click.option(
    "--log-json", is_flag=True,
    help="Log one JSON object per line (time, level, logger, message, ids) on stderr.",
)  # fmt: skip
@click.pass_obj
def serve(cli: CliContext, host: str | None, port: int | None, log_json: bool) -> None:
    """Run the node: JSON API, federation with peers, background sync and health check,
    until Ctrl-C or SIGTERM.

    It listens on 127.0.0.1 unless you pass --host on purpose. The node key is opened first
    (asking for its passphrase), because the node signs what it sends to peers. Logs name
    ids and counts, never what a lesson says.
    """
    configure_logging(as_json=log_json)
    node = cli.node()
    node.policy()  # refuse to start with a policy we cannot read, and say why
    host = host or node.config.host
    port = node.config.port if port is None else port
    app = create_app(node)
    if not is_loopback(host) and node.config.public_read:
        err_console.print(
            f"Warning: listening on {host} with public_read on: anyone who can reach this "
            "address can read every lesson, local ones included.",
            markup=False,
        )
    console.print(
        f"Serving {node.config.name} on http://{host}:{port}/  (Ctrl-C to stop)", markup=False
    )
    try:
        web.run_app(app, host=host, port=port, print=None, handle_signals=True)
    finally:
        node.close()


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
