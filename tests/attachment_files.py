"""Files for attachment tests, made here: a JPEG with GPS EXIF carrying a canary, a tagged
MP3, a PDF with document information, each with canary strings that must not survive."""

from __future__ import annotations

import io

GPS_CANARY = b"GPSCANARY-7d1f"
CAMERA_CANARY = b"SERIALCANARY-42"
TAG_CANARY = "TAGCANARY-ogg1"
PDF_CANARY = "AUTHORCANARYpdf9"
BODY_CANARY = b"BODYCANARY5c3a"


def jpeg_with_gps(size: tuple[int, int] = (64, 48), noise: bool = False) -> bytes:
    """A JPEG whose EXIF holds a GPS position and a camera serial number (both canaries)."""
    from PIL import Image

    image = (
        Image.effect_noise(size, 80).convert("RGB")
        if noise
        else Image.new("RGB", size, (180, 40, 40))
    )
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x8825] = {1: "N", 2: (12.0, 34.0, 56.0), 27: GPS_CANARY.decode()}
    exif[0xA431] = CAMERA_CANARY.decode()
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=95)
    data = out.getvalue()
    assert GPS_CANARY in data and CAMERA_CANARY in data
    return data


def tagged_mp3() -> bytes:
    """Silent MPEG frames behind an ID3 tag whose title is a canary."""
    from mutagen.id3 import ID3, TIT2

    buffer = io.BytesIO((b"\xff\xfb\x90\x64" + bytes(413)) * 20)
    tags = ID3()
    tags.add(TIT2(encoding=3, text=TAG_CANARY))
    tags.save(buffer)
    return buffer.getvalue()


def pdf_with_metadata(body: bytes = BODY_CANARY) -> bytes:
    """A one-page PDF whose author is a canary; its page says ``body`` in plain bytes."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(200, 200)
    content = DecodedStreamObject()
    content.set_data(b"BT /F1 12 Tf 20 100 Td (" + body + b") Tj ET")
    page[NameObject("/Contents")] = writer._add_object(content)
    writer.add_metadata({"/Author": PDF_CANARY})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
