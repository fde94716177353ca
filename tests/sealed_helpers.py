"""Looking at a sealed home as whoever seized its disk would, and as its owner can.

:func:`every_byte` reads every file of a home as it lies on disk. :func:`decrypted_pages`
decrypts a SQLCipher 4 database file and its WAL page by page with the passphrase (AES-256-
CBC, the IV in each page's reserved tail), free pages included, so a test can show that a
purged canary is gone from what the passphrase opens too, not only from the ciphertext.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from archive.attachment_intake import AttachmentInput
from archive.lesson_file import draft_from_fields
from archive.queries import load_record
from crypto.home_key import database_key
from crypto.keyfile import read_key_file
from node.node import Node
from tests.attachment_files import pdf_with_metadata

PAGE_SIZE = 4096  # SQLCipher 4's default
RESERVE = 80  # 16 bytes of IV and a 64-byte HMAC-SHA512 at the end of every page
WAL_HEADER = 32
WAL_FRAME_HEADER = 24
CANARY = "canarytidewater7f3a9c"  # one token, already folded: the index holds it as is


def every_byte(home: Path) -> dict[str, bytes]:
    """Every regular file under ``home`` (relative name -> bytes), as a thief reads them."""
    found: dict[str, bytes] = {}
    for path in sorted(home.rglob("*")):
        if path.is_file() and not path.is_symlink():
            try:
                found[str(path.relative_to(home))] = path.read_bytes()
            except FileNotFoundError:  # a server's -shm or -wal went away meanwhile
                continue
    return found


def files_holding(home: Path, needle: str) -> list[str]:
    """The files of ``home`` whose bytes hold ``needle`` (UTF-8 or UTF-16), if any."""
    forms = (needle.encode("utf-8"), needle.encode("utf-16-le"), needle.encode("utf-16-be"))
    return [name for name, data in every_byte(home).items() if any(f in data for f in forms)]


def database_key_of(home: Path, passphrase: str) -> bytes:
    """The SQLCipher key of a sealed home's database, unwrapped with its passphrase."""
    return database_key(read_key_file(home / "home.key", lambda: passphrase))


def decrypt_page(page: bytes, key: bytes, first: bool) -> bytes:
    start = 16 if first else 0  # page 1 starts with the salt, in clear
    iv = page[PAGE_SIZE - RESERVE : PAGE_SIZE - RESERVE + 16]
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return decryptor.update(page[start : PAGE_SIZE - RESERVE]) + decryptor.finalize()


def decrypted_pages(home: Path, passphrase: str) -> list[bytes]:
    """Every page of ``rhizome.db`` and every frame of its WAL, decrypted (free ones too)."""
    key = database_key_of(home, passphrase)
    pages: list[bytes] = []
    database = (home / "rhizome.db").read_bytes()
    for offset in range(0, len(database) - PAGE_SIZE + 1, PAGE_SIZE):
        pages.append(decrypt_page(database[offset : offset + PAGE_SIZE], key, offset == 0))
    wal_path = home / "rhizome.db-wal"
    wal = wal_path.read_bytes() if wal_path.exists() else b""
    frame = WAL_FRAME_HEADER + PAGE_SIZE
    for offset in range(WAL_HEADER, len(wal) - frame + 1, frame):
        page_number = int.from_bytes(wal[offset : offset + 4], "big")
        body = wal[offset + WAL_FRAME_HEADER : offset + frame]
        pages.append(decrypt_page(body, key, page_number == 1))
    return pages


def decrypted_holding(home: Path, passphrase: str, needle: str) -> int:
    """How many decrypted pages (database and WAL) hold ``needle``."""
    forms = (needle.encode("utf-8"), needle.encode("utf-16-le"))
    return sum(1 for page in decrypted_pages(home, passphrase) if any(f in page for f in forms))


def add_story_with_notes(node: Node) -> tuple[str, str]:
    """A ``scope: local`` story (the :data:`CANARY` in its body) that attaches a PDF whose
    page says :data:`~tests.attachment_files.BODY_CANARY`: its record id and the PDF's blob."""
    front = {"title": "What happened at the checkpoint", "kind": "story",
             "consent": {"basis": "consent", "scope": "local"}}  # fmt: skip
    draft = draft_from_fields(front, f"Participant pseudonyms and places: {CANARY}.\n", "test")
    notes = AttachmentInput("notes.pdf", pdf_with_metadata(), "Checklist", ())
    intake = node.take_lesson(draft, "test", "admin", attachments=[notes])
    assert intake.record_id is not None, intake
    (attachment,) = load_record(node.db, intake.record_id).lesson.attachments
    return intake.record_id, attachment.hash_hex
