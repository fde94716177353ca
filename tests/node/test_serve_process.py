"""``rhizome serve`` as a real process: it answers, then stops cleanly on SIGTERM and SIGINT."""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crypto.tls_certificate import fingerprint
from node.actions.members import CreateToken, create_token
from node.importer import import_folder
from node.node import Node
from tests.conftest import HomeFactory
from tests.tls_helpers import urlopen

RHIZOME = Path(sys.executable).parent / "rhizome"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0


def node_fingerprint_of(home: Path) -> str:
    """The fingerprint of the certificate ``serve`` wrote into ``home``."""
    der = ssl.PEM_cert_to_DER_cert((home / "tls-certificate.pem").read_text(encoding="ascii"))
    return fingerprint(der)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get_json(url: str | urllib.request.Request, home: Path) -> tuple[int, Any]:
    with urlopen(url, home, timeout=2) as response:
        return response.status, json.loads(response.read())


def wait_until_healthy(process: subprocess.Popen[bytes], base: str, home: Path) -> Any:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            pytest.fail(f"rhizome serve exited early with {process.returncode}:\n{output}")
        try:
            status, body = get_json(f"{base}/healthz", home)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
            continue
        assert status == 200
        return body
    pytest.fail(f"rhizome serve did not answer /healthz within {START_TIMEOUT} s")


@pytest.fixture
def home(make_home: HomeFactory, samples: Path) -> Path:
    made = make_home()
    node = Node(made)
    try:
        assert len(import_folder(node, samples).imported) == 12
    finally:
        node.close()
    return made


@pytest.fixture
def reader_token(home: Path) -> str:
    """An API token of admin's, as a script that reads the node holds (nothing reads
    without signing in, on loopback too)."""
    node = Node(home)
    try:
        return create_token(node, CreateToken(node.member("admin"), "admin", "test")).secret
    finally:
        node.close()


@pytest.fixture
def serve(home: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    assert RHIZOME.exists(), f"console script missing: {RHIZOME}"
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("RHIZOME_")}
    process = subprocess.Popen(
        [str(RHIZOME), "--home", str(home), "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        yield process, f"https://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)
        if process.stdout:
            process.stdout.close()


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_serve_answers_then_stops_cleanly(
    serve: tuple[subprocess.Popen[bytes], str], stop_signal: signal.Signals, home: Path,
    reader_token: str,
) -> None:
    process, base = serve
    health = wait_until_healthy(process, base, home)
    assert health["status"] == "ok"
    signed = {"Authorization": f"Bearer {reader_token}"}
    status, body = get_json(urllib.request.Request(f"{base}/api/v1/lessons", headers=signed), home)
    assert status == 200
    assert body["total"] == 12
    assert len(body["lessons"]) == 12

    process.send_signal(stop_signal)
    try:
        code = process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"rhizome serve did not stop within {STOP_TIMEOUT} s of {stop_signal.name}")
    output = process.stdout.read().decode() if process.stdout else ""
    assert code == 0, output
    assert "Traceback" not in output
    assert "Serving Nairobi Hub on https://127.0.0.1:" in output
    assert f"certificate  {node_fingerprint_of(home)}" in output


def listening(table: str) -> set[tuple[str, int]]:
    """(address hex, port) of every listening socket in /proc/net/tcp or tcp6 (Linux)."""
    found = set()
    for row in Path(table).read_text().splitlines()[1:]:
        fields = row.split()
        address, port_hex = fields[1].split(":")
        if fields[3] == "0A":  # TCP_LISTEN
            found.add((address, int(port_hex, 16)))
    return found


def test_serve_listens_on_localhost_only_by_default(
    serve: tuple[subprocess.Popen[bytes], str], home: Path
) -> None:
    process, base = serve
    wait_until_healthy(process, base, home)
    port = int(base.rsplit(":", 1)[1])
    ipv4 = {address for address, bound in listening("/proc/net/tcp") if bound == port}
    ipv6 = {address for address, bound in listening("/proc/net/tcp6") if bound == port}
    assert ipv4 == {"0100007F"}  # 127.0.0.1, little-endian hex
    assert ipv6 == set()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=STOP_TIMEOUT) == 0


def test_serve_on_missing_home_fails_clearly(tmp_path: Path) -> None:
    missing = tmp_path / "nothing"
    env = {key: value for key, value in os.environ.items() if not key.startswith("RHIZOME_")}
    done = subprocess.run(
        [str(RHIZOME), "--home", str(missing), "serve", "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "rhizome init" in done.stderr


def test_serve_warns_at_start_while_plain_http_is_allowed(home: Path) -> None:
    config = home / "config.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("allow_plain_http = false", "allow_plain_http = true"))
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("RHIZOME_")}
    process = subprocess.Popen(
        [str(RHIZOME), "--home", str(home), "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        health = wait_until_healthy(process, f"https://127.0.0.1:{port}", home)
        assert health["allow_plain_http"] is True
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=STOP_TIMEOUT) == 0
    finally:
        if process.poll() is None:
            process.kill()
    output = process.stdout.read().decode() if process.stdout else ""
    assert "Warning: [federation] allow_plain_http is on" in output
