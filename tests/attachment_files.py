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


LOCATION_CANARY = "+12.3456+034.5678/"
MAKE_CANARY = "MAKECANARY-vid3"
MODEL_CANARY = "MODELCANARY-vid3"
DATE_CANARY = "2019-05-01T10:11:12.000000Z"
TRACK_CANARY = b"GPMFCANARY-track9"
SUBTITLE_CANARY = b"SUBCANARY at 12.3456,34.5678"  # as a drone's flight log subtitles
ATTACHED_CANARY = b"ATTACHEDCANARY-cover"
CHAPTER_CANARY = "CHAPTERCANARY-home"
VIDEO_CANARIES = (LOCATION_CANARY.encode(), MAKE_CANARY.encode(), MODEL_CANARY.encode(),
                  DATE_CANARY.encode(), TRACK_CANARY, SUBTITLE_CANARY, ATTACHED_CANARY,
                  CHAPTER_CANARY.encode())  # fmt: skip


def video_with_canaries(muxer: str = "mp4", frames: int = 5) -> bytes:
    """A tiny video as a phone or action camera writes it: a GPS location, the device's make
    and model and a creation time in the container (as Apple's keys and ``©xyz``), a device
    handler name and a GoPro-like data track (mp4 only), or subtitles, an attached picture
    and chapters (matroska only), every one a canary."""
    from fractions import Fraction

    import av
    from PIL import Image

    out = io.BytesIO()
    options = {"movflags": "use_metadata_tags"} if muxer == "mp4" else {}
    webm = muxer == "webm"
    with av.open(out, "w", format=muxer, options=options) as container:
        container.metadata.update({
            "location": LOCATION_CANARY,
            "com.apple.quicktime.location.ISO6709": LOCATION_CANARY,
            "com.apple.quicktime.make": MAKE_CANARY,
            "com.apple.quicktime.model": MODEL_CANARY,
            "creation_time": DATE_CANARY,
        })  # fmt: skip
        video = container.add_stream("libvpx" if webm else "mpeg4", rate=10)
        video.width, video.height, video.pix_fmt = 32, 32, "yuv420p"
        video.metadata["handler_name"] = MODEL_CANARY
        audio = container.add_stream("libopus" if webm else "aac", rate=48000)
        track = container.add_data_stream("bin_data") if muxer == "mp4" else None
        subtitles = container.add_stream("ass") if muxer == "matroska" else None
        if subtitles is not None:
            container.add_attachment("cover.jpg", "image/jpeg", ATTACHED_CANARY * 4)
            chapter = {"id": 1, "start": 0, "end": frames, "time_base": Fraction(1, 10),
                       "metadata": {"title": CHAPTER_CANARY}}  # fmt: skip
            container.set_chapters([chapter])
        for index in range(frames):
            picture = Image.new("RGB", (32, 32), (index * 40 % 256, 90, 30))
            for packet in video.encode(av.VideoFrame.from_image(picture)):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        for index in range(10):
            sound = av.AudioFrame(format="fltp", layout="mono", samples=960)
            for plane in sound.planes:
                plane.update(bytes(plane.buffer_size))
            sound.sample_rate, sound.pts = 48000, index * 960
            for packet in audio.encode(sound):
                container.mux(packet)
        for packet in audio.encode():
            container.mux(packet)
        dialogue = b"0,0,Default,,0,0,0,," + SUBTITLE_CANARY
        for stream, payload in ((track, TRACK_CANARY), (subtitles, dialogue)):
            if stream is not None:
                packet = av.Packet(payload)
                packet.stream, packet.pts, packet.dts, packet.duration = stream, 0, 0, 10
                container.mux(packet)
    data = out.getvalue()
    expected = {"mp4": VIDEO_CANARIES[:5], "webm": VIDEO_CANARIES[:3]}.get(
        muxer, VIDEO_CANARIES[:3] + VIDEO_CANARIES[5:]
    )
    assert all(canary in data for canary in expected), "the test video lacks a canary"
    return data
