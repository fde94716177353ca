"""``GET /api/v1/lessons/{id}`` lists a lesson's attachments with their consent state, in the
shape the OpenAPI document declares."""

from __future__ import annotations

import copy

import jsonschema

from node.node import Node
from node.web.openapi import document
from tests.web.api.test_api_answers import closed
from tests.web.conftest import Client, json_of
from tests.web.pages.test_attachments_page import lesson_with_files


async def test_the_api_lists_attachments_with_their_consent_state(
    client: Client, members: Node
) -> None:
    record_id, (kite, debrief, heron) = lesson_with_files(members)
    answer = await json_of(await client.get(f"/api/v1/lessons/{record_id}"))
    states = {item["hash"]: item for item in answer["attachments"]}
    assert states[kite]["may_leave"] and states[kite]["held"]
    assert states[debrief]["kind"] == "audio" and states[debrief]["may_leave"]
    assert not states[heron]["may_leave"]
    assert states[heron]["consent"] == "the photo stays: Heron did not agree to be photographed"
    assert "GPS location" in states[kite]["removed"]
    components = closed(copy.deepcopy(document()["components"]))  # no field undeclared
    assert "AttachmentEntry" in components["schemas"]
    jsonschema.validate(
        answer, {"$ref": "#/components/schemas/LessonDetail", "components": components}
    )
