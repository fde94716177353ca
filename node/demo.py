"""The demo: a throwaway node in a temp folder, loaded with the shipped sample lessons.

(Until the three-node demo federation lands, this is one node.)
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from aiohttp import web
from rich.console import Console

from node.home import create_home
from node.importer import import_folder
from node.node import Node
from node.web.app import create_app

console = Console(highlight=False, soft_wrap=True)


def samples_folder() -> Path:
    """The folder of sample lessons shipped inside the package."""
    return Path(str(resources.files("node") / "samples"))


def run_demo_node(home: Path, *, port: int, serve: bool) -> Node:
    create_home(
        home,
        name="Nairobi Hub",
        region="East Africa",
        language="en",
        url=None,
        host="127.0.0.1",
        port=port,
        passphrase=None,
    )
    node = Node(home)
    report = import_folder(node, samples_folder())
    console.print(
        f"Demo node 'Nairobi Hub' in {home}: {len(report.imported)} sample lessons loaded."
    )
    for where, problem in report.rejected:
        console.print(f"sample rejected {where}: {problem}", markup=False)
    if serve:
        console.print(
            f"Open http://127.0.0.1:{port}/api/v1/lessons  (Ctrl-C to stop and delete the demo)"
        )
        try:
            web.run_app(create_app(node), host="127.0.0.1", port=port, print=None)
        finally:
            node.close()
    return node
