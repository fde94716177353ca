"""Sign-in brute force: a stranger guesses passwords as fast as the node answers.

The attacker: posts name/password pairs to the sign-in page, the JSON API's
``/api/v1/session`` and any route with HTTP Basic, one after another and in parallel bursts,
and times the answers to learn which member names exist (66 ms for a known name, 1 ms for an
unknown one before the fix: argon2id ran only when the name existed).

What must hold: every name costs the same work (the one argon2id check runs for unknown,
removed and password-less names too, against a stand-in hash of the same cost) in a worker
thread, never on the event loop; after a few failures the name (and a non-loopback address)
must wait 1 s, 2 s, 4 s, … up to 15 minutes, and a try during the wait gets 429 "try again in
N s" with ``Retry-After`` on the page, the API and Basic alike, without the password being
checked, so even the right password waits; a parallel burst cannot slip past the count; an
unknown name is delayed exactly like a known one; the node keeps serving meanwhile.
Time is the node's injectable clock: no test waits on the wall clock.
"""

from __future__ import annotations

import asyncio
import base64
import re
import threading
from collections.abc import Callable
from html import unescape
from typing import Any

import aiohttp
import pytest

from node.passwords import hash_password
from node.web import auth
from node.web.sign_in_guard import FREE_FAILURES, MAX_DELAY, SignInGuard, delay_after
from tests.conftest import FakeClock
from tests.integration.conftest import Cluster, RunningNode
from tests.tls_helpers import trusting_connector

PASSWORD = "the right passphrase"
SESSION = "/api/v1/session"
ARGON2_PARAMETERS = re.compile(r"^\$argon2id\$v=\d+\$m=\d+,t=\d+,p=\d+\$")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def hub(cluster: Cluster, clock: FakeClock) -> RunningNode:
    hub = await cluster.start("Hub A", clock=clock)
    hub.node.db.execute(
        "UPDATE members SET password_hash = ? WHERE name = 'admin'", [hash_password(PASSWORD)]
    )
    return hub


async def api_sign_in(
    session: aiohttp.ClientSession, hub: RunningNode, name: str, password: str
) -> tuple[int, dict[str, Any], str | None]:
    async with session.post(
        hub.url + SESSION, json={"name": name, "password": password}
    ) as response:
        return response.status, await response.json(), response.headers.get("Retry-After")


def waits(status_body: tuple[int, dict[str, Any], str | None]) -> int:
    """The seconds a 429 says to wait, checked in the message and the header alike."""
    status, body, retry_after = status_body
    assert status == 429, body
    error = body["error"]
    assert error["code"] == "too_many_requests"
    found = re.fullmatch(r"too many sign-in attempts: try again in (\d+) s", error["message"])
    assert found, error
    seconds = int(found.group(1))
    assert retry_after == str(seconds)
    return seconds


async def test_every_name_costs_the_same_hash_work_off_the_event_loop(
    cluster: Cluster, hub: RunningNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.node.db.execute(
        "INSERT INTO members (name, public_key, roles, certificate, added_at, removed_at, "
        "password_hash) SELECT 'gone', public_key, roles, certificate, added_at, 1, ? "
        "FROM members WHERE name = 'admin'",
        [hash_password(PASSWORD)],
    )
    hub.node.db.execute(
        "INSERT INTO members (name, public_key, roles, certificate, added_at) "
        "SELECT 'nopass', public_key, roles, certificate, added_at FROM members "
        "WHERE name = 'admin'"
    )
    checked: list[tuple[str, bool]] = []
    real = auth.password_matches

    def spy(stored: str | None, password: str) -> bool:
        checked.append((stored or "", threading.current_thread() is threading.main_thread()))
        return real(stored, password)

    monkeypatch.setattr(auth, "password_matches", spy)
    for name in ("admin", "nobody", "gone", "nopass"):
        status, body, _ = await api_sign_in(cluster.session, hub, name, "a wrong guess")
        assert (status, body["error"]["code"]) == (401, "unauthenticated")
    assert len(checked) == 4, checked  # one argon2id check per attempt, whatever the name
    parameters = {ARGON2_PARAMETERS.match(stored).group(0) for stored, _ in checked}  # type: ignore[union-attr]
    assert len(parameters) == 1, checked  # the same cost for every name
    assert not any(on_loop for _, on_loop in checked)  # always in a worker thread
    status, body, _ = await api_sign_in(cluster.session, hub, "admin", PASSWORD)
    assert (status, body["member"]) == (200, "admin")
    assert len(checked) == 5


async def test_delays_grow_and_even_the_right_password_waits(
    cluster: Cluster, hub: RunningNode, clock: FakeClock
) -> None:
    for _ in range(FREE_FAILURES + 1):
        status, _, _ = await api_sign_in(cluster.session, hub, "admin", "a wrong guess")
        assert status == 401
    seen = []
    for _ in range(6):
        seconds = waits(await api_sign_in(cluster.session, hub, "admin", PASSWORD))
        seen.append(seconds)
        clock.advance(seconds)
        status, _, _ = await api_sign_in(cluster.session, hub, "admin", "another guess")
        assert status == 401
    assert seen == [1, 2, 4, 8, 16, 32]
    # During the wait the right password gets the same 429: it is not even checked.
    seconds = waits(await api_sign_in(cluster.session, hub, "admin", PASSWORD))
    assert seconds == 64
    clock.advance(seconds)
    status, body, _ = await api_sign_in(cluster.session, hub, "admin", PASSWORD)
    assert (status, body["member"]) == (200, "admin")
    # A success clears the count: the next mistake is a free one again.
    async with aiohttp.ClientSession(connector=trusting_connector(hub.home)) as other:
        status, _, _ = await api_sign_in(other, hub, "admin", "one typo")
        assert status == 401
        status, _, _ = await api_sign_in(other, hub, "admin", PASSWORD)
        assert status == 200


async def test_an_unknown_name_is_delayed_exactly_like_a_known_one(
    cluster: Cluster, hub: RunningNode, clock: FakeClock
) -> None:
    answers: dict[str, list[int]] = {}
    for name in ("admin", "nobody"):
        answers[name] = []
        for _ in range(FREE_FAILURES + 3):
            status, _, retry = await api_sign_in(cluster.session, hub, name, "a wrong guess")
            answers[name].append(status if retry is None else int(retry))
    assert answers["admin"] == answers["nobody"] == [401] * (FREE_FAILURES + 1) + [1, 1]


async def test_a_parallel_burst_cannot_slip_past_the_count(
    cluster: Cluster, hub: RunningNode
) -> None:
    guesses = [api_sign_in(cluster.session, hub, "admin", f"guess {n}") for n in range(24)]
    statuses = sorted(status for status, _, _ in await asyncio.gather(*guesses))
    assert statuses == [401] * (FREE_FAILURES + 1) + [429] * (24 - FREE_FAILURES - 1)
    async with cluster.session.get(hub.url + "/healthz") as response:
        assert response.status == 200


async def test_the_page_and_http_basic_are_held_back_too(
    cluster: Cluster, hub: RunningNode
) -> None:
    basic = base64.b64encode(b"admin:a wrong guess").decode()
    headers = {"Authorization": f"Basic {basic}"}
    for _ in range(FREE_FAILURES + 1):
        async with cluster.session.get(hub.url + SESSION, headers=headers) as response:
            assert (await response.json())["member"] is None
    async with cluster.session.get(hub.url + SESSION, headers=headers) as response:
        assert response.status == 429
        assert response.headers["Retry-After"] == "1"
    # A browser keeps the session cookie of a numeric host too (aiohttp's jar does not).
    async with aiohttp.ClientSession(
        cookie_jar=aiohttp.CookieJar(unsafe=True), connector=trusting_connector(hub.home)
    ) as browser:
        async with browser.get(hub.url + "/signin") as response:
            form = await response.text()
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token
        data = {"csrf_token": unescape(token.group(1)), "name": "admin", "password": PASSWORD}
        async with browser.post(hub.url + "/signin", data=data, allow_redirects=False) as response:
            text = await response.text()
            assert response.status == 429
            assert response.headers["Retry-After"] == "1"
            assert "Too many attempts. Try again in 1 s." in text
            assert 'id="password"' in text  # the form again, to try later


@pytest.mark.parametrize(
    ("failures", "seconds"),
    [(0, 0), (FREE_FAILURES, 0), (FREE_FAILURES + 1, 1), (FREE_FAILURES + 2, 2),
     (FREE_FAILURES + 3, 4), (FREE_FAILURES + 10, 512), (FREE_FAILURES + 11, MAX_DELAY),
     (FREE_FAILURES + 60, MAX_DELAY)],
)  # fmt: skip
def test_each_wait_is_double_the_last_up_to_fifteen_minutes(failures: int, seconds: float) -> None:
    assert MAX_DELAY == 900
    assert delay_after(failures) == seconds


def test_a_stranger_address_waits_whatever_name_it_tries() -> None:
    clock = FakeClock()
    guard = SignInGuard(clock)
    spray: Callable[[int], str] = lambda n: f"name-{n}"  # noqa: E731
    for n in range(FREE_FAILURES + 1):
        assert guard.wait("203.0.113.9", spray(n)) == 0
        guard.attempt("203.0.113.9", spray(n))
    assert guard.wait("203.0.113.9", "someone-new") == 1
    assert guard.wait("198.51.100.7", "someone-new") == 0  # another address, a fresh name
    # Loopback (a reverse proxy's address for everyone) is never blocked as an address.
    for n in range(FREE_FAILURES + 5):
        guard.attempt("127.0.0.1", spray(100 + n))
    assert guard.wait("127.0.0.1", "someone-new") == 0


def test_a_spray_of_names_cannot_grow_the_memory_without_bound() -> None:
    from node.web.sign_in_guard import MAX_ENTRIES

    clock = FakeClock()
    guard = SignInGuard(clock)
    for n in range(MAX_ENTRIES + 2_000):
        guard.attempt("127.0.0.1", f"sprayed-{n}")
    assert len(guard._strikes) <= MAX_ENTRIES
    # The newest names are still counted: a spray cannot wash out the name it guesses.
    for _ in range(FREE_FAILURES + 1):
        guard.attempt("127.0.0.1", "admin")
    assert guard.wait("127.0.0.1", "admin") == 1
