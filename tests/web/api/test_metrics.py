"""``/metrics`` speaks Prometheus text, names start with rhizome_, and counts are true."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from federation.peers import save_peer
from node.node import Node
from node.web.app import create_app
from tests.conftest import write_lesson
from tests.web.conftest import token_client


async def scrape(client) -> dict[str, list]:  # type: ignore[no-untyped-def]
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.content_type == "text/plain"
    families = text_string_to_metric_families(await response.text())
    return {family.name: family.samples for family in families}


async def test_every_metric_is_named_rhizome(aiohttp_client, node: Node) -> None:  # type: ignore[no-untyped-def]
    client = await aiohttp_client(create_app(node, background_sync=False))
    metrics = await scrape(client)
    assert metrics
    assert all(name.startswith("rhizome_") for name in metrics), sorted(metrics)


async def test_counts_follow_the_archive_and_requests(  # type: ignore[no-untyped-def]
    aiohttp_client, node: Node, tmp_path: Path
) -> None:
    client = await token_client(aiohttp_client, node)  # a script that reads with a token
    before = await scrape(client)
    assert [s.value for s in before["rhizome_records"]] == [0]
    node.add_lesson_file(write_lesson(tmp_path, "one.md"))
    assert (await client.get("/api/v1/lessons")).status == 200
    assert (await client.get("/api/v1/lessons/ffff")).status == 404
    after = await scrape(client)
    assert [s.value for s in after["rhizome_records"]] == [1]
    requests = {
        (s.labels["route"], s.labels["status"]): s.value
        for s in after["rhizome_http_requests"]
        if s.name == "rhizome_http_requests_total"
    }
    assert requests[("api_lessons", "200")] == 1
    assert requests[("api_lesson", "404")] == 1
    assert [s.value for s in after["rhizome_revocations_pending"]] == [0]


async def test_metrics_name_no_member_peer_or_lesson(  # type: ignore[no-untyped-def]
    visitor, members: Node, tmp_path: Path
) -> None:
    """``/metrics`` is open to any scraper: counts only, never a name or a title."""
    save_peer(members.db, "C" * 56, "Manila Hub", "Southeast Asia", "https://x.test", 1)
    members.db.conn.commit()
    front = {"title": "Safe houses near the river", "kind": "story"}
    lesson = write_lesson(tmp_path, "one.md", front)
    members.add_lesson_file(lesson, author="amina")
    await visitor.get("/api/v1/lessons/ffffffff")  # a route with a parameter, refused
    await visitor.get("/lessons/ffffffff", allow_redirects=False)
    response = await visitor.get("/metrics")
    assert response.status == 200
    text = await response.text()
    assert "rhizome_records 1.0" in text  # the counts are there
    secrets = ["Manila", "x.test", "Safe houses", "river", "amina", "chidi", "ffffffff",
               "Southeast", members.config.name, members.node_id[:12], "C" * 12]  # fmt: skip
    assert [word for word in secrets if word in text] == []
