"""A photo's transfer cut short by a killed server resumes where it stopped.

Hub A runs as a real ``rhizome serve`` process, reached through a slow link so the photo
takes many chunks; Hub B (in this process) syncs, and once part of the photo has arrived the
server is killed (SIGKILL). The part stays in B's ``blobs/partial/``, nothing is stored as a
blob; after A is started again, the next sync continues from the end of the part (A logs
the first chunk of each blob it sends, and logs it once) and the stored photo is the one
the signed record names.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from archive.attachment_intake import AttachmentInput
from archive.blobs import BlobStore
from archive.lesson_file import draft_from_fields
from archive.queries import load_record
from federation.blob_wire import CHUNK_BYTES
from federation.invites import DEFAULT_TTL, create_invite, encode_invite
from federation.peers import get_peer
from federation.sync import sync_with_peer
from node.node import Node
from node.tls import certificate_path
from tests.conftest import HomeFactory
from tests.integration.attachment_helpers import SUBJECTS
from tests.integration.conftest import Cluster, free_port
from tests.node.test_serve_process import RHIZOME, STOP_TIMEOUT, wait_until_healthy

WAIT = 60.0


def noise_png() -> bytes:
    """A photo that does not compress: several chunks on the wire."""
    bands = [Image.effect_noise((1100, 1100), 120) for _ in range(3)]
    out = io.BytesIO()
    Image.merge("RGB", bands).save(out, "PNG")
    return out.getvalue()


def serve(home: Path, port: int) -> subprocess.Popen[bytes]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("RHIZOME_")}
    process = subprocess.Popen(
        [str(RHIZOME), "--home", str(home), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    wait_until_healthy(process, f"https://127.0.0.1:{port}", home)
    return process


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)


def prepare_origin(home: Path, link_url: str) -> tuple[str, str, int, str]:
    """A's lesson with the photo, A's address set to the link; (record, blob, size, invite)."""
    config = home / "config.toml"
    text = config.read_text(encoding="utf-8")
    old = next(line for line in text.splitlines() if line.startswith("url = "))
    config.write_text(text.replace(old, f'url = "{link_url}"'), encoding="utf-8")
    node = Node(home)
    try:
        consent = {"basis": "consent", "scope": "federation", "subjects": SUBJECTS}
        front = {"title": "Night drill", "kind": "after_action_review", "consent": consent}
        draft = draft_from_fields(front, "Lights out.\n", "test")
        photo = AttachmentInput("night.png", noise_png(), "Kite at night", ("Kite",))
        intake = node.take_lesson(draft, "test", "admin", attachments=[photo])
        assert intake.record_id is not None
        (attachment,) = load_record(node.db, intake.record_id).lesson.attachments
        code = create_invite(node.db, node.node_id, link_url, node.now(), DEFAULT_TTL)
    finally:
        node.close()
    return intake.record_id, attachment.hash_hex, attachment.size, encode_invite(code)


def sent_events(home: Path) -> int:
    with sqlite3.connect(home / "rhizome.db") as conn:
        row = conn.execute("SELECT count(*) FROM events WHERE kind = 'attachment.sent'")
        return int(row.fetchone()[0])


async def test_a_transfer_cut_by_a_killed_server_resumes(
    cluster: Cluster, make_home: HomeFactory, slow_link: Any,
    processes: list[subprocess.Popen[bytes]],
) -> None:  # fmt: skip
    port = free_port()
    a_home = make_home(name="Hub A", port=port)
    link = await slow_link(port)
    record_id, blob, size, invite = prepare_origin(a_home, link.url)
    assert size > 3 * CHUNK_BYTES
    processes.append(serve(a_home, port))
    cluster.trust.load_verify_locations(cafile=certificate_path(a_home))
    hub_b = await cluster.start("Hub B")
    peer = await cluster.join(hub_b, invite)
    store = BlobStore.of(hub_b.node.db)

    syncing = asyncio.create_task(sync_with_peer(cluster.client(hub_b), peer))
    async with asyncio.timeout(WAIT):
        while store.partial_size(blob) < CHUNK_BYTES:
            assert not syncing.done(), syncing.result()
            await asyncio.sleep(0.005)
    processes[0].kill()
    processes[0].wait(timeout=STOP_TIMEOUT)
    cut = await syncing
    assert cut.errors, "the sync should have been cut short"
    held = store.partial_size(blob)
    assert CHUNK_BYTES <= held < size and not store.has(blob)
    assert hub_b.count("records", "id = ?", [record_id]) == 1  # the lesson came first

    processes.append(serve(a_home, port))
    peer = get_peer(hub_b.node.db, peer.node_id) or peer
    again = await sync_with_peer(cluster.client(hub_b), peer)
    assert again.errors == []
    assert store.has(blob) and store.partial_size(blob) == 0
    assert hashlib.sha256(store.read(blob)).hexdigest() == blob
    assert sent_events(a_home) == 1  # the second run started past the first chunk
