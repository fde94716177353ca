"""The composition root: one ``Node`` wires a home's config, key and archive together.

The CLI and the web server both build a ``Node``; nothing lives only in one process's
memory, so both can work on the same home at once. The key is opened only when something
must be signed, so read-only commands never ask for the passphrase.
"""

from __future__ import annotations

import time
from functools import cached_property
from pathlib import Path

import sqlite_utils

from archive.db import connect
from archive.errors import InvalidLesson
from archive.lesson_file import LessonDraft, parse_lesson_file
from archive.queries import resolve_record_id
from archive.record import Lesson
from archive.signed_record import SignedRecord
from archive.store import Clock, RecordWriter
from crypto.errors import KeyFileError
from crypto.keyfile import PassphraseSource, read_key_file
from crypto.node_id import public_key_from_node_id
from crypto.signing import SigningIdentity
from federation.local import LocalNode
from node.config import NodeConfig, load_config
from node.home import HomePaths
from node.passphrase import passphrase_from_env_or_prompt

DEFAULT_MEMBER = "admin"


class Node:
    """A node home opened for work."""

    def __init__(
        self,
        home: Path,
        *,
        passphrase: PassphraseSource = passphrase_from_env_or_prompt,
        clock: Clock = time.time,
    ) -> None:
        self.paths = HomePaths(home)
        self.paths.require_existing()
        self.config: NodeConfig = load_config(self.paths.config)
        self.clock = clock
        self._passphrase = passphrase
        self.db: sqlite_utils.Database = connect(self.paths.database)

    @property
    def node_id(self) -> str:
        return self.config.node_id

    @property
    def public_key(self) -> bytes:
        return public_key_from_node_id(self.config.node_id)

    @cached_property
    def identity(self) -> SigningIdentity:
        """The node's signing key, opened (and its passphrase asked) on first use."""
        identity = SigningIdentity.from_seed(read_key_file(self.paths.key, self._passphrase))
        if identity.node_id != self.config.node_id:
            raise KeyFileError(
                f"{self.paths.key}: this key belongs to node {identity.node_id}, "
                f"not to {self.config.node_id} named in config.toml"
            )
        return identity

    @cached_property
    def writer(self) -> RecordWriter:
        return RecordWriter(self.db, self.identity, self.clock)

    def local_node(self) -> LocalNode:
        """This node as the federation layer sees it (opens the key)."""
        config = self.config
        return LocalNode(self.db, self.identity, config.name, config.region, config.url, self.clock)

    def resolve_id(self, text: str) -> str:
        return resolve_record_id(self.db, text)

    def lesson_from_draft(self, draft: LessonDraft, where: str, author: str) -> Lesson:
        return draft.to_lesson(
            where=where,
            origin=self.public_key,
            author=author,
            created=int(self.clock()),
            default_language=self.config.language,
            default_region=self.config.region,
            resolve_id=lambda text: bytes.fromhex(self.resolve_id(text)),
        )

    def add_lesson_file(self, path: Path, author: str = DEFAULT_MEMBER) -> SignedRecord:
        """Parse, sign and store one lesson file."""
        draft = parse_lesson_file(_read(path), str(path))
        return self.writer.add_lesson(self.lesson_from_draft(draft, str(path), author), str(path))

    def close(self) -> None:
        self.db.conn.close()


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise InvalidLesson(str(path), None, f"cannot read the file ({error.strerror})") from error
