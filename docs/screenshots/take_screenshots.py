"""Take the screenshots in this folder: the demo's hubs, seen in headless Chromium.

    python docs/screenshots/take_screenshots.py [--chromium /usr/bin/chromium]

It starts the three demo hubs of ``rhizome demo`` on 127.0.0.1 and tells their story, puts
a lesson from Manila in Nairobi's quarantine, then drives Chromium over the DevTools
protocol: it signs in through the sign-in form (a real session cookie), opens each page and
saves a PNG. Everything runs on this machine and is deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import re
import shutil
import subprocess
import tempfile
from html import unescape
from itertools import count
from pathlib import Path
from typing import Any

import aiohttp

import node.cli  # noqa: F401 -- loads the demo's modules in the order the CLI does
from node.demo.hubs import HUBS, Hub, free_port, start_hub, stop_hub
from node.demo.story import run_story
from node.demo.story import sync as sync_hubs

HERE = Path(__file__).resolve().parent
DESKTOP = (1200, 900)
PHONE = (390, 844)
MAX_HEIGHT = 2600


class Browser:
    """One headless Chromium page, driven over the DevTools protocol."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket
        self.ids = count(1)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        number = next(self.ids)
        await self.socket.send_json({"id": number, "method": method, "params": params})
        while True:
            message = json.loads((await self.socket.receive()).data)
            if message.get("id") == number:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))

    async def until(self, event: str) -> None:
        while True:
            message = json.loads((await self.socket.receive()).data)
            if message.get("method") == event:
                return

    async def open(self, url: str, size: tuple[int, int]) -> None:
        width, height = size
        await self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width, height=height, deviceScaleFactor=1, mobile=width < 600,
        )  # fmt: skip
        await self.call("Page.navigate", url=url)
        await self.until("Page.loadEventFired")

    async def submit(self, form_id: str, **fields: str) -> None:
        """Fill and submit a form as a person would (DevTools may run script; pages do not)."""
        script = "".join(
            f"document.getElementById({json.dumps(name)}).value = {json.dumps(value)};"
            for name, value in fields.items()
        )
        await self.call(
            "Runtime.evaluate", expression=f"{script}document.getElementById('{form_id}').submit()"
        )
        await self.until("Page.loadEventFired")

    async def save(self, path: Path, size: tuple[int, int], full: bool = True) -> None:
        width, height = size
        if full:
            metrics = await self.call("Page.getLayoutMetrics")
            height = min(MAX_HEIGHT, max(height, int(metrics["cssContentSize"]["height"])))
            await self.call(
                "Emulation.setDeviceMetricsOverride",
                width=width, height=height, deviceScaleFactor=1, mobile=width < 600,
            )  # fmt: skip
        shot = await self.call("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))
        print(f"saved {path.relative_to(HERE.parent.parent)}")


async def session_cookie(base: str, name: str, password: str) -> str:
    """Sign in through the form, as a browser would; the session cookie's value."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        async with http.get(f"{base}/signin") as response:
            page = await response.text()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token is not None
        data = {"csrf_token": unescape(token.group(1)), "name": name, "password": password}
        async with http.post(f"{base}/signin", data=data, allow_redirects=False) as response:
            assert response.status == 303, await response.text()
        return next(cookie.value for cookie in jar if cookie.key == "rhizome_session")


async def demo_hubs(root: Path) -> list[Hub]:
    hubs = [await start_hub(root, index, 0) for index in range(len(HUBS))]
    await run_story(hubs, root, lambda text: None)
    nairobi, manila, _ = hubs
    policy = nairobi.node.paths.policy
    policy.write_text(policy.read_text().replace("quarantine = false", "quarantine = true"))
    lesson = root / "from-manila.md"
    lesson.write_text(
        "---\ntitle: Tubig at lilim sa mahabang martsa\nkind: checklist\nlanguage: tl\n"
        "summary: Water points and shade every two kilometres.\n"
        "consent:\n  scope: federation\n---\nMaglagay ng tubig bawat dalawang kilometro.\n",
        encoding="utf-8",
    )
    manila.node.add_lesson_file(lesson)
    await sync_hubs(nairobi, manila)
    return hubs


async def take(chromium: str) -> None:
    with tempfile.TemporaryDirectory(prefix="rhizome-shots-") as folder:
        root = Path(folder)
        hubs = await demo_hubs(root)
        nairobi = hubs[0]
        try:
            await shoot(chromium, nairobi, root)
        finally:
            for hub in hubs:
                await stop_hub(hub)


def ids(hub: Hub) -> dict[str, str]:
    db = hub.node.db
    medium = db.execute(
        "SELECT id FROM records WHERE sensitivity = 'medium' AND origin = ? "
        "AND title LIKE 'Simulacro%'",
        [hub.node.node_id],
    ).fetchone()[0]
    revoked = db.execute("SELECT record_id FROM tombstones LIMIT 1").fetchone()[0]
    debrief = db.execute("SELECT record_id FROM approvals LIMIT 1").fetchone()[0]
    return {"medium": medium, "revoked": revoked, "debrief": debrief}


async def shoot(chromium: str, hub: Hub, root: Path) -> None:
    port = free_port(0)
    browser = subprocess.Popen(
        [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--remote-debugging-port={port}", f"--user-data-dir={root / 'chromium'}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        async with aiohttp.ClientSession() as http:
            targets = await _targets(http, port)
            page = next(target for target in targets if target["type"] == "page")
            async with http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as socket:
                await pages(Browser(socket), hub)
    finally:
        browser.terminate()
        browser.wait(timeout=10)


async def _targets(http: aiohttp.ClientSession, port: int) -> list[dict[str, Any]]:
    for _ in range(100):
        try:
            async with http.get(f"http://127.0.0.1:{port}/json/list") as response:
                return list(await response.json())
        except aiohttp.ClientError:
            await asyncio.sleep(0.1)
    raise RuntimeError("Chromium did not start")


async def pages(browser: Browser, hub: Hub) -> None:
    base = hub.url
    known = ids(hub)
    await browser.call("Page.enable")
    await browser.call("Network.enable")
    await browser.open(f"{base}/signin", DESKTOP)
    await browser.submit("signin-form", name="admin", password="not the password")
    await browser.save(HERE / "sign-in-refused.png", DESKTOP, full=False)

    async def as_member(name: str, password: str) -> None:
        await browser.call("Network.clearBrowserCookies")
        cookie = await session_cookie(base, name, password)
        await browser.call(
            "Network.setCookie", name="rhizome_session", value=cookie, url=base, httpOnly=True
        )

    await as_member("kofi", hub.members["kofi"])
    for name, path, size in (
        ("home", "/", DESKTOP),
        ("search", "/search?q=press", DESKTOP),
        ("lesson", f"/lessons/{known['medium']}", DESKTOP),
        ("approvals", "/approvals", DESKTOP),
        ("quarantine", "/quarantine", DESKTOP),
        ("policy-explain", f"/policy?record={known['debrief']}&peer=Manila+Hub", DESKTOP),
        ("events", "/events", DESKTOP),
        ("revocation-receipts", f"/revocations/{known['revoked']}", DESKTOP),
        ("phone-home", "/", PHONE),
        ("phone-lesson", f"/lessons/{known['medium']}", PHONE),
    ):
        await browser.open(base + path, size)
        await browser.save(HERE / f"{name}.png", size)
    await as_member("amina", hub.members["amina"])
    await browser.open(f"{base}/lessons/new", DESKTOP)
    await browser.submit("lesson-form", title="", body="We kept the list on paper.")
    await browser.save(HERE / "add-lesson-error.png", DESKTOP)
    await as_member("admin", hub.password)
    await browser.open(f"{base}/peers", DESKTOP)
    await browser.submit("invite-form")
    await browser.save(HERE / "peers-invite.png", DESKTOP)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()
    asyncio.run(take(args.chromium))


if __name__ == "__main__":
    main()
