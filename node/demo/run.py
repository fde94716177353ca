"""Running the demo: start the hubs, tell the story, serve until Ctrl-C, clean up."""

from __future__ import annotations

import asyncio
import signal
import tempfile
from contextlib import suppress
from pathlib import Path

from rich.console import Console

from node.demo.hubs import HUBS, Hub, start_hub, stop_hub
from node.demo.story import run_story

console = Console(highlight=False, soft_wrap=True)


def say(text: str) -> None:
    console.print(text, markup=False)


async def demo(base_port: int, once: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="rhizome-demo-") as folder:
        root = Path(folder)
        hubs: list[Hub] = []
        try:
            for index in range(len(HUBS)):
                hubs.append(await start_hub(root, index, base_port))
            say("Three regional hubs are running on this machine:")
            for hub in hubs:
                say(f"  {hub.name:15} {hub.url}/")
            say("")
            await run_story(hubs, root, say)
            say("")
            if once:
                say("The story is done; everything is deleted.")
                return
            say("The hubs keep serving. Sign in on each one as admin:")
            for hub in hubs:
                say(f"  {hub.url}/signin   admin / {hub.password}")
                for member, password in hub.members.items():
                    say(f"  {'':{len(hub.url) + 8}} {member} / {password}")
            say("Press Ctrl-C to stop; the demo's folders are then deleted.")
            await until_interrupted()
        finally:
            for hub in hubs:
                await stop_hub(hub)


async def until_interrupted() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with suppress(Exception):
                loop.remove_signal_handler(signum)


def run_demo(base_port: int, once: bool) -> None:
    asyncio.run(demo(base_port, once))
