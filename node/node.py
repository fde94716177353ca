"""The composition root: one ``Node`` wires a home's config, key and archive together.

The CLI and the web server both build a ``Node``; nothing lives only in one process's
memory, so both can work on the same home at once. The key is opened only when something
must be signed; in a sealed home (:mod:`node.sealed_home`) the database is encrypted too, so
opening the node asks for the passphrase once (it unwraps the home key).
"""

from __future__ import annotations

import asyncio
import copy
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from functools import cached_property
from pathlib import Path

import sqlite_utils

from archive.attachment import Attachment
from archive.attachment_intake import (
    AttachmentInput,
    Caps,
    blobs_stored,
    prepare,
    read_spec,
    with_attachments,
)
from archive.blobs import register_blob_key
from archive.errors import InvalidLesson
from archive.lesson_file import LessonDraft, parse_lesson_file
from archive.lesson_sources import (
    Intake,
    SourceFile,
    changed_error,
    plan_lesson,
    take_lesson,
)
from archive.purge import finish_pending_purges
from archive.queries import load_record, resolve_record_id
from archive.record import Lesson
from archive.signed_record import SignedRecord
from archive.store import Clock, RecordWriter
from crypto.blob_cipher import blob_key
from crypto.errors import InvalidNodeId, KeyFileError, WrongPassphrase
from crypto.keyfile import PassphraseSource, is_protected
from crypto.node_id import normalize_node_id, public_key_from_node_id
from crypto.signing import SigningIdentity
from federation.errors import UnknownPeer
from federation.local import LocalNode
from federation.offer_sets import OfferSets
from federation.peers import list_peers, resolve_peer
from governance.members import Member, active_member
from governance.policy_binding import bind_policy, read_bindings
from governance.policy_file import Policy, load_policy
from governance.roles import require
from governance.versions import Widenings, approvals_for_widening, check_new_version
from node.config import NodeConfig, load_config
from node.database import open_database
from node.home import HomePaths
from node.keys import check_node_key
from node.members_default import DEFAULT_MEMBER
from node.passphrase import MAX_TRIES, may_ask_again, passphrase_from_env_or_prompt
from node.sealed_home import HomeKeys
from node.tls import stored_fingerprint


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
        self._passphrase = _Remembered(passphrase, passphrase is passphrase_from_env_or_prompt)
        self.keys = HomeKeys(self.paths, self._passphrase.opening)
        self.db: sqlite_utils.Database = open_database(
            self.paths.database, self.keys.database_key()
        )
        self._policy: tuple[float, Policy] | None = None
        if self.keys.sealed:  # its attachment files are sealed too (crypto/blob_cipher.py)
            register_blob_key(self.paths.root / "blobs", self._blob_key)
        if not _event_loop_running():  # a server does it in a worker thread (web.app)
            finish_pending_purges(self.db)  # a crash mid-purge: scrub before anything else

    def _blob_key(self) -> bytes:
        return blob_key(self.keys.require_home_key())

    @property
    def node_id(self) -> str:
        return self.config.node_id

    @property
    def public_key(self) -> bytes:
        return public_key_from_node_id(self.config.node_id)

    @cached_property
    def identity(self) -> SigningIdentity:
        """The node's signing key, opened (and its passphrase asked) on first use."""
        identity = SigningIdentity.from_seed(self.keys.read_key(self.paths.key))
        # After a rotation the key is not the first one: it must be the node's current key
        # by its key history (node/keys.py), and speaks for the node id of config.toml.
        return check_node_key(self.db, self.config.node_id, self.paths.key, identity)

    @cached_property
    def tls_fingerprint(self) -> str | None:
        """The SHA-256 fingerprint of the node's TLS certificate, for people to compare with
        what their browser shows; None until the certificate was made (init or serve)."""
        return stored_fingerprint(self.paths.root)

    @cached_property
    def writer(self) -> RecordWriter:
        return RecordWriter(self.db, self.identity, self.clock, self._version_rule)

    def _version_rule(self, record: SignedRecord, where: str) -> None:
        """Who may supersede, and the logged widening: one rule for every front-end."""
        approvals = dict(self.policy().approvals)
        check_new_version(self.db, self.identity, approvals, record, where, self.now())

    def local_node(self) -> LocalNode:
        """This node as the federation layer sees it (opens the key)."""
        config = self.config
        return LocalNode(
            self.db, self.identity, config.name, config.region, config.url, self.policy, self.clock,
            config.quotas, config.allow_plain_http, self.open_connection, self.offer_sets,
        )

    @cached_property
    def offer_sets(self) -> OfferSets:
        """The offer sets kept for this node's peers, shared by the server's sessions and
        its own syncs (federation/offer_sets.py)."""
        return OfferSets()

    def widening_note(self, record: SignedRecord) -> str | None:
        """What to tell an editor whose new version widens the terms of an earlier one."""
        lesson = record.lesson
        found = Widenings(self.db, self.node_id).of(
            record.id_hex, lesson.origin_id, lesson.consent, lesson.sensitivity
        )
        if found is None:
            return None
        needed = approvals_for_widening(dict(self.policy().approvals), lesson.sensitivity, found)
        return (
            f"This version widens the terms of an earlier one ({found.words}): it leaves this "
            f"hub only with {needed} curator approval{'s' if needed != 1 else ''} other than "
            "its editor's. The widening is in the event log."
        )

    def policy(self) -> Policy:
        """The policy in force (read again only when policy.toml changed on disk), its peer
        sections resolved to node ids as the operator confirmed them."""
        try:
            mtime = self.paths.policy.stat().st_mtime_ns
        except OSError:
            mtime = -1
        if self._policy is None or self._policy[0] != mtime:
            self._policy = (mtime, load_policy(self.paths.policy))
        peers = {peer.node_id: peer.name for peer in list_peers(self.db)}
        return bind_policy(self._policy[1], peers, read_bindings(self.db))

    def now(self) -> int:
        return int(self.clock())

    def member(self, name: str) -> Member:
        """An active member of this node, by name."""
        return active_member(self.db, name)

    def require(self, name: str, action: str) -> Member:
        """The acting member, if their roles allow ``action``; else :class:`NotAllowed`."""
        member = self.member(name)
        require(name, member.roles, action)
        return member

    @property
    def sealed(self) -> bool:
        """Whether this home is sealed: its database and secrets encrypted at rest."""
        return self.keys.sealed

    def open_connection(self) -> sqlite_utils.Database:
        """A new connection to this node's database (with its key when sealed), for work in a
        worker thread; the caller closes it."""
        return open_database(self.paths.database, self.keys.database_key())

    def passphrase_if_sealed(self) -> str | None:
        """The passphrase of a sealed home (checked by unwrapping its home key), or of a node
        key sealed by its own passphrase (a home made before sealing); None if unsealed."""
        if self.keys.sealed:
            self.keys.home_key()
            return self._passphrase()
        if not is_protected(self.paths.key.read_bytes()):
            return None
        self.identity  # noqa: B018 -- opening the key checks the passphrase first
        return self._passphrase()

    def member_identity(self, name: str) -> SigningIdentity:
        """A member's signing key (sealed with the node's passphrase, when there is one)."""
        identity = SigningIdentity.from_seed(self.keys.read_key(self.paths.member_key(name)))
        if identity.public_key != self.member(name).public_key:
            raise KeyFileError(f"{self.paths.member_key(name)}: not the key certified for {name}")
        return identity

    def resolve_id(self, text: str) -> str:
        return resolve_record_id(self.db, text)

    def lesson_from_draft(self, draft: LessonDraft, where: str, author: str) -> Lesson:
        """The signed-to-be lesson of a draft, peers in its consent resolved to node ids."""
        peers = tuple(self._peer_node_id(text, where) for text in draft.consent.peers)
        draft = replace(draft, consent=replace(draft.consent, peers=peers))
        return draft.to_lesson(
            where=where,
            origin=self.public_key,
            author=author,
            created=int(self.clock()),
            default_language=self.config.language,
            default_region=self.config.region,
            resolve_id=lambda text: bytes.fromhex(self.resolve_id(text)),
        )

    def _peer_node_id(self, text: str, where: str) -> str:
        """A node id for ``consent.peers``: ids are kept as they are, names must be peers."""
        try:
            return normalize_node_id(text)
        except InvalidNodeId:
            pass
        try:
            return resolve_peer(self.db, text).node_id
        except UnknownPeer as error:
            raise InvalidLesson(where, "consent.peers", f"no peer named {text!r}") from error

    def take_lesson(
        self,
        draft: LessonDraft,
        where: str,
        author: str,
        source: SourceFile | None = None,
        *,
        update: bool = False,
        dry_run: bool = False,
        attachments: Sequence[AttachmentInput] = (),
        kept: Sequence[Attachment] = (),
    ) -> Intake:
        """Sign and store a lesson unless it is already here: the one way in for every front
        end (see :mod:`archive.lesson_sources`). A dry run stores nothing and opens no key.
        Attachments are cleaned of metadata and checked first; their blobs are stored only
        with the lesson (:mod:`archive.attachment_intake`)."""
        lesson = self.lesson_from_draft(draft, where, author)  # all checked before the key
        prepared = prepare(attachments, self.attachment_caps, where)
        lesson = with_attachments(lesson, prepared, where, kept)
        if dry_run:
            return plan_lesson(self.db, lesson, where, source, update=update)
        with blobs_stored(self.db, prepared):
            return take_lesson(self.writer, lesson, where, source, update=update)

    @property
    def attachment_caps(self) -> Caps:
        return Caps(self.config.max_file_bytes, self.config.max_lesson_bytes)

    def take_lesson_file(
        self, path: Path, author: str = DEFAULT_MEMBER, *, update: bool = False,
        dry_run: bool = False, attachments: Sequence[AttachmentInput] = (),
    ) -> Intake:  # fmt: skip
        """:meth:`take_lesson` for a lesson file, remembered by its path and name too; the
        files its front matter attaches are read beside it, then ``attachments``."""
        draft, source = read_lesson_file(path)
        inputs = self.attachments_of_file(path, draft) + list(attachments)
        return self.take_lesson(
            draft, str(path), author, source, update=update, dry_run=dry_run, attachments=inputs
        )

    def attachments_of_file(self, path: Path, draft: LessonDraft) -> list[AttachmentInput]:
        """The files a lesson file's front matter names, read from beside it."""
        caps = self.attachment_caps
        return [read_spec(spec, path.parent, str(path), caps) for spec in draft.attachments]

    def add_lesson_file(self, path: Path, author: str = DEFAULT_MEMBER) -> SignedRecord:
        """Parse, sign and store one lesson file; the record already here if it is."""
        intake = self.take_lesson_file(path, author)
        if intake.record_id is None:
            raise changed_error(intake)
        return load_record(self.db, intake.record_id)

    @contextmanager
    def own_connection(self) -> Iterator[Node]:
        """This node on a database connection of its own, for one piece of work in a worker
        thread (:func:`node.actions.in_worker_thread`); config, keys and clock are shared.

        A server's connection belongs to its event loop: SQLite transactions are per
        connection, so work in another thread on it would nest inside (or roll back) what
        the loop is doing. Two connections are two writers that SQLite queues one after the
        other (``BEGIN IMMEDIATE`` and the busy timeout, :mod:`archive.db`).
        """
        twin = copy.copy(self)
        twin.db = self.open_connection()
        twin.__dict__.pop("writer", None)  # a writer is bound to the connection it was made on
        try:
            yield twin
        finally:
            twin.db.conn.close()

    def close(self) -> None:
        self.db.conn.close()


def _event_loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class _Remembered:
    """Ask for the passphrase at most once per process (the node and member keys share it);
    a wrong one typed at a terminal is forgotten and asked again, up to :data:`MAX_TRIES`."""

    def __init__(self, source: PassphraseSource, prompts: bool) -> None:
        self.source = source
        self.prompts = prompts
        self.known: str | None = None

    def __call__(self) -> str:
        if self.known is None:
            self.known = self.source()
        return self.known

    def opening(self, read: Callable[[PassphraseSource], bytes]) -> bytes:
        """``read(self)``, asking again after a wrong passphrase when a person types it."""
        for tries_left in range(MAX_TRIES - 1, -1, -1):
            try:
                return read(self)
            except WrongPassphrase:
                if tries_left == 0 or not (self.prompts and may_ask_again()):
                    raise
                self.known = None
                tries = "try" if tries_left == 1 else "tries"
                sys.stderr.write(f"Wrong passphrase, {tries_left} {tries} left.\n")
        raise AssertionError("unreachable")


def read_lesson_file(path: Path) -> tuple[LessonDraft, SourceFile]:
    """A lesson file's draft, and the file as a lesson's source (its path and name)."""
    return parse_lesson_file(_read(path), str(path)), SourceFile(str(path.resolve()), path.name)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise InvalidLesson(str(path), None, f"cannot read the file ({error.strerror})") from error
