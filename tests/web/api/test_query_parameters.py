"""Query parameters are read through their declared types (node/web/api_types.py): a bad one
is a 400 that names it and its range, an unknown one is ignored, and nothing else changes."""

from __future__ import annotations

import pytest

from node.node import Node
from tests.web.conftest import Client, add_lesson, assert_error, assert_healthy, json_of


@pytest.mark.parametrize("raw", ["0", "501", "1e2", "5.0", "+5", "-1", "٣", "x", "9" * 13, ""])
async def test_a_limit_out_of_range_or_not_plain_digits_is_named(
    client: Client, members: Node, raw: str
) -> None:
    response = await client.get("/api/v1/lessons", params={"limit": raw})
    message = await assert_error(response, 400, "bad_request")
    assert message == "query parameter 'limit' must be a whole number from 1 to 500"
    await assert_healthy(client)


async def test_declared_parameters_apply_and_others_are_ignored(
    client: Client, members: Node
) -> None:
    for title in ("One", "Two", "Three"):
        await add_lesson(client, title=title)
    page = await json_of(await client.get("/api/v1/lessons?limit=2&offset=1&cache=123"))
    assert (len(page["lessons"]), page["total"]) == (2, 3)
    found = await json_of(await client.get("/api/v1/lessons", params={"q": "  Two  "}))
    assert found["query"] == "Two" and [hit["title"] for hit in found["lessons"]] == ["Two"]


@pytest.mark.parametrize("query", ["peer=x", "record=&peer=x", "record=%20%20&peer=x"])
async def test_a_required_parameter_missing_or_blank_is_named(
    client: Client, members: Node, query: str
) -> None:
    response = await client.get(f"/api/v1/policy/explain?{query}")
    message = await assert_error(response, 400, "bad_request")
    assert message == "query parameter 'record' is required"


async def test_a_log_limit_has_the_log_range(client: Client, members: Node) -> None:
    response = await client.get("/api/v1/events?limit=10001")
    message = await assert_error(response, 400, "bad_request")
    assert message == "query parameter 'limit' must be a whole number from 1 to 10,000"
    assert len((await json_of(await client.get("/api/v1/events?limit=1")))["events"]) == 1
