"""``rhizome doctor``: local checks, our advertised URL and peers' reachability and clocks,
against a real ``rhizome serve`` on loopback."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from crypto.signing import SigningIdentity
from federation.peers import list_peers, save_peer
from node.doctor import FAIL, OK, WARN, network_findings
from node.node import Node
from node.status import node_status
from tests.conftest import START, HomeFactory
from tests.node.conftest import Invoke, assert_clean_exit
from tests.node.test_serve_lock import start
from tests.node.test_serve_process import STOP_TIMEOUT, free_port, wait_until_healthy


def checks(invoke: Invoke, home: Path, *options: str) -> tuple[int, dict[str, dict[str, str]]]:
    result = invoke(home, "doctor", "--json", *options)
    found = json.loads(result.stdout)
    return result.exit_code, {check["check"]: check for check in found["checks"]}


def test_a_fresh_home_offline(invoke: Invoke, home: Path) -> None:
    code, found = checks(invoke, home, "--offline")
    assert code == 0
    assert found["permissions"]["result"] == OK
    assert found["key seal"]["result"] == WARN  # the test home has no passphrase
    assert found["schema"]["result"] == OK and found["disk"]["result"] == OK
    assert "advertised URL" not in found  # offline: no network at all
    text = invoke(home, "doctor", "--offline")
    assert_clean_exit(text)
    assert "WARN  key seal: the node key is not sealed" in text.stdout
    assert "→ seal the home with `rhizome seal`" in text.stdout


def test_loose_permissions_fail_with_the_chmod_to_run(invoke: Invoke, home: Path) -> None:
    home.chmod(0o755)
    (home / "node.key").chmod(0o644)
    code, found = checks(invoke, home, "--offline")
    assert code == 1
    assert found["permissions"]["result"] == FAIL
    result = invoke(home, "doctor", "--offline")
    assert f"chmod 700 {home}" in result.stdout
    assert f"chmod 600 {home / 'node.key'}" in result.stdout


def test_not_served_means_the_url_is_not_checked(invoke: Invoke, home: Path) -> None:
    code, found = checks(invoke, home)
    assert code == 0
    assert found["advertised URL"]["result"] == WARN
    assert "nothing serves this home" in found["advertised URL"]["detail"]


@pytest.fixture
def served(make_home: HomeFactory) -> Iterator[tuple[Path, int]]:
    """A home served for real on a free port, its config URL pointing there."""
    port = free_port()
    home = make_home(port=port)
    servers: list[subprocess.Popen[bytes]] = []
    process = start(servers, home, port)
    try:
        wait_until_healthy(process, f"https://127.0.0.1:{port}", home)
        yield home, port
    finally:
        process.terminate()
        process.wait(timeout=STOP_TIMEOUT)
        if process.stdout:
            process.stdout.close()


def test_a_served_node_its_url_and_its_peers(invoke: Invoke, served: tuple[Path, int]) -> None:
    home, port = served
    node = Node(home)
    try:
        # One peer that answers (this very node stands in for it: its id, so the TLS pin
        # holds), one that does not.
        save_peer(node.db, node.node_id, "Echo Hub", "Here",
                  f"https://127.0.0.1:{port}", START)  # fmt: skip
        save_peer(node.db, SigningIdentity.generate().node_id, "Gone Hub", "Nowhere",
                  f"http://127.0.0.1:{free_port()}", START)  # fmt: skip
        # Another node's id at this node's address: the key presented is not the one pinned.
        save_peer(node.db, SigningIdentity.generate().node_id, "Impostor Hub", "Here",
                  f"https://127.0.0.1:{port}", START)  # fmt: skip
    finally:
        node.close()
    code, found = checks(invoke, home)
    assert found["peer Impostor Hub"]["result"] == FAIL
    assert found["advertised URL"]["result"] == OK
    assert found["peer Echo Hub"]["result"] == OK
    assert "clocks agree" in found["peer Echo Hub"]["detail"]
    assert found["peer Gone Hub"]["result"] == FAIL
    assert "nothing answers at this address" in found["peer Gone Hub"]["detail"]
    assert code == 1


@pytest.mark.parametrize(("offset", "result"), [(0, OK), (120, WARN), (400, FAIL)])
def test_clock_skew_against_a_peer(served: tuple[Path, int], offset: int, result: str) -> None:
    """Our clock set ``offset`` seconds ahead of the peer's (the served node's real clock)."""
    home, port = served
    node = Node(home)
    try:
        save_peer(node.db, node.node_id, "Echo Hub", "Here",
                  f"https://127.0.0.1:{port}", START)  # fmt: skip
        status = node_status(node.paths, node.db, node.node_id, node.config.name)
        peers = list_peers(node.db)
    finally:
        node.close()
    findings = asyncio.run(network_findings(status, node.config.url, peers, time.time() + offset))
    (peer,) = [finding for finding in findings if finding.check == "peer Echo Hub"]
    assert peer.result == result, peer
    if result != OK:
        assert "NTP" in peer.remedy


def test_the_echo_is_asked_only_of_the_peer_named(invoke: Invoke, home: Path) -> None:
    """``--peer`` narrows the peer checks and the echo to one peer; a peer that cannot be
    asked (nothing answers there) is a warning of the echo, its reachability the failure."""
    node = Node(home)
    try:
        save_peer(node.db, SigningIdentity.generate().node_id, "Gone Hub", "Nowhere",
                  f"http://127.0.0.1:{free_port()}", START)  # fmt: skip
        save_peer(node.db, SigningIdentity.generate().node_id, "Other Hub", "Elsewhere",
                  f"http://127.0.0.1:{free_port()}", START)  # fmt: skip
    finally:
        node.close()
    code, found = checks(invoke, home, "--peer", "Gone Hub")
    assert code == 1
    assert found["echo from Gone Hub"]["result"] == WARN
    assert "could not ask Gone Hub" in found["echo from Gone Hub"]["detail"]
    assert not [check for check in found if "Other Hub" in check]
    offline = checks(invoke, home, "--offline")[1]
    assert not [check for check in offline if check.startswith("echo")]


def test_an_unknown_peer_is_a_usage_error(invoke: Invoke, home: Path) -> None:
    result = invoke(home, "doctor", "--peer", "Nobody")
    assert result.exit_code == 2
    assert "no peer is named 'Nobody'" in result.output
