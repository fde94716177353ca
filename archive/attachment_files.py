"""Cleaning an attachment before it is stored and signed: type by content, metadata out.

A photo carries where it was taken (EXIF GPS), which camera took it (make, model, serial
number) and when; audio files carry tags; PDFs carry an author, the software and dates, and
XMP. None of that may reach the archive, so every file is rewritten by a well-kept library:

- images are decoded and **re-encoded** with Pillow (orientation applied first), so nothing
  but the pixels survives: EXIF, XMP, IPTC, comments and colour profiles are gone whatever
  the stripper would have missed;
- audio loses its tags and embedded pictures with mutagen;
- a PDF is rebuilt page by page with pypdf, without its document information and XMP;
- a video is remuxed with PyAV into a new container holding only its video and audio
  streams, without any metadata (:mod:`archive.video_files`).

The type is read from the first bytes (magic numbers), never from the file name; anything
else is refused with :class:`RefusedAttachment`, before a byte is stored. Face blurring is
not done (docs/how-to/attach-photos-and-recordings.md says so).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from archive.errors import InvalidLesson
from archive.video_files import VideoRefused, clean_video, sniff_video

if TYPE_CHECKING:
    from PIL import Image

# Defaults of the node config's [attachments] section (docs/reference/limits.md).
MAX_FILE_BYTES = 25 * 1024 * 1024
MAX_LESSON_BYTES = 100 * 1024 * 1024
MAX_IMAGE_PIXELS = 50_000_000  # a decompression bomb stops here, before it is decoded
JPEG_QUALITY = 90
_EXIF_WORDS = {
    0x8825: "GPS location",
    0x010F: "camera make",
    0x0110: "camera model",
    0xA431: "camera serial number",
    0x0132: "date and time",
    0x0131: "software",
    0x013B: "artist",
}


class RefusedAttachment(InvalidLesson):
    """This file cannot be attached: its type (read from its content) is not one Rhizome can
    clean of metadata, it is damaged, or it is over a size limit. Nothing was stored.

    Attach JPEG, PNG or WebP images, Ogg, MP3 or FLAC audio, MP4, MOV, WebM or Matroska
    video, or PDF documents, within the limits of docs/reference/limits.md.
    """

    code = "refused_attachment"


@dataclass(frozen=True)
class CleanFile:
    """A file as it will be stored: the rewritten bytes and what was taken out."""

    data: bytes
    media_type: str
    removed: tuple[str, ...]


def sniff_media_type(data: bytes) -> str | None:
    """The media type the first bytes announce, or None (names and extensions never count)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"OggS"):
        return "audio/ogg"
    if data.startswith(b"fLaC"):
        return "audio/flac"
    if data.startswith(b"ID3") or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return sniff_video(data)


def clean_attachment(data: bytes, where: str, max_bytes: int = MAX_FILE_BYTES) -> CleanFile:
    """The file rewritten without metadata, or :class:`RefusedAttachment` saying why not."""
    if len(data) > max_bytes:
        raise RefusedAttachment(
            where, None, f"the file is {len(data):,} bytes, over the limit of {max_bytes:,}"
        )
    if not data:
        raise RefusedAttachment(where, None, "the file is empty")
    media_type = sniff_media_type(data)
    if media_type is None:
        raise RefusedAttachment(
            where,
            None,
            "its content is not a JPEG, PNG or WebP image, Ogg, MP3 or FLAC audio, an MP4, MOV, "
            "WebM or Matroska video, or a PDF (the type is read from the file's bytes, not its "
            "name)",
        )
    cleaner = _clean_image if media_type.startswith("image/") else _clean_other
    try:
        cleaned = cleaner(data, media_type)
    except RefusedAttachment:
        raise
    except VideoRefused as error:
        raise RefusedAttachment(where, None, str(error)) from error
    except Exception as error:  # every library has its own errors for a damaged file
        raise RefusedAttachment(
            where, None, f"the file looks like {media_type} but cannot be read: {error}"
        ) from error
    if len(cleaned.data) > max_bytes:
        raise RefusedAttachment(where, None, f"cleaned, it is over the limit of {max_bytes:,}")
    return cleaned


def _clean_other(data: bytes, media_type: str) -> CleanFile:
    if media_type == "application/pdf":
        return _clean_pdf(data)
    if media_type.startswith("video/"):
        return CleanFile(*clean_video(data, media_type))
    return _clean_audio(data, media_type)


def _clean_image(data: bytes, media_type: str) -> CleanFile:
    from PIL import Image, ImageOps

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
        with Image.open(io.BytesIO(data)) as image:
            removed = _image_metadata(image)
            upright = ImageOps.exif_transpose(image)
            upright.load()
    pixels = _pixels_only(upright)
    out = io.BytesIO()
    if media_type == "image/jpeg":
        pixels.convert("RGB").save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    elif media_type == "image/png":
        pixels.save(out, "PNG", optimize=True)
    else:
        pixels.save(out, "WEBP", quality=JPEG_QUALITY)
    return CleanFile(out.getvalue(), media_type, removed)


def _pixels_only(image: Image.Image) -> Image.Image:
    """A new image holding only the pixels (no info dictionary, EXIF or profile)."""
    from PIL import Image

    mode = image.mode if image.mode in ("RGB", "RGBA", "L", "LA") else "RGBA"
    converted = image.convert(mode)
    bare = Image.new(mode, converted.size)
    bare.paste(converted)
    return bare


def _image_metadata(image: object) -> tuple[str, ...]:
    """What an image carried beyond its pixels, in words for the lesson page."""
    from PIL import Image

    assert isinstance(image, Image.Image)
    found: list[str] = []
    exif = image.getexif()
    for tag, words in _EXIF_WORDS.items():
        if tag in exif and words not in found:
            found.append(words)
    detail = exif.get_ifd(0x8769)  # the Exif sub-directory: capture time, serial, lens
    if 0xA431 in detail and "camera serial number" not in found:
        found.append("camera serial number")
    if (0x9003 in detail or 0x9004 in detail) and "date and time" not in found:
        found.append("date and time")
    if len(exif) or detail:
        found.append("all other EXIF data")
    info = image.info
    for key, words in (("xmp", "XMP"), ("XML:com.adobe.xmp", "XMP"), ("photoshop", "IPTC"),
                       ("comment", "comment"), ("icc_profile", "colour profile")):  # fmt: skip
        if info.get(key) and words not in found:
            found.append(words)
    return tuple(found)


def _clean_audio(data: bytes, media_type: str) -> CleanFile:
    import mutagen

    buffer = io.BytesIO(data)
    audio = mutagen.File(buffer)
    if audio is None:
        raise ValueError("no audio stream found")
    removed: list[str] = []
    if audio.tags:
        names = audio.tags.keys()  # a mapping for ID3, a list of pairs for Vorbis comments
        removed.append("tags (" + ", ".join(sorted({str(key)[:12] for key in names})[:8]) + ")")
    if getattr(audio, "pictures", None):
        removed.append("embedded pictures")
        buffer.seek(0)
        audio.clear_pictures()
        audio.save(buffer)
    buffer.seek(0)
    audio.delete(buffer)
    return CleanFile(buffer.getvalue(), media_type, tuple(removed))


def _clean_pdf(data: bytes) -> CleanFile:
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        raise RefusedAttachment("pdf", None, "an encrypted PDF cannot be cleaned: decrypt it first")
    removed: list[str] = []
    if reader.metadata:
        removed.append("document information (" + ", ".join(
            sorted(str(key).lstrip("/") for key in reader.metadata)[:8]) + ")")  # fmt: skip
    if "/Metadata" in reader.root_object:
        removed.append("XMP")
    writer = PdfWriter()
    for page in reader.pages:
        added = writer.add_page(page)
        for key in ("/Metadata", "/PieceInfo"):
            if NameObject(key) in added:
                del added[NameObject(key)]
    writer._info = None  # no document information dictionary at all, not even a producer
    out = io.BytesIO()
    writer.write(out)
    return CleanFile(out.getvalue(), "application/pdf", tuple(removed))
