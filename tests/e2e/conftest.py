"""Two real hubs and a real browser for the end-to-end tests.

Each hub is a ``rhizome serve`` subprocess on a free 127.0.0.1 port, with a home made by
``rhizome init`` and members and passwords set with the CLI, exactly as an operator does.
The browser is Debian's ``chromium`` (/usr/bin/chromium, installed by
``.ci/install-browser.sh``) driven by Playwright for Python; each hub's operator gets a
browser of their own with a fresh profile, since both hubs share the host 127.0.0.1 and so
would share a cookie jar. Playwright never downloads a browser here.

Without chromium or Playwright the tests are skipped on a developer's machine, and fail in
CI (env ``CI`` set): CI must run them, never skip them silently.

When a test fails, every open page is saved as a PNG in the test's tmp dir, and the paths
and the end of each hub's log are added to the failure report.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.tls_helpers import spki_pin, urlopen

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Playwright

CHROMIUM = Path("/usr/bin/chromium")
INSTALL_HINT = "run .ci/install-browser.sh"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RHIZOME = Path(sys.executable).parent / "rhizome"
START_SECONDS = 30.0
STOP_SECONDS = 10.0
PAGE_TIMEOUT_MS = 10_000
LOG_TAIL_LINES = 40
# Variables that would point the CLI at another home or member, or ask for a passphrase.
CLEARED_ENV = ("RHIZOME_HOME", "RHIZOME_MEMBER", "RHIZOME_PASSPHRASE")


@dataclass
class Hub:
    """A hub served by ``rhizome serve`` in its own process."""

    name: str
    region: str
    home: Path
    port: int
    log: Path
    passwords: dict[str, str] = field(default_factory=dict, repr=False)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def rhizome(self, *args: str, stdin: str | None = None) -> str:
        """Run the CLI on this hub's home; its output (the test fails if it fails)."""
        done = subprocess.run(
            [str(RHIZOME), "--home", str(self.home), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=_cli_env(),
            timeout=60,
            check=False,
        )
        if done.returncode != 0:
            pytest.fail(
                f"`rhizome {' '.join(args)}` failed ({done.returncode}):\n"
                f"{done.stdout}\n{done.stderr}"
            )
        return done.stdout

    def add_member(self, name: str, role: str, password: str) -> None:
        if name != "admin":  # init makes the admin
            self.rhizome("member", "add", name, "--role", role)
        self.rhizome("member", "password", name, "--stdin", stdin=password + "\n")
        self.passwords[name] = password

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(RHIZOME), "--home", str(self.home), "serve", "--port", str(self.port)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=_cli_env(),
            )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                pytest.fail(f"{self.name} stopped at start ({code}):\n{self.log_tail()}")
            if _healthy(self.url, self.home):
                return
            time.sleep(0.1)
        waited = f"{START_SECONDS:.0f} s"
        pytest.fail(f"{self.name} did not answer /healthz in {waited}:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(STOP_SECONDS)

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        if not self.log.exists():
            return "(no log)"
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Hubs:
    a: Hub
    b: Hub

    def __iter__(self) -> Iterator[Hub]:
        return iter((self.a, self.b))


def _cli_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in CLEARED_ENV}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _healthy(url: str, home: Path) -> bool:
    try:
        with urlopen(f"{url}/healthz", home, timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_hub(root: Path, name: str, region: str) -> Hub:
    """A new home made by ``rhizome init`` (no passphrase), listening on a free port."""
    port = free_port()
    home = root / name.split()[0].lower()
    hub = Hub(name, region, home, port, root / f"{home.name}.log")
    hub.rhizome("init", "--name", name, "--region", region, "--port", str(port), "--no-passphrase")
    return hub


@contextlib.contextmanager
def serving_one_lesson(
    tmp_path: Path, name: str, region: str, admin_passphrase: str, lesson: str
) -> Iterator[Hub]:
    """One hub with an admin and ``lesson`` added by ``rhizome lesson add``, serving."""
    root = tmp_path / "hubs"  # where the browsers look for the keys they trust
    root.mkdir()
    hub = make_hub(root, name, region)
    hub.add_member("admin", "admin", admin_passphrase)
    lesson_file = tmp_path / "lesson.md"
    lesson_file.write_text(lesson, encoding="utf-8")
    hub.rhizome("lesson", "add", str(lesson_file))
    hub.start()
    try:
        yield hub
    finally:
        hub.stop()


# ---- the two hubs -----------------------------------------------------------------------


@pytest.fixture
def hubs(tmp_path: Path, browser_ready: None) -> Iterator[Hubs]:
    """Nairobi (A: admin and the curator kofi) and Manila (B: admin), both serving, unpaired."""
    root = tmp_path / "hubs"
    root.mkdir()
    a = make_hub(root, "Nairobi Hub", "East Africa")
    b = make_hub(root, "Manila Hub", "Southeast Asia")
    a.add_member("admin", "admin", "nairobi admin passphrase 2026")
    a.add_member("kofi", "curator", "kofi curates with care 2026")
    b.add_member("admin", "admin", "manila admin passphrase 2026")
    pair = Hubs(a, b)
    try:
        for hub in pair:
            hub.start()
        yield pair
    finally:
        for hub in pair:
            hub.stop()


# ---- the browser ------------------------------------------------------------------------


@pytest.fixture
def browser_ready() -> None:
    """Chromium and Playwright are installed: skip without them, but fail in CI."""
    missing = []
    if not CHROMIUM.is_file() or not os.access(CHROMIUM, os.X_OK):
        missing.append(f"{CHROMIUM} (Debian's chromium package)")
    if importlib.util.find_spec("playwright") is None:
        missing.append("Playwright for Python (the test extra: pip install -e '.[test]')")
    if not missing:
        return
    message = f"browser tests need {' and '.join(missing)}: {INSTALL_HINT}"
    if os.environ.get("CI"):
        pytest.fail(message)  # CI must run these, never skip them silently
    pytest.skip(message)


class Browsers:
    """Opens one Chromium per operator, each with a fresh profile in the test's tmp dir."""

    def __init__(self, playwright: Playwright, folder: Path) -> None:
        self._playwright = playwright
        self._folder = folder
        self.opened: dict[str, BrowserContext] = {}

    def open(self, who: str) -> BrowserContext:
        profile = self._folder / f"profile-{who}"
        assert not profile.exists(), f"a browser for {who} is open already"
        context = self._playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=[*CHROMIUM_ARGS, self._trusted_keys()],
            viewport={"width": 1280, "height": 900},
            locale="en-GB",
        )
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        self.opened[who] = context
        return context

    def _trusted_keys(self) -> str:
        """The hubs' own keys, as an operator who checked each fingerprint once trusts them
        (tests/tls_helpers.spki_pin); every other certificate still fails."""
        certificates = self._folder.parent.glob("hubs/*/tls-certificate.pem")
        homes = sorted(path.parent for path in certificates)
        return "--ignore-certificate-errors-spki-list=" + ",".join(spki_pin(home) for home in homes)

    def screenshots(self, folder: Path) -> list[Path]:
        """Every open page as a full-page PNG; the files written."""
        folder.mkdir(parents=True, exist_ok=True)
        saved = []
        for who, context in self.opened.items():
            for number, page in enumerate(context.pages):
                path = folder / f"{who}-{number}.png"
                try:
                    page.screenshot(path=str(path), full_page=True, timeout=PAGE_TIMEOUT_MS)
                except Exception as error:  # a screenshot must not hide the real failure
                    path.with_suffix(".txt").write_text(f"no screenshot: {error}\n")
                    continue
                saved.append(path)
        return saved

    def close(self) -> None:
        for context in self.opened.values():
            with contextlib.suppress(Exception):  # already gone with the browser process
                context.close()
        self.opened.clear()


@pytest.fixture
def browsers(tmp_path: Path, browser_ready: None) -> Iterator[Browsers]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        opened = Browsers(playwright, tmp_path / "browsers")
        try:
            yield opened
        finally:
            opened.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    """On a failed test, before its fixtures close: screenshots and the hubs' logs."""
    report = yield
    if report.when != "call" or not report.failed:
        return report
    funcargs = getattr(item, "funcargs", {})
    opened = funcargs.get("browsers")
    tmp_path = funcargs.get("tmp_path")
    if isinstance(opened, Browsers) and isinstance(tmp_path, Path):
        saved = opened.screenshots(tmp_path / "screenshots")
        listing = "\n".join(str(path) for path in saved) or "(no page was open)"
        report.sections.append(("screenshots", listing))
    running = funcargs.get("hubs")
    if isinstance(running, Hubs):
        for hub in running:
            report.sections.append((f"{hub.name} log ({hub.log})", hub.log_tail()))
    return report
