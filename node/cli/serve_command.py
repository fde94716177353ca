"""``rhizome serve`` and ``rhizome demo``."""

from __future__ import annotations

import ipaddress
import logging

import click
from aiohttp import web

from node.cli.context import CliContext
from node.cli.output import console, err_console
from node.demo.run import run_demo
from node.web.app import create_app


@click.command()
@click.option("--host", default=None, help="Address to listen on [default: config, 127.0.0.1].")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=None, help="Port [default: config, 8470]."
)
@click.pass_obj
def serve(cli: CliContext, host: str | None, port: int | None) -> None:
    """Run the node: JSON API, federation with peers, background sync and health check,
    until Ctrl-C or SIGTERM.

    It listens on 127.0.0.1 unless you pass --host on purpose. The node key is opened first
    (asking for its passphrase), because the node signs what it sends to peers.
    """
    node = cli.node()
    node.policy()  # refuse to start with a policy we cannot read, and say why
    host = host or node.config.host
    port = node.config.port if port is None else port
    app = create_app(node)
    configure_logging()
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


def configure_logging() -> None:
    """Readable log lines on stderr; they name ids and counts, never record content."""
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%Y-%m-%dT%H:%M:%S",
    )
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


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
