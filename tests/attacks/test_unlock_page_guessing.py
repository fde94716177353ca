"""Attack: guessing the passphrase on a locked hub's unlock page.

A sealed hub came back after a power cut with no passphrase file, medium or credential, so
``rhizome serve`` waits locked. The attacker reaches its port and guesses passphrases on
the unlock page, as fast as it can.

What must hold:

- ``/healthz`` says ``locked`` (503) and nothing else; no page shows anything of the hub
  but its name;
- a wrong guess is refused (403) and changes nothing in the home;
- after three wrong guesses the next ones wait growing delays, as sign-in does, and a guess
  during the wait is refused (429) without being checked;
- the right passphrase, once the wait is over, starts the hub: the same port then answers
  ``/healthz`` with ``ok`` and ``sealed: true``, with the hub's own certificate.
"""

from __future__ import annotations

import hashlib
import json
import os
import ssl
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.conftest import HomeFactory
from tests.node.test_serve_process import RHIZOME, STOP_TIMEOUT, free_port
from tests.tls_helpers import trusting

PASSPHRASE = "harbor lantern quarry thistle velvet anchor"
DEADLINE = 20.0


def unverified() -> ssl.SSLContext:
    """The unlock page's certificate is made for one start; the test compares the
    fingerprint ``serve`` printed instead of trusting a file."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def call(url: str, data: dict[str, str] | None = None) -> tuple[int, str]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with urllib.request.urlopen(url, body, timeout=30, context=unverified()) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def wait_for(url: str) -> tuple[int, str]:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        try:
            return call(url)
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    pytest.fail(f"nothing answered {url} within {DEADLINE} s")


def served_fingerprint(port: int) -> str:
    der = ssl.get_server_certificate(("127.0.0.1", port))
    digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(der)).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def test_guesses_wait_and_the_right_passphrase_starts_the_hub(make_home: HomeFactory) -> None:
    home = make_home(passphrase=PASSPHRASE)
    before = {path: path.read_bytes() for path in home.rglob("*.key")}
    port = free_port()
    base = f"https://127.0.0.1:{port}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("RHIZOME_")}
    env.pop("CREDENTIALS_DIRECTORY", None)
    process = subprocess.Popen(
        [str(RHIZOME), "--home", str(home), "serve", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    try:
        status, body = wait_for(f"{base}/healthz")
        assert (status, json.loads(body)["status"]) == (503, "locked")
        status, page = call(f"{base}/lessons")
        assert status == 200 and "is locked" in page and "Nairobi Hub" in page
        assert process.stdout is not None
        shown = process.stdout.read1(65536).decode()  # type: ignore[attr-defined]
        assert served_fingerprint(port) in shown  # the page's one-start certificate

        # Guess until the limiter refuses one unchecked (a slow machine's argon2 may let a
        # delay pass while a guess is checked, so count rather than time).
        answers = []
        while 429 not in answers and len(answers) < 8:
            answers.append(call(f"{base}/unlock", {"passphrase": f"guess {len(answers)}"})[0])
        assert answers[:3] == [403, 403, 403] and answers[-1] == 429, answers
        assert set(answers[:-1]) == {403}
        assert {path: path.read_bytes() for path in home.rglob("*.key")} == before

        status, body = call(f"{base}/unlock", {"passphrase": PASSPHRASE})
        while status == 429:  # the right passphrase too waits out the delay
            time.sleep(0.5)
            status, body = call(f"{base}/unlock", {"passphrase": PASSPHRASE})
        assert status == 200 and "Unlocked" in body
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(
                    f"{base}/healthz", timeout=5, context=trusting(home)
                ) as answer:
                    health = json.loads(answer.read())
                break
            except (urllib.error.URLError, ConnectionError, ssl.SSLError):
                time.sleep(0.2)
        else:
            pytest.fail("the hub did not start after the right passphrase")
        assert health["status"] == "ok" and health["sealed"] is True
    finally:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT)
        if process.stdout:
            process.stdout.close()
