"""A stranger makes the node buffer large file uploads through its web forms.

The lesson form takes files up to the attachment caps (25 MiB each, 100 MiB a lesson), far
above the 2 MiB of other forms, and holds them in memory. The attacker, not signed in, posts
64 MiB multipart bodies to the lesson form and to the sign-in form (which anyone may post).
What must hold: each is answered before its body is read (the lesson form sends them to sign
in, the sign-in form refuses a multipart body over 1 MiB with 413), process memory does not
grow by the bodies' sizes, nothing is stored, and the node keeps serving.
"""

from __future__ import annotations

import asyncio

from tests.attacks.raw_http import post_until_answered
from tests.attacks.test_unauthenticated_body_buffering import (
    MOST_SENT_BEFORE_ANSWER,
    resident_bytes,
)
from tests.integration.conftest import Cluster

BODY = 64 * 1024 * 1024
MULTIPART = {"Content-Type": "multipart/form-data; boundary=attacker"}


async def test_a_stranger_s_uploads_are_answered_before_they_are_read(cluster: Cluster) -> None:
    a = await cluster.start("Hub A")
    before, memory_before = a.counts(), resident_bytes()

    answers = await asyncio.gather(
        *(post_until_answered(a.port, path, MULTIPART, BODY)
          for path in ("/lessons/new", "/signin") for _ in range(3))
    )  # fmt: skip

    for answer in answers[:3]:  # the lesson form: sign in first, the body never read
        assert answer.status == 303 and answer.headers["location"].startswith("/signin")
    for answer in answers[3:]:  # anyone may post the sign-in form: it takes no upload
        assert answer.status == 413
        assert b"over the limit of 1,048,576; nothing was stored" in answer.body
    for answer in answers:
        assert answer.body_bytes_sent < MOST_SENT_BEFORE_ANSWER
    assert resident_bytes() - memory_before < BODY  # six 64 MiB bodies were not kept
    assert a.counts() == before
    assert await cluster.healthy(a)
