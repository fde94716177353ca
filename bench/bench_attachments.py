"""Initial sync of lessons that each carry a 2 MB photo, against ``cp`` and the records alone.

Node A (``rhizome serve`` in its own process, loopback) holds N lessons, each with one photo
of about 2 MB after cleaning (random pixels, so JPEG cannot shrink them). Node B, in this
process, pairs with it and runs one sync: the records first, then every photo, chunk by
chunk, each checked against its signed hash. Compared with:

- ``cp -r`` of A's ``blobs/`` folder (the same bytes, disk to disk, no checks);
- the same sync of the same lessons without their photos (node A2): the records alone.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from archive.attachment_intake import AttachmentInput
from archive.lesson_file import draft_from_fields
from bench.bench_sync import free_port, make_node, wait_for
from bench.common import write_result
from federation.client import PeerClient
from federation.invites import create_invite, encode_invite
from federation.pairing import join_with_invite
from federation.sync import sync_with_peer
from node.node import Node

SIDE = 1_600  # pixels: a random-pixel JPEG of this size cleans to about 2 MB
CONSENT = {
    "basis": "consent", "scope": "federation",
    "subjects": [{"pseudonym": "Kite", "share": True, "photographed": True}],
}  # fmt: skip


def photo(index: int) -> bytes:
    from PIL import Image

    image = Image.frombytes("RGB", (SIDE, SIDE), os.urandom(SIDE * SIDE * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92, comment=f"photo {index}".encode())
    return out.getvalue()


def fill(node: Node, count: int, with_photos: bool) -> int:
    """``count`` lessons (each with a photo if asked); the bytes of the photos stored."""
    stored = 0
    for index in range(count):
        front = {"title": f"Drill {index}", "kind": "after_action_review", "consent": CONSENT}
        draft = draft_from_fields(front, f"Step {index}.\n", "bench")
        files = [AttachmentInput(f"{index}.jpg", photo(index), f"Drill {index}", ("Kite",))]
        intake = node.take_lesson(draft, "bench", "admin", attachments=files if with_photos else [])
        assert intake.record_id is not None
    if with_photos:
        blobs = node.paths.root / "blobs"
        stored = sum(path.stat().st_size for path in blobs.rglob("*") if path.is_file())
    return stored


async def pair_and_sync(node_b: Node, code: str) -> tuple[float, int]:
    async with aiohttp.ClientSession() as session:
        client = PeerClient(node_b.local_node(), session)
        peer = await join_with_invite(client, code)
        started = time.perf_counter()
        report = await sync_with_peer(client, peer)
        elapsed = time.perf_counter() - started
    if report.errors:
        raise RuntimeError(report.errors)
    return elapsed, report.received


def served_sync(root: Path, origin: str, receiver: str) -> tuple[float, int]:
    """Serve ``origin`` in its own process; a fresh ``receiver`` pairs and syncs once."""
    home = root / origin
    node = Node(home)
    code = encode_invite(create_invite(node.db, node.node_id, node.config.url,
                                       int(time.time()), 600))  # fmt: skip
    port = int(node.config.url.rsplit(":", 1)[1])
    node.close()
    rhizome = Path(sys.executable).parent / "rhizome"
    server = subprocess.Popen(
        [str(rhizome), "--home", str(home), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy(),
    )  # fmt: skip
    try:
        wait_for(f"https://127.0.0.1:{port}/healthz", home=home)
        node_b = make_node(root, receiver, free_port())
        result = asyncio.run(pair_and_sync(node_b, code))
        node_b.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
    return result


def copy_seconds(source: Path, destination: Path) -> float:
    started = time.perf_counter()
    subprocess.run(["cp", "-r", str(source), str(destination)], check=True)
    subprocess.run(["sync"], check=True)  # the bytes on the disk, as a sync's fsyncs put them
    return time.perf_counter() - started


def run(quick: bool = False) -> dict[str, Any]:
    count = 20 if quick else 200
    with tempfile.TemporaryDirectory(prefix="rhizome-bench-attachments-") as tmp:
        root = Path(tmp)
        photos_bytes = fill(make_node(root, "a", free_port()), count, with_photos=True)
        fill(make_node(root, "a2", free_port()), count, with_photos=False)
        sync_seconds, received = served_sync(root, "a", "b")
        fetched = root / "b" / "blobs"
        fetched_bytes = sum(path.stat().st_size for path in fetched.rglob("*") if path.is_file())
        assert fetched_bytes == photos_bytes, (fetched_bytes, photos_bytes)
        records_seconds, _ = served_sync(root, "a2", "b2")
        cp_seconds = copy_seconds(root / "a" / "blobs", root / "copy")
        shutil.rmtree(root / "copy")
    result = {
        "lessons": count,
        "received": received,
        "photo_megabytes": round(photos_bytes / 1e6, 1),
        "sync_seconds": round(sync_seconds, 2),
        "records_only_seconds": round(records_seconds, 2),
        "cp_seconds": round(cp_seconds, 2),
        "sync_over_cp": round(sync_seconds / cp_seconds, 1),
        "sync_over_records_only": round(sync_seconds / records_seconds, 1),
        "photo_megabytes_per_second": round(
            photos_bytes / 1e6 / max(1e-9, sync_seconds - records_seconds), 1
        ),
    }
    print(
        f"attachments: {received} lessons with {photos_bytes / 1e6:.0f} MB of photos synced in "
        f"{sync_seconds:.2f} s; the records alone {records_seconds:.2f} s; cp of the same "
        f"bytes {cp_seconds:.2f} s (sync = {result['sync_over_cp']}x cp)"
    )
    write_result("attachments", result)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    run(parser.parse_args().quick)
