"""A lesson's video and recording play in a real browser, from the hub itself.

One hub made by ``rhizome init``; a lesson with a WebM video and an MP3 recording attached by
``rhizome lesson add`` (front matter naming the files beside it). Chromium opens the lesson
page: the page's content policy lets it load media from the hub only, the video's metadata
loads (its size and length), it seeks (the hub answers byte ranges), and so does the audio.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.attachment_files import tagged_mp3, video_with_canaries
from tests.conftest import write_lesson
from tests.e2e.conftest import Browsers, Hub, make_hub
from tests.e2e.test_browser import new_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]
CONSENT = {
    "basis": "consent",
    "scope": "federation",
    "subjects": [{"pseudonym": "Heron", "share": True, "photographed": True, "recorded": True}],
}
LOADED = """async (media) => {
    const within = (promise, what) => Promise.race([promise, new Promise((_, failed) =>
        setTimeout(() => failed(new Error(what + " within 10 s")), 10000))]);
    const once = (name) =>
        new Promise((done) => media.addEventListener(name, done, { once: true }));
    if (media.readyState < 1) {
        media.preload = "metadata";
        media.load();
        await within(once("loadedmetadata"), "no metadata (blocked, or an error: "
                     + String(media.error?.message) + ")");
    }
    media.currentTime = media.duration / 2;
    await within(once("seeked"), "no seek");
    return { width: media.videoWidth ?? 0, duration: media.duration, at: media.currentTime,
             seekable: media.seekable.length };
}"""


@pytest.fixture
def hub_with_media(tmp_path: Path, browser_ready: None) -> Iterator[tuple[Hub, str]]:
    root = tmp_path / "hubs"  # where the browsers look for the keys they trust
    root.mkdir()
    hub = make_hub(root, "Nairobi Hub", "East Africa")
    hub.add_member("admin", "admin", "nairobi admin passphrase 2026")
    (tmp_path / "drill.webm").write_bytes(video_with_canaries("webm", frames=20))
    (tmp_path / "debrief.mp3").write_bytes(tagged_mp3())
    attachments = [
        {"file": "drill.webm", "caption": "The drill", "subjects": ["Heron"]},
        {"file": "debrief.mp3", "caption": "The debrief", "subjects": ["Heron"]},
    ]
    front = {"title": "River drill", "kind": "checklist", "consent": CONSENT,
             "attachments": attachments}  # fmt: skip
    lesson = write_lesson(tmp_path, "drill.md", front)
    record_id = hub.rhizome("lesson", "add", str(lesson)).strip().splitlines()[-1]
    hub.start()
    try:
        yield hub, record_id
    finally:
        hub.stop()


def test_a_video_and_a_recording_play_and_seek(
    hub_with_media: tuple[Hub, str], browsers: Browsers
) -> None:
    hub, record_id = hub_with_media
    page = new_page(browsers.open("admin"))
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)  # fmt: skip
    sign_in(page, hub, "admin", f"/lessons/{record_id}")
    video = page.locator("video")
    expect(video).to_be_visible()
    shown = video.evaluate(LOADED)
    assert shown["width"] == 32 and shown["duration"] > 0, shown
    assert shown["seekable"] == 1 and shown["at"] > 0, shown
    audio = page.locator("audio")
    heard = audio.evaluate(LOADED)
    assert heard["duration"] > 0 and heard["at"] > 0, heard
    expect(page.locator("#attachments")).to_contain_text("GPS location")
    assert refused == []
