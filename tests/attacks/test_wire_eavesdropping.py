"""Attack: read everything two hubs say to each other on the network path.

The attacker records every byte that crosses the wire between two hubs, both ways, through a
whole pairing, a sync of a lesson and its revocation (purge and signed receipt): a state on
the border, a hostile ISP, the café's Wi-Fi.

What must hold: nothing of the lesson or of the hubs is readable in the capture: not a
canary word from the lesson's body, not its title, not the pseudonyms of its consent block,
not either hub's name. As a control, the same run over plain HTTP (what
``[federation] allow_plain_http`` permits) shows every one of them in the capture: the check
can fail, and it looks in the right place.
"""

from __future__ import annotations

import dataclasses

from archive.record import Subject
from federation.propagation import revoke
from tests.integration.conftest import Cluster
from tests.integration.revocation_helpers import admin_actor, canary, statuses
from tests.wire.paths import pair_through, start_plain, start_tls
from tests.wire.relay import OpenRelay


async def pair_sync_revoke(
    cluster: Cluster, relays: OpenRelay, scheme: str
) -> tuple[list[str], bytes]:
    """Pair, sync and revoke between two hubs whose every byte crosses a recording relay.
    Returns what must not be readable on the wire, and every byte the relays saw."""
    word = canary()
    names = [f"Riverside {canary()}", f"Hilltop {canary()}"]
    pseudonyms = [f"Amani {canary()}", f"Tumaini {canary()}"]
    title = f"Meeting points {canary()}"
    a, b = [
        await (start_tls(cluster, name) if scheme == "https" else start_plain(cluster, name))
        for name in names
    ]
    to_a = await relays(a.port, scheme=scheme)
    to_b = await relays(b.port, scheme=scheme)
    await pair_through(cluster, a, b, to_a, to_b)

    lesson = a.lesson(title, f"Ask for {word} at the gate.\n", reshare=True)
    subjects = tuple(Subject(name, share=True, recorded=True) for name in pseudonyms)
    lesson = dataclasses.replace(
        lesson, consent=dataclasses.replace(lesson.consent, subjects=subjects)
    )
    record = a.node.writer.add_lesson(lesson)
    assert (await cluster.sync(b, a)).errors == []
    assert b.has(record)
    revoke(a.node.local_node(), record.id_hex, admin_actor(a.node), "consent-withdrawn", None)
    assert (await cluster.sync(a, b)).errors == []  # A hands B the revocation, B purges
    assert not b.has(record)
    assert statuses(a, record.id_hex) == {b.node_id: "purged"}
    # Every exchange crossed the relays: the peers still know each other at their addresses.
    assert (b.peer(a).url, a.peer(b).url) == (to_a.url, to_b.url)  # type: ignore[union-attr]
    for relay in (to_a, to_b):
        assert relay.connections > 0 and relay.captured
    return [word, title, *pseudonyms, *names], bytes(to_a.captured + to_b.captured)


def readable(secrets: list[str], capture: bytes) -> list[str]:
    return [secret for secret in secrets if secret.encode() in capture]


async def test_over_tls_nothing_of_the_lesson_or_the_hubs_is_readable(
    cluster: Cluster, relays: OpenRelay
) -> None:
    secrets, capture = await pair_sync_revoke(cluster, relays, "https")

    assert readable(secrets, capture) == []
    assert capture[:1] == b"\x16"  # a TLS handshake record, not an HTTP request line
    for plain in (b"POST /federation", b"HTTP/1.1", b"Signature", b"msgpack"):
        assert plain not in capture


async def test_over_plain_http_the_capture_shows_everything(
    cluster: Cluster, relays: OpenRelay
) -> None:
    """The control: without TLS the eavesdropper reads the lesson, its consent and the names."""
    secrets, capture = await pair_sync_revoke(cluster, relays, "http")

    assert readable(secrets, capture) == secrets
