"""Federation over TLS: the peer's node key is pinned, plain HTTP leaves only for loopback.

Real nodes (tests/integration/conftest.py serves each with its own certificate), a real
second TLS server that presents another node's key, and a plain-HTTP node behind an
https:// address: every refusal is clear, sends no request, strikes no one and is noted as
the peer's last error; the real peer still syncs afterwards.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from crypto import tls_certificate
from crypto.signing import SigningIdentity
from federation.tls_pin import PlainHttpRefused, federation_url, keys_for_peer, pin_for
from node.tls import server_context, stored_fingerprint
from tests.integration.conftest import LOOPBACK, Cluster, RunningNode


@dataclass
class Impostor:
    """A TLS server on loopback with a key of its own: it records every byte it is sent
    after the handshake, and answers nothing."""

    server: asyncio.Server
    received: list[bytes] = field(default_factory=list)
    connections: int = 0

    @property
    def url(self) -> str:
        return f"https://{LOOPBACK}:{self.server.sockets[0].getsockname()[1]}"


@pytest.fixture
async def impostor(tmp_path) -> AsyncIterator[Impostor]:  # type: ignore[no-untyped-def]
    context = server_context(tmp_path, SigningIdentity.generate())
    made: list[Impostor] = []

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        made[0].connections += 1
        try:
            while data := await reader.read(65536):
                made[0].received.append(data)
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(record, LOOPBACK, 0, ssl=context)
    made.append(Impostor(server))
    try:
        yield made[0]
    finally:
        server.close()
        await server.wait_closed()


def point_at(node: RunningNode, peer: RunningNode, url: str) -> None:
    """What a poisoned DNS or a hijacked route does: ``peer``'s address now leads to ``url``."""
    with node.node.db.conn:
        node.node.db.execute("UPDATE peers SET url = ? WHERE node_id = ?", [url, peer.node_id])


def strikes(*nodes: RunningNode) -> int:
    return sum(node.count("strikes") for node in nodes)


async def test_a_server_with_another_key_is_refused_before_a_byte_is_sent(
    cluster: Cluster, impostor: Impostor
) -> None:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    await cluster.pair(a, b)
    record = a.add("Sent only to A's key")
    point_at(b, a, impostor.url)

    report = await cluster.sync(b, a)

    assert impostor.connections >= 1  # the handshake happened: it was really asked
    assert b"".join(impostor.received) == b""  # and not one byte of a request followed
    assert report.received == report.sent == 0
    assert report.errors and "certificate is not its node key" in report.errors[0]
    assert "someone may be in the middle" in report.errors[0]
    peer = b.peer(a)
    assert peer is not None and "not its node key" in (peer.last_error or "")
    assert strikes(a, b) == 0  # it is not A's fault

    point_at(b, a, a.url)  # the real address again: the real peer syncs
    report = await cluster.sync(b, a)
    assert report.errors == [] and b.has(record)


async def test_an_https_address_answered_in_plain_http_is_refused(cluster: Cluster) -> None:
    """A downgrade on the way: the address says https, what answers speaks plain HTTP."""
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    plain = await cluster.start("Hub P", tls=False)
    await cluster.pair(a, b)
    before = plain.counts()
    point_at(b, a, plain.url.replace("http://", "https://"))

    report = await cluster.sync(b, a)

    assert report.errors and "secure connection failed" in report.errors[0]
    assert plain.counts() == before  # no request reached the plain server
    assert strikes(a, b, plain) == 0


async def test_plain_http_on_loopback_still_works(cluster: Cluster) -> None:
    a = await cluster.start("Hub A", tls=False)
    b = await cluster.start("Hub B", tls=False)
    await cluster.pair(a, b)
    record = a.add()
    report = await cluster.sync(b, a)
    assert report.errors == [] and b.has(record)


def test_plain_http_to_another_machine_goes_over_tls_instead() -> None:
    """Never in plain text: http:// elsewhere becomes https:// on the same host and port
    (a peer paired before TLS), unless the operator set allow_plain_http for a lab."""
    old = "http://hub.example.org:8470"
    assert federation_url(old, allow_plain_http=False) == "https://hub.example.org:8470"
    assert federation_url(old, allow_plain_http=True) == old
    for loopback in ("http://127.0.0.1:8470", "http://localhost:1", "http://[::1]:8470"):
        assert federation_url(loopback, allow_plain_http=False) == loopback
    assert federation_url("https://hub.example.org", allow_plain_http=False).startswith("https")
    with pytest.raises(PlainHttpRefused, match="https://"):
        federation_url("ftp://hub.example.org", allow_plain_http=False)


def test_the_pin_is_the_node_key_and_equal_pins_share_connections() -> None:
    identity = SigningIdentity.generate()
    assert keys_for_peer(identity.node_id) == {identity.public_key}
    assert keys_for_peer("not a node id") == frozenset()
    assert pin_for(identity.node_id) == pin_for(identity.node_id)
    assert hash(pin_for(identity.node_id)) == hash(pin_for(identity.node_id))
    assert pin_for(identity.node_id) != pin_for(SigningIdentity.generate().node_id)


async def test_allow_plain_http_warns_in_healthz_and_status(cluster: Cluster) -> None:
    lab = await cluster.start("Hub Lab", allow_plain_http=True)
    normal = await cluster.start("Hub B")
    async with cluster.session.get(lab.url + "/healthz") as response:
        body = await response.json()
    assert body["allow_plain_http"] is True and "allow_plain_http" in body["warning"]
    async with cluster.session.get(normal.url + "/healthz") as response:
        assert "allow_plain_http" not in await response.json()
    assert lab.node.local_node().allow_plain_http is True
    assert normal.node.local_node().allow_plain_http is False


async def test_pages_show_the_certificate_fingerprint_beside_the_node_id(cluster: Cluster) -> None:
    a = await cluster.start("Hub A")
    async with cluster.session.get(a.url + "/signin") as response:
        page = await response.text()
    fingerprint = stored_fingerprint(a.home)
    assert fingerprint is not None and len(fingerprint) == 95
    assert a.node_id in page and fingerprint in page
    # The one a browser sees: the certificate the server presents.
    _reader, writer = await asyncio.open_connection(LOOPBACK, a.port, ssl=cluster.trust)
    try:
        presented = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        assert tls_certificate.fingerprint(presented) == fingerprint
        assert writer.get_extra_info("ssl_object").version() == "TLSv1.3"
    finally:
        writer.close()
