"""Video attachments: type by content, then a remux that keeps the pictures and the sound only.

A phone or action camera writes where and when a video was taken and which device took it
into the container (MP4 ``©xyz`` and ``com.apple.quicktime.location.ISO6709``, make, model,
``creation_time``, the encoder, handler names) and often whole extra tracks: GoPro's GPMF
sensor and GPS track, timecode and Apple metadata tracks, subtitles, attached files and
chapters. None of that may reach the archive.

The video is **remuxed** with PyAV (FFmpeg) into a new container of the same family: only its
video and audio streams are copied, packet by packet (the coded pictures and sound are not
re-encoded), into a container written from nothing with ``bitexact`` (no encoder tag, no
date), without any container or stream metadata, chapters or other streams. MP4 and MOV
become MP4, WebM stays WebM, Matroska becomes WebM when its codecs allow, else Matroska.

Whatever the remux cannot do reliably is refused (:class:`VideoRefused`), never stored half
cleaned: no video stream, codecs the new container cannot carry, a damaged file, or a
metadata value of the original still found in the result. Inside the coded stream, H.264
and HEVC SEI messages and AV1 metadata units (encoder settings, user data, time codes) are
dropped by bitstream filters; the coded pictures themselves (a date burnt into the picture)
are not changed: docs/how-to/attach-photos-and-recordings.md says so.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.stream import Stream

EBML_MAGIC = b"\x1a\x45\xdf\xa3"
# ISO base media files that are not videos: HEIF/AVIF photos and M4A/M4B audio books.
ISO_BRANDS_NOT_VIDEO = {
    b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1",
    b"avif", b"avis", b"M4A ", b"M4B ", b"M4P ", b"crx ",
}  # fmt: skip
QUICKTIME_FIRST_ATOMS = {b"moov", b"mdat", b"wide"}  # an old QuickTime file has no ftyp
DEMUXERS = {"video/mp4": "mov", "video/webm": "matroska", "video/x-matroska": "matroska"}
WEBM_CODECS = {"vp8", "vp9", "av1", "opus", "vorbis"}
# Notes a coder writes beside the pictures, inside the coded stream: H.264 and HEVC SEI
# messages (encoder settings, user data some cameras fill, time codes) and AV1 metadata OBUs.
# Bitstream filters drop those units from every packet; the pictures are untouched.
SIDE_NOTE_FILTERS = {
    "h264": "filter_units=remove_types=6",
    "hevc": "filter_units=remove_types=39|40",
    "av1": "filter_units=remove_types=5",
}
KEPT_STREAM_TYPES = ("video", "audio")
# What a container says about itself rather than about the person who filmed.
STRUCTURAL_KEYS = {"major_brand", "minor_version", "compatible_brands", "language", "duration"}
DEFAULT_HANDLERS = {"VideoHandler", "SoundHandler", ""}
LEAK_CHECK_MIN_LENGTH = 6  # shorter values ("und", "1") occur anywhere by chance
_KEY_WORDS = (
    (("location", "xyz", "gps", "iso6709"), "GPS location"),
    (("make", "model", "manufacturer", "camera", "device", "serial"), "device make and model"),
    (("creation_time", "date", "time"), "date and time"),
    (("encoder", "software", "encoded_by", "writing"), "software"),
    (("handler_name",), "handler names"),
)
_STREAM_WORDS = {
    "data": "data streams (GPS and sensor tracks, timecode)",
    "subtitle": "subtitles",
    "attachment": "attached files and cover pictures",
}


class VideoRefused(Exception):
    """The video cannot be cleaned reliably; the message says why (nothing was stored)."""


def sniff_video(data: bytes) -> str | None:
    """video/mp4 (MP4 and MOV), video/webm or video/x-matroska from the first bytes, or None."""
    if data[4:8] == b"ftyp":
        return None if data[8:12] in ISO_BRANDS_NOT_VIDEO else "video/mp4"
    if data[4:8] in QUICKTIME_FIRST_ATOMS:
        return "video/mp4"
    if data.startswith(EBML_MAGIC):
        head = data[:128]
        if b"webm" in head:
            return "video/webm"
        if b"matroska" in head:
            return "video/x-matroska"
    return None


def clean_video(data: bytes, media_type: str) -> tuple[bytes, str, tuple[str, ...]]:
    """The remuxed bytes, their media type and what was removed; :class:`VideoRefused` when
    that cannot be done reliably."""
    import av

    try:
        source = av.open(io.BytesIO(data), "r", format=DEMUXERS[media_type])
    except av.FFmpegError as error:
        problem = f"the file looks like {media_type} but cannot be read: {error.strerror}"
        raise VideoRefused(problem) from error
    with source:
        kept = [stream for stream in source.streams if is_picture_or_sound(stream)]
        if not any(stream.type == "video" for stream in kept):
            raise VideoRefused("the file holds no video stream")
        removed = what_was_removed(source)
        identifying = identifying_values(source)
        out_type, muxer = output_format(media_type, kept)
        try:
            cleaned = _remux(source, kept, muxer)
        except (av.FFmpegError, ValueError) as error:
            raise VideoRefused(
                f"its streams cannot be copied into a clean {muxer.upper()} file ({error}); "
                "convert it to MP4 (H.264 and AAC) or WebM (VP9 and Opus) first"
            ) from error
    leaked = [value for value in identifying if value.encode("utf-8") in cleaned]
    if leaked:  # the remux kept something it should not have: store nothing
        raise VideoRefused("its metadata could not be removed reliably")
    return cleaned, out_type, removed


def is_picture_or_sound(stream: Stream) -> bool:
    """A video or audio stream, not a cover picture or a thumbnail track (FFmpeg shows those,
    and Matroska's attached images, as video streams)."""
    from av.stream import Disposition

    extra = Disposition.attached_pic | Disposition.timed_thumbnails
    return stream.type in KEPT_STREAM_TYPES and not stream.disposition & extra


def output_format(media_type: str, kept: Iterable[Stream]) -> tuple[str, str]:
    """The media type and FFmpeg muxer of the clean copy."""
    if media_type == "video/mp4":
        return "video/mp4", "mp4"
    if media_type == "video/webm" or all(_codec_name(s) in WEBM_CODECS for s in kept):
        return "video/webm", "webm"
    return "video/x-matroska", "matroska"


def _codec_name(stream: Stream) -> str:
    """The codec's own name (av1), not its decoder's (libdav1d)."""
    return str(stream.codec_context.codec.canonical_name)


def _remux(source: InputContainer, kept: list[Stream], muxer: str) -> bytes:
    """Every packet of the kept streams, copied into a container written from nothing."""
    import av
    from av.bitstream import BitStreamFilterContext

    out = io.BytesIO()
    # bitexact: no encoder tag and no creation date of the muxer's own.
    with av.open(out, "w", format=muxer, options={"fflags": "+bitexact"}) as target:
        copies, filters = {}, {}
        for stream in kept:
            # opaque: the codec parameters as they are (a decoder's name such as libdav1d
            # has no encoder to look up); no metadata comes along.
            copy = target.add_stream_from_template(stream, opaque=True)
            for key in list(copy.metadata):
                del copy.metadata[key]
            copies[stream.index] = copy
            notes = SIDE_NOTE_FILTERS.get(_codec_name(stream))
            if notes is not None:
                filters[stream.index] = BitStreamFilterContext(notes, stream, copy)
            if _codec_name(stream) == "hevc" and copy.codec_context.extradata:
                # The filter keeps the SEI of the configuration (extradata): x265 and some
                # cameras put notes there too.
                copy.codec_context.extradata = hevc_config_without_sei(copy.codec_context.extradata)
        video_packets = 0
        for packet in source.demux(kept):
            if packet.size == 0:  # the demuxer's end-of-stream marks (a dts may be unset)
                continue
            index = packet.stream.index
            copy = copies[index]
            bsf = filters.get(index)
            for each in [packet] if bsf is None else bsf.filter(packet):
                video_packets += copy.type == "video"
                each.stream = copy
                target.mux(each)
        for index, bsf in filters.items():
            for each in bsf.filter(None):
                each.stream = copies[index]
                target.mux(each)
        if not video_packets:
            raise VideoRefused("the file's video stream holds no pictures")
    return out.getvalue()


HEVC_SEI_TYPES = {39, 40}
START_CODE = b"\x00\x00\x01"


def hevc_config_without_sei(config: bytes) -> bytes:
    """HEVC codec configuration (Annex B units or an hvcC record) without SEI units."""
    if config.startswith(START_CODE) or config.startswith(b"\x00" + START_CODE):
        units = [unit.rstrip(b"\x00") for unit in config.split(START_CODE)[1:]]
        kept = [unit for unit in units if unit and (unit[0] >> 1) & 0x3F not in HEVC_SEI_TYPES]
        return b"".join(b"\x00" + START_CODE + unit for unit in kept)
    return hvcc_without_sei(config)


def hvcc_without_sei(record: bytes) -> bytes:
    """An HEVC configuration record (hvcC) without its arrays of SEI units; anything this
    parser does not understand is refused rather than passed on."""
    if len(record) < 23 or record[0] != 1:
        raise VideoRefused("its HEVC configuration cannot be read to remove notes from it")
    arrays, kept, position = record[22], [], 23
    for _ in range(arrays):
        start = position
        if position + 3 > len(record):
            raise VideoRefused("its HEVC configuration is cut short")
        unit_type, count = (
            record[position] & 0x3F,
            int.from_bytes(record[position + 1 : position + 3]),
        )
        position += 3
        for _ in range(count):
            if position + 2 > len(record):
                raise VideoRefused("its HEVC configuration is cut short")
            position += 2 + int.from_bytes(record[position : position + 2])
        if position > len(record):
            raise VideoRefused("its HEVC configuration is cut short")
        if unit_type not in HEVC_SEI_TYPES:
            kept.append(record[start:position])
    return record[:22] + bytes([len(kept)]) + b"".join(kept) + record[position:]


def _all_metadata(source: InputContainer) -> Iterable[tuple[str, str]]:
    yield from source.metadata.items()
    for stream in source.streams:
        yield from stream.metadata.items()


def identifying_values(source: InputContainer) -> list[str]:
    """The metadata values that say something about the person who filmed, long enough that
    finding one in the clean copy means it was kept."""
    values = []
    for key, value in _all_metadata(source):
        if _is_structural(key) or value in DEFAULT_HANDLERS:
            continue
        if len(value) >= LEAK_CHECK_MIN_LENGTH:
            values.append(value)
    return values


def _is_structural(key: str) -> bool:
    return key.lower() in STRUCTURAL_KEYS


def what_was_removed(source: InputContainer) -> tuple[str, ...]:
    """In words for the lesson page: the kinds of metadata and the streams left out."""
    found: list[str] = []
    other = False
    for key, value in _all_metadata(source):
        if _is_structural(key) or (key == "handler_name" and value in DEFAULT_HANDLERS):
            continue
        words = _words_for(key.lower().rsplit(".", 1)[-1])  # com.apple.quicktime.make
        if words is None:
            other = True
        elif words not in found:
            found.append(words)
    for stream in source.streams:
        cover = stream.type in KEPT_STREAM_TYPES and not is_picture_or_sound(stream)
        words = _STREAM_WORDS.get("attachment" if cover else stream.type)
        if words is not None and words not in found:
            found.append(words)
    if source.chapters():
        found.append("chapters")
    if other:
        found.append("all other container and stream metadata")
    return tuple(found)


def _words_for(key: str) -> str | None:
    for needles, words in _KEY_WORDS:
        if any(needle in key for needle in needles):
            return words
    return None
