"""``rhizome serve`` as an operator meets it: a busy port, a second server on the same home,
a server killed with SIGKILL, the CLI beside a running server, and start/stop log lines."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from node.serve_lock import current_holder
from tests.conftest import HomeFactory
from tests.node.test_serve_process import (
    RHIZOME,
    STOP_TIMEOUT,
    free_port,
    wait_until_healthy,
)


def clean_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith("RHIZOME_")}


@pytest.fixture
def home(make_home: HomeFactory) -> Path:
    return make_home()


@pytest.fixture
def servers() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Every server a test starts; killed at the end if still running."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)
        if process.stdout:
            process.stdout.close()


def start(
    servers: list[subprocess.Popen[bytes]], home: Path, port: int, *options: str
) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [str(RHIZOME), "--home", str(home), "serve", "--port", str(port), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=clean_env(),
    )
    servers.append(process)
    return process


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(RHIZOME), "--home", str(home), *args],
        capture_output=True, text=True, timeout=60, env=clean_env(),
    )  # fmt: skip


def finished_output(process: subprocess.Popen[bytes]) -> tuple[int, str]:
    code = process.wait(timeout=STOP_TIMEOUT)
    return code, process.stdout.read().decode() if process.stdout else ""


def test_a_busy_port_is_one_clear_line(home: Path, servers: list[subprocess.Popen[bytes]]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, output = finished_output(start(servers, home, port))
    assert code == 1, output
    assert "Traceback" not in output
    assert f"Error: port {port} on 127.0.0.1 is already in use" in output
    assert "--port" in output
    assert "Serving" not in output  # it never served
    assert current_holder(home) is None  # and the lock went with it


def test_a_second_serve_on_the_same_home_is_refused(
    home: Path, servers: list[subprocess.Popen[bytes]]
) -> None:
    first = start(servers, home, port := free_port())
    wait_until_healthy(first, f"https://127.0.0.1:{port}", home)
    holder = current_holder(home)
    assert holder is not None and holder.pid == first.pid

    code, output = finished_output(start(servers, home, free_port()))
    assert code == 1, output
    assert "Traceback" not in output
    assert f"already served by PID {first.pid} since " in output
    assert first.poll() is None  # the first one keeps serving
    status = run(home, "status", "--json")
    assert status.returncode == 0, status.stderr
    assert f'"pid": {first.pid}' in status.stdout


def test_the_cli_works_beside_a_running_serve(
    home: Path, servers: list[subprocess.Popen[bytes]], samples: Path
) -> None:
    first = start(servers, home, port := free_port())
    wait_until_healthy(first, f"https://127.0.0.1:{port}", home)
    lesson = sorted(samples.glob("*.md"))[0]
    added = run(home, "lesson", "add", str(lesson))
    assert added.returncode == 0, added.stderr
    listed = run(home, "lesson", "list", "--json")
    assert listed.returncode == 0 and '"id"' in listed.stdout


def test_a_killed_server_leaves_no_false_lock(
    home: Path, servers: list[subprocess.Popen[bytes]]
) -> None:
    first = start(servers, home, port := free_port())
    wait_until_healthy(first, f"https://127.0.0.1:{port}", home)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=STOP_TIMEOUT)
    assert (home / "serve.lock").exists()  # the file stays; the lock does not
    assert current_holder(home) is None

    second = start(servers, home, port := free_port())
    wait_until_healthy(second, f"https://127.0.0.1:{port}", home)
    assert current_holder(home) is not None


def test_serve_logs_start_and_stop_as_json(
    home: Path, servers: list[subprocess.Popen[bytes]]
) -> None:
    process = start(servers, home, port := free_port(), "--log-json", "--log-level", "debug")
    wait_until_healthy(process, f"https://127.0.0.1:{port}", home)
    process.send_signal(signal.SIGTERM)
    code, output = finished_output(process)
    assert code == 0, output
    messages = [line for line in output.splitlines() if line.startswith("{")]
    assert any('"message":"started"' in line and f'"port":{port}' in line for line in messages)
    assert any('"message":"stopped"' in line for line in messages), output
    assert current_holder(home) is None
