"""Attachments are cleaned before they are stored: type from content, metadata out."""

from __future__ import annotations

import pytest

from archive.attachment_files import RefusedAttachment, clean_attachment, sniff_media_type
from tests.attachment_files import (
    BODY_CANARY,
    CAMERA_CANARY,
    GPS_CANARY,
    PDF_CANARY,
    TAG_CANARY,
    jpeg_with_gps,
    pdf_with_metadata,
    tagged_mp3,
)


def test_a_photo_is_re_encoded_without_its_location_or_camera() -> None:
    cleaned = clean_attachment(jpeg_with_gps(), "drill.jpg")
    assert cleaned.media_type == "image/jpeg"
    assert GPS_CANARY not in cleaned.data and CAMERA_CANARY not in cleaned.data
    assert b"Exif" not in cleaned.data
    assert {"GPS location", "camera make", "camera serial number"} <= set(cleaned.removed)


def test_the_orientation_is_applied_before_exif_goes() -> None:
    import io

    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: the picture is upright only once turned
    out = io.BytesIO()
    Image.new("RGB", (40, 10)).save(out, "JPEG", exif=exif.tobytes())
    cleaned = clean_attachment(out.getvalue(), "turned.jpg")
    with Image.open(io.BytesIO(cleaned.data)) as image:
        assert image.size == (10, 40)


def test_audio_loses_its_tags() -> None:
    data = tagged_mp3()
    assert TAG_CANARY.encode() in data
    cleaned = clean_attachment(data, "debrief.mp3")
    assert cleaned.media_type == "audio/mpeg"
    assert TAG_CANARY.encode() not in cleaned.data and cleaned.removed


def test_a_pdf_loses_its_document_information_and_keeps_its_pages() -> None:
    data = pdf_with_metadata()
    assert PDF_CANARY.encode() in data
    cleaned = clean_attachment(data, "checklist.pdf")
    assert PDF_CANARY.encode() not in cleaned.data
    assert BODY_CANARY in cleaned.data
    assert cleaned.removed[0].startswith("document information")


def test_the_name_never_decides_the_type() -> None:
    assert sniff_media_type(b"<html><script>alert(1)</script>") is None
    with pytest.raises(RefusedAttachment, match="read from the file's bytes"):
        clean_attachment(b"<html><script>alert(1)</script>", "photo.jpg")
    pdf = pdf_with_metadata()
    assert clean_attachment(pdf, "photo.jpg").media_type == "application/pdf"


def test_a_damaged_file_and_an_oversized_one_are_refused() -> None:
    with pytest.raises(RefusedAttachment, match="cannot be read"):
        clean_attachment(b"\xff\xd8\xff" + bytes(100), "broken.jpg")
    with pytest.raises(RefusedAttachment, match="over the limit of 500"):
        clean_attachment(jpeg_with_gps(), "big.jpg", max_bytes=500)
    with pytest.raises(RefusedAttachment, match="empty"):
        clean_attachment(b"", "empty.jpg")
