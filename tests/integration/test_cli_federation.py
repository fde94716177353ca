"""Two hubs run by an operator: ``rhizome serve`` processes, and the CLI beside them.

Everything goes through the installed console script, as an operator types it: invite,
add, list, sync, suspend, resume, remove. Both servers run for the whole test, with their
background sync on, and are killed at the end whatever happens.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from node.node import Node
from tests.conftest import HomeFactory, write_lesson
from tests.integration.conftest import free_port
from tests.tls_helpers import urlopen

RHIZOME = Path(sys.executable).parent / "rhizome"
START_TIMEOUT = 15.0
COMMAND_TIMEOUT = 60.0
PEER_FIELDS = {"id", "name", "region", "url", "status", "last_sync", "sent", "received", "strikes"}
SHARED = {"scope": "federation"}


def environment() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("RHIZOME_")}
    env["COLUMNS"] = "80"
    return env


@dataclass
class Hub:
    home: Path
    port: int
    node_id: str
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(RHIZOME), "--home", str(self.home), *args],
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            env=environment(),
        )

    def ok(self, *args: str) -> str:
        done = self.run(*args)
        assert done.returncode == 0, f"rhizome {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr
        return done.stdout

    def json(self, *args: str, code: int = 0) -> Any:
        done = self.run(*args, "--json")
        assert done.returncode == code, f"{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr
        return json.loads(done.stdout)

    def peers(self) -> dict[str, dict[str, Any]]:
        listed = self.json("peer", "list")
        for entry in listed:
            assert set(entry) >= PEER_FIELDS, entry
        return {entry["name"]: entry for entry in listed}

    def holds(self, record_id: str) -> bool:
        with sqlite3.connect(f"file:{self.home / 'rhizome.db'}?mode=ro", uri=True) as conn:
            found = conn.execute("SELECT 1 FROM records WHERE id = ?", [record_id]).fetchone()
        return found is not None


def healthy(hub: Hub) -> bool:
    try:
        with urlopen(f"{hub.url}/healthz", hub.home, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def start_serving(hub: Hub, log: Path) -> None:
    with log.open("wb") as output:  # a file, not a pipe: a chatty server never blocks on it
        hub.process = subprocess.Popen(
            [str(RHIZOME), "--home", str(hub.home), "serve", "--port", str(hub.port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=environment(),
        )
    deadline = time.monotonic() + START_TIMEOUT
    while not healthy(hub):
        if hub.process.poll() is not None:
            pytest.fail(f"rhizome serve exited with {hub.process.returncode}:\n{log.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"rhizome serve did not answer within {START_TIMEOUT} s")
        time.sleep(0.1)


def make_hub(make_home: HomeFactory, name: str, region: str, lessons: dict[str, Any]) -> Hub:
    port = free_port()
    home = make_home(name=name, region=region, port=port)
    node = Node(home)
    try:
        for title, consent in lessons.items():
            front: dict[str, Any] = {"title": title, "kind": "checklist"}
            if consent:
                front["consent"] = consent
            node.add_lesson_file(write_lesson(home.parent, f"{title}.md", front))
        return Hub(home, port, node.node_id)
    finally:
        node.close()


@pytest.fixture
def hubs(make_home: HomeFactory, tmp_path: Path) -> Iterator[tuple[Hub, Hub]]:
    a_lessons = {"A one": SHARED, "A two": SHARED, "A mine": None}
    a = make_hub(make_home, "Hub A", "East Africa", a_lessons)
    b = make_hub(make_home, "Hub B", "West Africa", {"B one": SHARED})
    try:
        start_serving(a, tmp_path / "a.log")
        start_serving(b, tmp_path / "b.log")
        yield a, b
    finally:
        for hub in (a, b):
            if hub.process is not None and hub.process.poll() is None:
                hub.process.kill()
                hub.process.wait(timeout=10)


def one_error_line(done: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), lines
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def sync_report(hub: Hub, code: int = 0) -> dict[str, Any]:
    [report] = hub.json("sync", code=code)
    return dict(report)


def pair(a: Hub, b: Hub) -> str:
    """``peer invite`` on A, ``peer add`` on B; the code."""
    invite = a.ok("peer", "invite")
    code = invite.strip().splitlines()[-1]
    assert code.startswith("rhz1-")
    assert a.node_id in invite
    added = b.ok("peer", "add", code)
    assert "Paired with Hub A" in added and a.node_id in added
    return code


def test_operators_pair_and_sync_from_the_cli(hubs: tuple[Hub, Hub], tmp_path: Path) -> None:
    a, b = hubs

    code = pair(a, b)

    one_error_line(b.run("peer", "add", code), "already used")
    a_peers, b_peers = a.peers(), b.peers()
    assert set(a_peers) == {"Hub B"} and set(b_peers) == {"Hub A"}
    hub_b, hub_a = a_peers["Hub B"], b_peers["Hub A"]
    assert (hub_b["id"], hub_b["region"], hub_b["url"]) == (b.node_id, "West Africa", b.url)
    assert (hub_a["id"], hub_a["region"], hub_a["url"]) == (a.node_id, "East Africa", a.url)
    for entry in (hub_a, hub_b):
        assert entry["status"] == "active" and entry["last_sync"] is None
        assert (entry["sent"], entry["received"], entry["strikes"]) == (0, 0, 0)

    first = sync_report(b)
    assert (first["peer"], first["received"], first["sent"], first["errors"]) == (
        a.node_id, 2, 1, [],
    )  # fmt: skip
    hub_a, hub_b = b.peers()["Hub A"], a.peers()["Hub B"]
    assert (hub_a["received"], hub_a["sent"]) == (2, 1) and hub_a["last_sync"] is not None
    assert (hub_b["received"], hub_b["sent"]) == (1, 2)

    again = sync_report(b)
    assert (again["received"], again["sent"], again["errors"]) == (0, 0, [])
    other_way = sync_report(a)
    assert (other_way["peer"], other_way["received"], other_way["sent"]) == (b.node_id, 0, 0)

    news = {"title": "News", "kind": "checklist", "consent": SHARED}
    record_id = a.ok("lesson", "add", str(write_lesson(tmp_path, "news.md", news)))
    record_id = record_id.strip().splitlines()[-1]
    deadline = time.monotonic() + 5
    while not b.holds(record_id):  # B's server pulls it after A's server announces it
        assert time.monotonic() < deadline, "the new lesson did not reach Hub B by itself"
        time.sleep(0.1)


def test_operators_suspend_resume_and_remove_peers_from_the_cli(hubs: tuple[Hub, Hub]) -> None:
    a, b = hubs
    pair(a, b)

    assert "Suspended Hub B" in a.ok("peer", "suspend", "Hub B")
    assert a.peers()["Hub B"]["status"] == "suspended"
    refused = sync_report(b, code=1)
    assert refused["received"] == refused["sent"] == 0
    assert "403" in " ".join(refused["errors"])

    assert "Resumed Hub B" in a.ok("peer", "resume", "Hub B")
    assert a.peers()["Hub B"]["status"] == "active"
    resumed = sync_report(b)
    assert (resumed["received"], resumed["sent"], resumed["errors"]) == (2, 1, [])

    assert "Removed Hub B" in a.ok("peer", "remove", "Hub B")
    assert a.peers() == {}
    refused = sync_report(b, code=1)
    assert "403" in " ".join(refused["errors"])
    one_error_line(a.run("peer", "resume", "Hub B"), "this peer was removed: pair with it again")
