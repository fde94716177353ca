"""``rhizome lesson add FILE --attach …`` and front-matter attachments, on a real home."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from archive.blobs import BlobStore
from archive.queries import load_record
from federation.peers import save_peer
from node.node import Node
from tests.attachment_files import CAMERA_CANARY, GPS_CANARY, jpeg_with_gps, tagged_mp3
from tests.conftest import HomeFactory, write_lesson
from tests.node.conftest import Invoke, assert_clean_exit, last_line, stored_counts

CONSENT: dict[str, Any] = {
    "basis": "consent",
    "scope": "federation",
    "subjects": [
        {"pseudonym": "Heron", "share": True, "photographed": False, "recorded": True},
        {"pseudonym": "Kite", "share": True, "photographed": True, "recorded": True},
    ],
}


def lesson(folder: Path, **front: Any) -> Path:
    fields = {"title": "River drill", "kind": "after_action_review", "consent": CONSENT}
    return write_lesson(folder, "drill.md", {**fields, **front})


def every_file_bytes(root: Path) -> list[tuple[Path, bytes]]:
    return [(path, path.read_bytes()) for path in root.rglob("*") if path.is_file()]


@pytest.fixture
def home(make_home: HomeFactory) -> Path:
    return make_home()


def test_an_attached_photo_is_stored_without_its_gps_canary(
    invoke: Invoke, home: Path, tmp_path: Path
) -> None:
    (tmp_path / "photo.jpg").write_bytes(jpeg_with_gps())
    result = invoke(
        home, "lesson", "add", str(lesson(tmp_path)), "--attach", str(tmp_path / "photo.jpg"),
        "--caption", "photo.jpg=Crossing at dawn", "--subjects", "photo.jpg=Kite",
    )  # fmt: skip
    assert_clean_exit(result)
    record_id = last_line(result.stdout)
    node = Node(home)
    (photo,) = load_record(node.db, record_id).lesson.attachments
    assert photo.caption == "Crossing at dawn" and photo.subjects == ("Kite",)
    assert "GPS location" in photo.removed
    assert BlobStore.of(node.db).has(photo.hash_hex)
    node.close()
    for path, data in every_file_bytes(home):
        assert GPS_CANARY not in data, path
        assert CAMERA_CANARY not in data, path


def test_front_matter_names_files_beside_the_lesson(
    invoke: Invoke, home: Path, tmp_path: Path
) -> None:
    (tmp_path / "debrief.mp3").write_bytes(tagged_mp3())
    entry = {"file": "debrief.mp3", "caption": "Debrief", "subjects": ["Heron", "Kite"]}
    record_id = last_line(
        invoke(home, "lesson", "add", str(lesson(tmp_path, attachments=[entry]))).stdout
    )
    node = Node(home)
    (audio,) = load_record(node.db, record_id).lesson.attachments
    node.close()
    assert audio.media_type == "audio/mpeg" and audio.subjects == ("Heron", "Kite")


@pytest.mark.parametrize(
    ("content", "options", "needle"),
    [
        (b"<html>not a photo</html>", (), "not a JPEG"),
        (None, ("--subjects", "photo.jpg=Egret"), "no entry in consent.subjects"),
        (None, ("--caption", "other.jpg=x"), "one of the --attach files"),
    ],
)
def test_a_refused_attachment_stores_nothing(
    invoke: Invoke, home: Path, tmp_path: Path, content: bytes | None,
    options: tuple[str, ...], needle: str,
) -> None:  # fmt: skip
    (tmp_path / "photo.jpg").write_bytes(content or jpeg_with_gps())
    result = invoke(
        home, "lesson", "add", str(lesson(tmp_path)), "--attach", str(tmp_path / "photo.jpg"),
        *options,
    )  # fmt: skip
    assert result.exit_code != 0
    assert needle in result.output
    assert stored_counts(home) == (0, 0)
    blobs = home / "blobs"
    assert [path for path, _ in every_file_bytes(blobs)] == [] if blobs.exists() else True


def test_policy_explain_says_which_file_stays_and_why(
    invoke: Invoke, home: Path, tmp_path: Path, identity_b: Any
) -> None:
    (tmp_path / "photo.jpg").write_bytes(jpeg_with_gps())
    (tmp_path / "kite.jpg").write_bytes(jpeg_with_gps((30, 20)))
    result = invoke(
        home, "lesson", "add", str(lesson(tmp_path)),
        "--attach", str(tmp_path / "photo.jpg"), "--subjects", "photo.jpg=Heron",
        "--attach", str(tmp_path / "kite.jpg"), "--subjects", "kite.jpg=Kite",
    )  # fmt: skip
    record_id = last_line(result.stdout)
    node = Node(home)
    save_peer(node.db, identity_b.node_id, "Lima Hub", "Andes", "https://127.0.0.1:9", node.now())
    node.close()
    explained = invoke(home, "policy", "explain", record_id, "Lima Hub")
    assert_clean_exit(explained)
    assert "- photo: the photo stays: Heron did not agree to be photographed" in explained.stdout
    assert "+ photo: the photo may go with the lesson: Kite agreed" in explained.stdout
    assert "+ Lima Hub is an active, trusted peer  [peer_active]" in explained.stdout
    answer = json.loads(invoke(home, "policy", "explain", record_id, "Lima Hub", "--json").stdout)
    assert [item["may_leave"] for item in answer["attachments"]] == [False, True]


def test_policy_explain_gives_its_reasons_in_the_reader_language(
    invoke: Invoke, home: Path, tmp_path: Path, identity_b: Any
) -> None:
    """The reasons governance gives are said in RHIZOME_LANGUAGE (names and codes as they
    are); --json keeps them in English for programs."""
    (tmp_path / "photo.jpg").write_bytes(jpeg_with_gps())
    added = invoke(
        home, "lesson", "add", str(lesson(tmp_path)),
        "--attach", str(tmp_path / "photo.jpg"), "--subjects", "photo.jpg=Heron",
    )  # fmt: skip
    record_id = last_line(added.stdout)
    node = Node(home)
    save_peer(node.db, identity_b.node_id, "Lima Hub", "Andes", "https://127.0.0.1:9", node.now())
    node.close()

    def explain(language: str, *more: str) -> str:
        env = {"RHIZOME_LANGUAGE": language}
        result = invoke(home, "policy", "explain", record_id, "Lima Hub", *more, env=env)
        assert_clean_exit(result)
        return result.stdout

    spanish, arabic = explain("es"), explain("ar")
    assert "+ Lima Hub es un par activo y de confianza  [peer_active]" in spanish
    assert "+ el alcance del consentimiento es federation  [scope_federation]" in spanish
    assert "- foto: la foto se queda: Heron no aceptó ser fotografiado" in spanish
    assert "+ Lima Hub نظير نشط وموثوق  [peer_active]" in arabic
    assert "- صورة: يُحتفظ بـالصورة هنا: لم يوافق Heron على أن يُصوَّر" in arabic
    for said in (spanish, arabic):
        assert "trusted peer" not in said and "did not agree" not in said
    answer = json.loads(explain("es", "--json"))
    texts = {reason["code"]: reason["text"] for reason in answer["reasons"]}
    assert texts["peer_active"] == "Lima Hub is an active, trusted peer"
    assert answer["attachments"][0]["reason"] == (
        "the photo stays: Heron did not agree to be photographed"
    )


def test_peer_purposes_decide_where_a_lesson_goes(
    invoke: Invoke, home: Path, tmp_path: Path, identity_b: Any
) -> None:
    consent = {**CONSENT, "purposes": ["training"]}
    record_id = last_line(
        invoke(home, "lesson", "add", str(lesson(tmp_path, consent=consent))).stdout
    )
    node = Node(home)
    save_peer(node.db, identity_b.node_id, "Lima Hub", "Andes", "https://127.0.0.1:9", node.now())
    node.close()
    assert_clean_exit(invoke(home, "peer", "purposes", "Lima Hub", "training", "press"))
    explained = invoke(home, "policy", "explain", record_id, "Lima Hub").stdout
    assert explained.startswith("DENY")
    assert (
        "Lima Hub declared it uses lessons for press, training; consent allows only training, "
        "not press" in explained
    )
    assert_clean_exit(invoke(home, "peer", "purposes", "Lima Hub", "training"))
    assert (
        "Lima Hub declared it uses lessons for training, all among training"
        in invoke(home, "policy", "explain", record_id, "Lima Hub").stdout
    )


def test_import_takes_the_files_a_lesson_names(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "lessons"
    folder.mkdir()
    (folder / "photo.jpg").write_bytes(jpeg_with_gps())
    entry = {"file": "photo.jpg", "caption": "Kite", "subjects": ["Kite"]}
    lesson(folder, attachments=[entry])
    assert_clean_exit(invoke(home, "lesson", "import", str(folder)))
    node = Node(home)
    (record_id,) = [str(row[0]) for row in node.db.execute("SELECT id FROM records")]
    (photo,) = load_record(node.db, record_id).lesson.attachments
    assert BlobStore.of(node.db).has(photo.hash_hex)
    node.close()
    for path, data in every_file_bytes(home):
        assert GPS_CANARY not in data, path
