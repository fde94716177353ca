"""``rhizome serve`` and ``rhizome demo``."""

from __future__ import annotations

import ipaddress
import logging
import tempfile
from pathlib import Path

import click
from aiohttp import web

from node.cli.context import CliContext
from node.cli.output import console, err_console
from node.demo import run_demo_node
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
@click.option("--once", is_flag=True, help="Set up the demo, print what it holds, and exit.")
@click.option("--port", type=click.IntRange(0, 65535), default=8470, show_default=True)
def demo(once: bool, port: int) -> None:
    """Start a throwaway demo node loaded with the sample lessons (deleted on exit)."""
    with tempfile.TemporaryDirectory(prefix="rhizome-demo-") as folder:
        run_demo_node(Path(folder) / "nairobi", port=port, serve=not once)
