"""A paired peer asks for attachments that the consent of the people in them keeps home.

The attacker holds the lesson (its text may travel) and asks, with properly signed requests,
for the bytes of a photo whose subject did not agree to be photographed, then, after that
subject's consent was withdrawn, for a photo that had been allowed. What must hold: both
answers are ``403 blob_withheld`` with the reason in words, not one byte of either file
leaves, the withdrawn file is gone from the origin's disk, and the node keeps serving.
"""

from __future__ import annotations

import pytest

from archive.attachment_intake import AttachmentInput
from archive.blobs import BlobStore
from federation import endpoints
from federation.errors import PeerRefused
from node.actions.consent import WithdrawSubject, withdraw_subject
from tests.attachment_files import jpeg_with_gps
from tests.integration.attachment_helpers import add_with_attachments
from tests.integration.conftest import Cluster, RunningNode


async def ask_for(cluster: Cluster, asker: RunningNode, holder: RunningNode, record: str,
                  blob: str) -> dict[str, object]:  # fmt: skip
    peer = asker.peer(holder)
    assert peer is not None
    request = {"record": bytes.fromhex(record), "blob": bytes.fromhex(blob), "offset": 0}
    return await cluster.client(asker).call(
        endpoints.BLOB, request, recipient=peer.node_id, base_url=peer.url
    )


async def test_no_byte_of_a_withheld_or_withdrawn_photo_leaves(cluster: Cluster) -> None:
    origin = await cluster.start("Hub A")
    attacker = await cluster.start("Hub B")
    await cluster.pair(origin, attacker)
    heron = AttachmentInput("heron.jpg", jpeg_with_gps((50, 50)), "Heron", ("Heron",))
    kite = AttachmentInput("kite.jpg", jpeg_with_gps((60, 40)), "Kite", ("Kite",))
    record = add_with_attachments(origin, [heron, kite])
    heron_blob, kite_blob = (a.hash_hex for a in record.lesson.attachments)
    assert (await cluster.sync(attacker, origin)).errors == []
    assert not BlobStore.of(attacker.node.db).has(heron_blob)

    with pytest.raises(PeerRefused) as refused:
        await ask_for(cluster, attacker, origin, record.id_hex, heron_blob)
    assert refused.value.code == "blob_withheld"
    assert "Heron did not agree to be photographed" in refused.value.message

    admin = origin.node.member("admin")
    withdraw_subject(origin.node, WithdrawSubject(admin, record.id_hex, "Kite"))
    assert not BlobStore.of(origin.node.db).has(kite_blob)
    with pytest.raises(PeerRefused) as withdrawn:
        await ask_for(cluster, attacker, origin, record.id_hex, kite_blob)
    assert withdrawn.value.code == "blob_withheld"
    assert origin.count("events", "kind = 'attachment.sent' AND subject = ?", [heron_blob]) == 0
    assert await cluster.healthy(origin)
