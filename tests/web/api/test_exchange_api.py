"""The JSON API of an exchange's own work: collections, evaluations and follow-ups.

:func:`exchange_calls` is also run by ``test_api_answers``, which validates every answer
against the OpenAPI document; the tests here check what the answers say and that bad input
stores nothing.
"""

from __future__ import annotations

from typing import Any

from node.node import Node
from tests.web.conftest import LESSON, Client, assert_error, basic, counts, json_of

EVALUATION = {
    "title": "Evaluation of the Nairobi track",
    "kind": "evaluation",
    "consent": {"scope": "federation"},
    "evaluation": {
        "exchange": "Legal observer track, Nairobi 2027", "held": "2027-03-10",
        "participants": 24, "completed": 21, "action_plans": 18,
        "skills": [
            {"skill": "de-escalation", "before": [2, 8, 9, 4, 1], "after": [0, 1, 6, 11, 6]}
        ],
        "incidents": [{"category": "harassment", "count": 1}],
    },
    "body": "It went well.\n",
}  # fmt: skip
BRIEF = {
    "title": "Next steps after Nairobi",
    "kind": "action_brief",
    "follow_up": "2000-01-01",  # overdue whatever the clock says
    "milestones": [{"title": "Train three observers", "due": "2000-01-02"}],
    "body": "Plan.\n",
}


async def exchange_calls(check: Any) -> None:
    """Every route of node/web/api_exchange.py answering, successes and refusals."""
    amina, chidi = basic("amina"), basic("chidi")
    lessons = "/api/v1/lessons"
    first = await check.call("POST", lessons, lessons, 201, headers=amina,
                             json={**LESSON, "title": "For the collection"})  # fmt: skip
    await check.call("POST", lessons, lessons, 201, json=EVALUATION, headers=amina)
    await check.call("POST", lessons, lessons, 201, json=BRIEF, headers=amina)
    bad = {**EVALUATION, "evaluation": {**EVALUATION["evaluation"], "completed": 99}}
    await check.call("POST", lessons, lessons, 400, json=bad, headers=amina)

    collections = "/api/v1/collections"
    asked = {"name": "Legal observer track", "cohort": "Nairobi 2027", "lessons": [first["id"]]}
    made = await check.call("POST", collections, collections, 201, json=asked, headers=chidi)
    await check.call("POST", collections, collections, 403, json=asked, headers=amina)
    await check.call("POST", collections, collections, 400, json={**asked, "lessons": "x"},
                     headers=chidi)  # fmt: skip
    await check.call("GET", collections, collections, 200)
    one = f"{collections}/{{id}}"
    await check.call("GET", one, f"{collections}/{made['id']}", 200)
    await check.call("GET", one, f"{collections}/ffffffff", 404)
    change = f"{collections}/{{id}}/lessons"
    path = f"{collections}/{made['id']}/lessons"
    await check.call("POST", change, path, 201, json={"remove": [first["id"]]}, headers=chidi)
    await check.call("POST", change, path, 400, json={"add": [1]}, headers=chidi)
    await check.call("GET", "/api/v1/evaluations", "/api/v1/evaluations", 200)
    await check.call("GET", "/api/v1/follow-ups", "/api/v1/follow-ups", 200)


async def test_collections_evaluations_and_follow_ups_through_the_api(
    client: Client, members: Node
) -> None:
    amina, chidi = basic("amina"), basic("chidi")
    lesson = await json_of(await client.post("/api/v1/lessons", json=LESSON, headers=amina), 201)
    await json_of(await client.post("/api/v1/lessons", json=EVALUATION, headers=amina), 201)
    await json_of(await client.post("/api/v1/lessons", json=BRIEF, headers=amina), 201)
    asked = {"name": "Track", "cohort": "Nairobi 2027", "lessons": [lesson["id"][:8]]}
    made = await json_of(await client.post("/api/v1/collections", json=asked, headers=chidi), 201)
    shown = await json_of(await client.get(f"/api/v1/collections/{made['id']}"))
    assert [e["lesson"]["id"] for e in shown["entries"]] == [lesson["id"]]
    assert shown["cohort"] == "Nairobi 2027" and shown["gaps"] == []

    figures = await json_of(await client.get("/api/v1/evaluations"))
    assert figures["own"]["participants"] == 24 and figures["own"]["completion"] == 0.875
    assert figures["own"]["incidents"] == {"harassment": 1}
    assert figures["peers"]["exchanges"] == 0
    (exchange,) = figures["exchanges"]
    assert exchange["skill_gain"] == round(94 / 24 - 66 / 24, 3)  # mean after - mean before

    due = await json_of(await client.get("/api/v1/follow-ups"))
    assert [row["title"] for row in due["due"]] == ["Next steps after Nairobi"]
    assert due["due"][0]["due"] == "2000-01-01T00:00:00Z"


async def test_a_bad_evaluation_or_collection_stores_nothing(client: Client, members: Node) -> None:
    amina, chidi = basic("amina"), basic("chidi")
    before = counts(members)
    bad = {**EVALUATION, "evaluation": {**EVALUATION["evaluation"], "names": ["Juma"]}}
    response = await client.post("/api/v1/lessons", json=bad, headers=amina)
    message = await assert_error(response, 400, "invalid_lesson")
    assert "never names them" in message
    asked = {"name": "Track", "cohort": "Nairobi 2027", "lessons": ["ffffffff"]}
    response = await client.post("/api/v1/collections", json=asked, headers=chidi)
    await assert_error(response, 404, "not_found")
    assert counts(members) == before
