"""Running federation work from the CLI: one event loop, one HTTP session, then done."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import aiohttp

from federation.client import PeerClient
from node.node import Node

T = TypeVar("T")


def run_with_client(node: Node, work: Callable[[PeerClient], Awaitable[T]]) -> T:
    """Run ``work`` with a signed federation client for ``node``."""

    async def main() -> T:
        async with aiohttp.ClientSession() as session:
            return await work(PeerClient(node.local_node(), session))

    return asyncio.run(main())
