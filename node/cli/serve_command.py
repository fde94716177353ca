"""``rhizome serve`` and ``rhizome demo``."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click
from aiohttp import web

from node.cli.context import CliContext
from node.cli.output import console
from node.demo import run_demo_node
from node.web.app import create_app


@click.command()
@click.option("--host", default=None, help="Address to listen on [default: config, 127.0.0.1].")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=None, help="Port [default: config, 8470]."
)
@click.pass_obj
def serve(cli: CliContext, host: str | None, port: int | None) -> None:
    """Run the node: web UI, JSON API and health check, until Ctrl-C or SIGTERM.

    It listens on 127.0.0.1 unless you pass --host on purpose.
    """
    node = cli.node()
    host = host or node.config.host
    port = node.config.port if port is None else port
    console.print(f"Serving {node.config.name} on http://{host}:{port}/  (Ctrl-C to stop)")
    try:
        web.run_app(create_app(node), host=host, port=port, print=None, handle_signals=True)
    finally:
        node.close()


@click.command()
@click.option("--once", is_flag=True, help="Set up the demo, print what it holds, and exit.")
@click.option("--port", type=click.IntRange(0, 65535), default=8470, show_default=True)
def demo(once: bool, port: int) -> None:
    """Start a throwaway demo node loaded with the sample lessons (deleted on exit)."""
    with tempfile.TemporaryDirectory(prefix="rhizome-demo-") as folder:
        run_demo_node(Path(folder) / "nairobi", port=port, serve=not once)
