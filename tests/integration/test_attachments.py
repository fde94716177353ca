"""Attachments between real nodes: the bytes follow the records only where each person's
consent allows, checked chunk by chunk, and a withdrawn subject's files are purged at every
holder (a canary in the file's bytes, looked for in every file of every home)."""

from __future__ import annotations

from archive.attachment_intake import AttachmentInput
from archive.blobs import BlobStore
from federation.propagation import receipt_status
from node.actions.consent import WithdrawSubject, withdraw_subject
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


async def test_a_withdrawn_subject_s_files_are_purged_at_every_holder(cluster: Cluster) -> None:
    hub_a = await cluster.start("Hub A")
    hub_b = await cluster.start("Hub B")
    hub_c = await cluster.start("Hub C")
    await cluster.pair(hub_a, hub_b)
    await cluster.pair(hub_b, hub_c)
    heron = AttachmentInput("heron.pdf", pdf_with_metadata(), "Heron's notes", ("Heron",))
    kite = AttachmentInput("kite.jpg", jpeg_with_gps((70, 50)), "Kite crossing", ("Kite",))
    record = add_with_attachments(hub_a, [heron, kite], reshare=True)
    heron_blob, kite_blob = (a.hash_hex for a in record.lesson.attachments)
    assert (await cluster.sync(hub_b, hub_a)).errors == []
    assert (await cluster.sync(hub_c, hub_b)).errors == []
    homes = (hub_a.home, hub_b.home, hub_c.home)
    assert all(files_containing(home, BODY_CANARY) for home in homes)
    # What an interrupted download leaves behind must go too.
    at_c = BlobStore.of(hub_c.node.db)
    at_c.append_partial(heron_blob, 0, at_c.read(heron_blob)[:200])

    admin = hub_a.node.member("admin")
    done = withdraw_subject(hub_a.node, WithdrawSubject(admin, record.id_hex, "Heron"))
    assert done.files == (heron_blob,) and done.revocation_id is not None
    assert (await cluster.sync(hub_b, hub_a)).errors == []  # B purges, forwards to C
    assert (await cluster.sync(hub_c, hub_b)).errors == []  # C purges, B gets its receipt
    assert (await cluster.sync(hub_b, hub_a)).errors == []  # the receipts reach A

    for home in homes:
        assert files_containing(home, BODY_CANARY) == [], home
    for running in (hub_b, hub_c):
        assert running.count("records", "id = ?", [done.new_version]) == 1  # the lesson stays
        assert BlobStore.of(running.node.db).has(kite_blob)  # Kite's photo stays
    _, holders = receipt_status(hub_a.node.db, heron_blob)
    assert {(h.node, h.status) for h in holders} == {
        (hub_b.node_id, "purged"),
        (hub_c.node_id, "purged"),
    }
