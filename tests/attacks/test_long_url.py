"""A client sends an over-long URL whose query carries something that must not reach logs.

The attacker (or a careless link) asks for a URL of tens of kilobytes, with a search text or
a token in the query. What must hold: the node answers 414 in the one error shape (a line too
long even for the parser is aiohttp's plain 400), logs one WARNING line that names neither
the path's query nor its text, never an ERROR with a traceback, and keeps serving.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from node.web.edge import MAX_LINE_BYTES, MAX_URL_BYTES
from tests.attacks.raw_http import LOOPBACK, read_answer, request_head
from tests.integration.conftest import Cluster
from tests.tls_helpers import any_node_tls

SECRET = "rendezvous-at-the-old-mill"


async def get(port: int, target: str) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection(LOOPBACK, port, ssl=any_node_tls())
    try:
        writer.write(request_head(port, "GET", target, {"Connection": "close"}))
        async with asyncio.timeout(10):
            return await read_answer(reader)
    finally:
        writer.transport.abort()


def assert_logged_plainly(caplog: pytest.LogCaptureFixture) -> None:
    texts = [record.getMessage() for record in caplog.records]
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR], texts
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1, texts
    assert warnings[0].exc_info is None
    assert all(SECRET not in text and "aaaa" not in text for text in texts)


@pytest.mark.parametrize("path", ["/api/v1/lessons", "/federation/v1/push", "/nowhere"])
async def test_an_over_long_url_is_answered_414(
    cluster: Cluster, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    a = await cluster.start("Hub A")
    target = f"{path}?q={SECRET}&pad=" + "a" * (MAX_URL_BYTES + 1)
    caplog.clear()

    with caplog.at_level(logging.DEBUG):
        status, headers, body = await get(a.port, target)

    assert status == 414 and headers["content-type"].startswith("application/json")
    assert b'"uri_too_long"' in body and SECRET.encode() not in body
    assert_logged_plainly(caplog)
    assert await cluster.healthy(a)


async def test_a_url_too_long_for_the_parser_is_one_warning(
    cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    a = await cluster.start("Hub A")
    target = f"/api/v1/lessons?q={SECRET}&pad=" + "a" * (MAX_LINE_BYTES + 1)
    caplog.clear()

    with caplog.at_level(logging.DEBUG):
        status, _, _ = await get(a.port, target)

    assert status == 400
    assert_logged_plainly(caplog)
    assert await cluster.healthy(a)


async def test_a_url_within_the_limit_is_served(cluster: Cluster) -> None:
    a = await cluster.start("Hub A")

    status, _, _ = await get(a.port, "/healthz?pad=" + "a" * (MAX_URL_BYTES - 100))

    assert status == 200
