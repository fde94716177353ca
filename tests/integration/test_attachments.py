"""Attachments between real nodes: the bytes follow the records only where each person's
consent allows, checked chunk by chunk, and a withdrawn subject's files are purged at every
holder (a canary in the file's bytes, looked for in every file of every home)."""

from __future__ import annotations

from archive.attachment_intake import AttachmentInput
from archive.blobs import BlobStore
from tests.attachment_files import BODY_CANARY, jpeg_with_gps, pdf_with_metadata
from tests.integration.attachment_helpers import add_with_attachments
from tests.integration.conftest import Cluster, files_containing


async def test_the_bytes_follow_only_where_each_person_agreed(cluster: Cluster) -> None:
    hub_a = await cluster.start("Hub A")
    hub_b = await cluster.start("Hub B")
    await cluster.pair(hub_a, hub_b)
    kite = AttachmentInput("kite.jpg", jpeg_with_gps((80, 60)), "Kite crossing", ("Kite",))
    heron = AttachmentInput("heron.jpg", jpeg_with_gps((60, 80)), "Heron on watch", ("Heron",))
    notes = AttachmentInput("notes.pdf", pdf_with_metadata(), "Checklist", ())
    record = add_with_attachments(hub_a, [kite, heron, notes])
    report = await cluster.sync(hub_b, hub_a)
    assert report.errors == [] and hub_b.has(record)
    held = BlobStore.of(hub_b.node.db)
    kite_blob, heron_blob, notes_blob = (a.hash_hex for a in record.lesson.attachments)
    assert held.has(kite_blob) and held.has(notes_blob)
    assert not held.has(heron_blob)  # Heron did not agree to be photographed
    assert held.read(kite_blob) == BlobStore.of(hub_a.node.db).read(kite_blob)
    assert files_containing(hub_b.home, BODY_CANARY) != []  # the PDF's page text came along
    again = await cluster.sync(hub_b, hub_a)
    assert again.errors == []
    assert hub_a.count("events", "kind = 'attachment.sent'") == 2  # nothing sent twice
