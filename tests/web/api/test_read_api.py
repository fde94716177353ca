"""The read-only JSON API and its one error shape, through a real aiohttp test client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from node.importer import import_folder
from node.node import Node
from tests.conftest import write_lesson
from tests.web.conftest import (
    Client,
    ClientFactory,
    assert_error,
    assert_healthy,
    token_client,
)

SUMMARY_KEYS = {"id", "title", "kind", "language", "region", "origin", "created", "sensitivity"}


@pytest.fixture
def loaded(node: Node, samples: Path) -> Node:
    report = import_folder(node, samples)
    assert len(report.imported) == 12 and not report.rejected
    return node


@pytest.fixture
async def client(aiohttp_client: ClientFactory, loaded: Node) -> Client:
    return await token_client(aiohttp_client, loaded)


async def get_json(
    client: Client, path: str, status: int = 200, params: dict[str, str] | None = None
) -> Any:
    response = await client.get(path, params=params)
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    return await response.json()


async def refused(client: Client, path: str, status: int, code: str, method: str = "GET") -> str:
    """Ask for ``path``: the one error shape (:func:`assert_error`), then still healthy."""
    message = await assert_error(await client.request(method, path), status, code)
    await assert_healthy(client)
    return message


async def all_ids(client: Client) -> list[str]:
    return [item["id"] for item in (await get_json(client, "/api/v1/lessons"))["lessons"]]


# ---- health and listing -------------------------------------------------------------------


async def test_healthz(client: Client) -> None:
    body = await get_json(client, "/healthz")
    assert body["status"] == "ok"
    assert isinstance(body["version"], str) and body["version"]
    assert not {"lessons", "title", "body"} & set(body)


async def test_healthz_on_an_empty_archive(aiohttp_client: ClientFactory, node: Node) -> None:
    client = await token_client(aiohttp_client, node)
    assert (await get_json(client, "/healthz"))["status"] == "ok"
    empty = {"lessons": [], "total": 0, "total_exact": True, "next": None, "previous": None}
    assert await get_json(client, "/api/v1/lessons") == empty


async def test_list(client: Client) -> None:
    body = await get_json(client, "/api/v1/lessons")
    assert body["total"] == 12
    assert len(body["lessons"]) == 12
    for item in body["lessons"]:
        assert set(item) >= SUMMARY_KEYS
        assert "body" not in item
    assert len({item["id"] for item in body["lessons"]}) == 12


async def test_limit_and_offset_page_through_everything(client: Client) -> None:
    everything = await all_ids(client)
    pages = []
    for offset in range(0, 12, 5):
        body = await get_json(client, f"/api/v1/lessons?limit=5&offset={offset}")
        assert body["total"] == 12
        pages.extend(item["id"] for item in body["lessons"])
    assert pages == everything
    last = await get_json(client, "/api/v1/lessons?limit=5&offset=10")
    assert len(last["lessons"]) == 2
    beyond = await get_json(client, "/api/v1/lessons?offset=100")
    assert beyond["lessons"] == []


async def test_list_hides_older_versions(
    aiohttp_client: ClientFactory, node: Node, tmp_path: Path
) -> None:
    first = node.add_lesson_file(write_lesson(tmp_path, "v1.md", {"title": "v1", "kind": "story"}))
    front = {"title": "v2", "kind": "story", "supersedes": first.id_hex}
    second = node.add_lesson_file(write_lesson(tmp_path, "v2.md", front))
    client = await token_client(aiohttp_client, node)
    body = await get_json(client, "/api/v1/lessons")
    assert [item["id"] for item in body["lessons"]] == [second.id_hex]
    assert body["total"] == 1
    shown = await get_json(client, f"/api/v1/lessons/{second.id_hex}")
    assert [item["id"] for item in shown["history"]] == [first.id_hex, second.id_hex]
    old = await get_json(client, f"/api/v1/lessons/{first.id_hex}")
    assert old["id"] == first.id_hex


# ---- search and filters -------------------------------------------------------------------


async def test_search_folds_accents(client: Client) -> None:
    body = await get_json(client, "/api/v1/lessons?q=comunicacion")
    assert body["query"] == "comunicacion"
    assert body["lessons"]
    assert {item["language"] for item in body["lessons"]} == {"es"}
    for item in body["lessons"]:
        assert set(item) >= SUMMARY_KEYS
        assert "**" in item["snippet"]


async def test_search_is_case_insensitive(client: Client) -> None:
    lower = await get_json(client, "/api/v1/lessons?q=consent")
    upper = await get_json(client, "/api/v1/lessons?q=CONSENT")
    assert lower["lessons"]
    assert [item["id"] for item in lower["lessons"]] == [item["id"] for item in upper["lessons"]]


async def test_search_limit_and_offset(client: Client) -> None:
    everything = await get_json(client, "/api/v1/lessons?q=safety&limit=50")
    ids = [item["id"] for item in everything["lessons"]]
    assert len(ids) >= 3
    first = await get_json(client, "/api/v1/lessons?q=safety&limit=2")
    rest = await get_json(client, "/api/v1/lessons?q=safety&limit=50&offset=2")
    assert [item["id"] for item in first["lessons"] + rest["lessons"]] == ids


@pytest.mark.parametrize(
    ("name", "value"),
    [("kind", "story"), ("language", "fr"), ("region", "West Africa"), ("tag", "consent")],
)
async def test_search_filters(client: Client, name: str, value: str) -> None:
    everything = await get_json(client, "/api/v1/lessons?q=a*&limit=500")
    body = await get_json(client, "/api/v1/lessons", params={"q": "a*", name: value})
    assert body["lessons"]
    assert len(body["lessons"]) < len(everything["lessons"])
    for item in body["lessons"]:
        if name == "tag":
            assert value in item["tags"]
        else:
            assert item[name] == value


@pytest.mark.parametrize(
    ("name", "value"),
    [("kind", "story"), ("language", "fr"), ("region", "West Africa"), ("tag", "consent")],
)
async def test_filters_apply_without_a_query(client: Client, name: str, value: str) -> None:
    body = await get_json(client, "/api/v1/lessons", params={name: value})
    assert body["lessons"]
    for item in body["lessons"]:
        if name == "tag":
            assert value in item["tags"]
        else:
            assert item[name] == value


async def test_search_without_hits(client: Client) -> None:
    body = await get_json(client, "/api/v1/lessons?q=zzyzxqvw")
    assert body["lessons"] == []


async def test_search_syntax_cannot_break_the_query(client: Client) -> None:
    for query in ['"unbalanced', "safety AND OR", "title:safety", "NEAR(", "a'b-c*"]:
        body = await get_json(client, "/api/v1/lessons", params={"q": query})
        assert isinstance(body["lessons"], list), query


async def test_blank_query_lists_everything(client: Client) -> None:
    body = await get_json(client, "/api/v1/lessons?q=%20%20")
    assert body["total"] == 12


# ---- one lesson ---------------------------------------------------------------------------


async def test_show_by_id(client: Client) -> None:
    record_id = (await all_ids(client))[4]
    shown = await get_json(client, f"/api/v1/lessons/{record_id}")
    assert shown["id"] == record_id
    assert SUMMARY_KEYS | {"body", "consent", "history"} <= set(shown)
    assert shown["body"].strip()
    assert shown["consent"]["scope"] in {"local", "peers", "federation", "public"}


async def test_show_by_prefix(client: Client) -> None:
    record_id = (await all_ids(client))[7]
    assert (await get_json(client, f"/api/v1/lessons/{record_id[:8]}"))["id"] == record_id
    upper = await get_json(client, f"/api/v1/lessons/{record_id[:8].upper()}")
    assert upper["id"] == record_id


async def test_show_lists_translations(
    aiohttp_client: ClientFactory, node: Node, tmp_path: Path
) -> None:
    original = node.add_lesson_file(write_lesson(tmp_path, "en.md"))
    front = {"title": "Una lección", "kind": "checklist", "language": "es"}
    front["translation_of"] = original.id_hex
    spanish = node.add_lesson_file(write_lesson(tmp_path, "es.md", front))
    client = await token_client(aiohttp_client, node)
    shown = await get_json(client, f"/api/v1/lessons/{original.id_hex}")
    assert [item["id"] for item in shown["translations"]] == [spanish.id_hex]
    back = await get_json(client, f"/api/v1/lessons/{spanish.id_hex}")
    assert back["translation_of"] == original.id_hex
    assert [item["id"] for item in back["translations"]] == [original.id_hex]


# ---- errors: one shape --------------------------------------------------------------------


async def test_error_shape_is_pinned(client: Client) -> None:
    response = await client.get("/api/v1/lessons/" + "0" * 64)
    assert response.status == 404
    assert await response.json() == {
        "error": {
            "status": 404,
            "code": "not_found",
            "message": "no record 0000000000000000000000000000000000000000000000000000000000000000 "
            "in this archive",
        }
    }


async def test_unknown_id(client: Client) -> None:
    await refused(client, "/api/v1/lessons/" + "f" * 64, 404, "not_found")


async def test_unknown_prefix(client: Client) -> None:
    known = {record_id[:6] for record_id in await all_ids(client)}
    prefix = next(p for p in ("abcdef", "fedcba", "012345", "543210") if p not in known)
    await refused(client, f"/api/v1/lessons/{prefix}", 404, "not_found")


async def test_too_short_prefix(client: Client) -> None:
    await refused(client, "/api/v1/lessons/ab", 400, "invalid_id")


@pytest.mark.parametrize("value", ["0", "-1", "abc", "501", "1.5", "", "99999999999"])
async def test_bad_limit(client: Client, value: str) -> None:
    await refused(client, f"/api/v1/lessons?limit={value}", 400, "bad_request")


@pytest.mark.parametrize("value", ["%C2%B2", "%D9%A3", "9" * 5000])
async def test_limit_with_unusual_digits(client: Client, value: str) -> None:
    # str.isdigit() accepts "²" and Arabic-Indic digits; int() may not: still a 400, not a 500.
    response = await client.get(f"/api/v1/lessons?limit={value}")
    assert response.status in (200, 400), await response.text()
    if response.status == 400:
        assert (await response.json())["error"]["code"] == "bad_request"
    assert (await get_json(client, "/healthz"))["status"] == "ok"


@pytest.mark.parametrize("value", ["-1", "x", "1e3", "10001"])
async def test_bad_offset(client: Client, value: str) -> None:
    await refused(client, f"/api/v1/lessons?offset={value}", 400, "bad_request")


async def test_next_and_previous_cursors_page_through_everything(client: Client) -> None:
    everything = await all_ids(client)
    pages, cursor, firsts = [], "", []
    while True:
        body = await get_json(client, f"/api/v1/lessons?limit=5{cursor}")
        assert (body["total"], body["total_exact"]) == (12, True)
        firsts.append(body)
        pages.extend(item["id"] for item in body["lessons"])
        if body["next"] is None:
            break
        cursor = f"&after={body['next']}"
    assert pages == everything
    assert [len(body["lessons"]) for body in firsts] == [5, 5, 2]
    assert firsts[0]["previous"] is None
    back = await get_json(client, f"/api/v1/lessons?limit=5&before={firsts[2]['previous']}")
    assert back["lessons"] == firsts[1]["lessons"]


@pytest.mark.parametrize(
    "cursor", ["x", "1.abc", f"1.{'A' * 64}", f"1.{'a' * 64}&before=1.{'b' * 64}"]
)
async def test_bad_cursor(client: Client, cursor: str) -> None:
    response = await client.get(f"/api/v1/lessons?after={cursor}")
    assert response.status == 400
    assert (await response.json())["error"]["code"] in ("bad_request", "invalid_cursor")
    assert (await get_json(client, "/healthz"))["status"] == "ok"


@pytest.mark.parametrize("query", ["!!!", "*", "%22%22", "--"])
async def test_query_without_words(client: Client, query: str) -> None:
    await refused(client, f"/api/v1/lessons?q={query}", 400, "invalid_query")


async def test_query_too_long(client: Client) -> None:
    await refused(client, "/api/v1/lessons?q=" + "word+" * 200, 400, "invalid_query")


async def test_unknown_route(client: Client) -> None:
    await refused(client, "/api/v1/nothing-here", 404, "not_found")


async def test_method_not_allowed(client: Client) -> None:
    await refused(client, "/api/v1/lessons", 405, "method_not_allowed", "DELETE")
    await refused(client, "/healthz", 405, "method_not_allowed", "DELETE")


async def test_server_keeps_answering_after_many_bad_requests(client: Client) -> None:
    for path in ("/api/v1/lessons?limit=x", "/api/v1/lessons/zz", "/nope", "/api/v1/lessons?q=!"):
        response = await client.get(path)
        assert 400 <= response.status < 500
    assert len(await all_ids(client)) == 12
