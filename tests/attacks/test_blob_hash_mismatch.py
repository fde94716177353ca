"""A peer serves an attachment whose bytes are not the ones the signed lesson names.

The attacker (a paired hub) holds a lesson with a photo and, when we fetch the photo, sends
other bytes of the same size (here: its blob file overwritten on its own disk). What must
hold: the chunks are taken only into a partial download, the finished file's SHA-256 is
checked against the hash the signed record names, the mismatch is refused, nothing is
stored (no blob, no partial download), the peer gets a strike, and the node keeps serving.
"""

from __future__ import annotations

from archive.attachment_intake import AttachmentInput
from archive.blobs import BlobStore
from tests.attachment_files import jpeg_with_gps
from tests.integration.attachment_helpers import add_with_attachments
from tests.integration.conftest import Cluster


async def test_a_blob_whose_hash_does_not_match_is_never_stored(cluster: Cluster) -> None:
    attacker = await cluster.start("Hub A")
    victim = await cluster.start("Hub B")
    await cluster.pair(attacker, victim)
    photo = AttachmentInput("kite.jpg", jpeg_with_gps((90, 70)), "Kite", ("Kite",))
    record = add_with_attachments(attacker, [photo])
    (attachment,) = record.lesson.attachments
    served = BlobStore.of(attacker.node.db).path(attachment.hash_hex)
    served.write_bytes(bytes(reversed(served.read_bytes())))  # same size, other bytes
    report = await cluster.sync(victim, attacker)
    assert victim.has(record)  # the lesson itself is fine and stays
    assert any("hash" in error for error in report.errors)
    store = BlobStore.of(victim.node.db)
    assert not store.has(attachment.hash_hex)
    assert store.partial_size(attachment.hash_hex) == 0
    assert victim.count("strikes", "reason LIKE 'blob_hash_mismatch%'") == 1
    assert await cluster.healthy(victim)
