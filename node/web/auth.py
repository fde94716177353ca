"""Sign-in for the web UI and the JSON API: members, passwords, sessions and CSRF.

Members sign in with the password an admin set (``rhizome member password NAME``, stored as
an argon2id hash). A signed-in browser holds an encrypted, HttpOnly, SameSite=Strict session
cookie (Secure whenever the request came over HTTPS, :mod:`node.web.client`); the key lives
in the node home, so sessions survive a restart. A session names the member's session epoch,
which every new password moves on: a password change ends every session signed in before it.
Every form carries the session's CSRF token, and every JSON write sends it in the
``X-CSRF-Token`` header, or authenticates with HTTP Basic instead (scripts). Scripts that
only read may send a member's API token (``Authorization: Bearer rhz_…``); a token never
writes. Write actions then check the member's roles, exactly as the CLI does.

Every password check, from the page, the API or HTTP Basic, goes through
:func:`verify_sign_in`: an unknown name costs the same argon2id work as a known one, the
work runs in a worker thread, and repeated failures make the address and the name wait
longer each time (:mod:`node.web.sign_in_guard`; 429 with ``Retry-After``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import hmac
import logging
import secrets
import weakref
from pathlib import Path

import nacl.exceptions
import nacl.pwhash
from aiohttp import web
from aiohttp.typedefs import Middleware
from aiohttp_session import Session, get_session, session_middleware
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from crypto.errors import RhizomeError
from governance.member_tokens import token_member
from governance.members import Member, get_member, password_hash_of
from governance.roles import require
from node.api_tokens import looks_like_token, token_digest
from node.node import Node
from node.passwords import hash_password
from node.sealed_home import session_secret
from node.web.client import client_of
from node.web.sign_in_guard import SignInGuard
from node.web.uploads import posted_form

SESSION_KEY_FILE = "session.key"
SESSION_SECONDS = 12 * 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
log = logging.getLogger("rhizome.web")
CONCURRENT_CHECKS = 4  # argon2id takes ~64 MiB and ~70 ms each: a few at a time
_guards: weakref.WeakKeyDictionary[Node, SignInGuard] = weakref.WeakKeyDictionary()
_checks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)
_BASIC_MEMBER = web.RequestKey[Member | None]("basic_member")


class NotSignedIn(RhizomeError):
    """This needs a signed-in member: sign in on the web page, or send HTTP Basic credentials."""

    http_status = 401
    code = "unauthenticated"


class ReadOnlyToken(RhizomeError):
    """API tokens only read: write with a session (and its CSRF token) or HTTP Basic."""

    http_status = 403
    code = "forbidden"


class BadCsrfToken(RhizomeError):
    """The form or request is missing this session's CSRF token (reload the page and retry)."""

    http_status = 403
    code = "csrf"


class TooManySignIns(RhizomeError):
    """Too many failed sign-ins from this address or for this name: wait the time the
    message says, then try again. An admin can set a new password with
    ``rhizome member password NAME``."""

    http_status = 429
    code = "too_many_requests"

    def __init__(self, seconds: int) -> None:
        super().__init__(f"too many sign-in attempts: try again in {seconds} s")
        self.retry_after = seconds  # the Retry-After header of the answer


def password_matches(stored: str | None, password: str) -> bool:
    if not stored:
        return False
    try:
        return nacl.pwhash.verify(stored.encode("ascii"), password.encode("utf-8"))
    except (nacl.exceptions.InvalidkeyError, nacl.exceptions.CryptoError, ValueError):
        return False


def session_key(home: Path, home_key: bytes | None = None) -> bytes:
    """The cookie encryption key, made once per home (0600; sealed with the home key of a
    sealed home, :func:`node.sealed_home.session_secret`)."""
    return session_secret(home, home_key)


class _SessionCookies(EncryptedCookieStorage):
    """Encrypted, HttpOnly, SameSite=Strict cookies, marked Secure when the request came over
    HTTPS (directly, or through a trusted proxy): a browser then never sends it in clear."""

    async def save_session(
        self, request: web.Request, response: web.StreamResponse, session: Session
    ) -> None:
        await super().save_session(request, response, session)
        cookie = response.cookies.get(self.cookie_name)
        if cookie is not None and client_of(request).https:
            cookie["secure"] = True


def session_layer(node: Node) -> Middleware:
    storage = _SessionCookies(
        session_key(node.paths.root, node.keys.home_key()),
        cookie_name="rhizome_session",
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="Strict",
    )
    return session_middleware(storage)


@functools.cache
def stand_in_hash() -> str:
    """An argon2id hash of a random password, made with the same cost as members' hashes:
    an unknown name is checked against it, so every name costs the same (no timing leak)."""
    return hash_password(secrets.token_urlsafe(32))


def stored_hash(node: Node, name: str) -> str | None:
    """The password hash of an active member who has one; None for anyone else."""
    return password_hash_of(node.db, name)


def _hash_matches(stored: str | None, password: str) -> bool:
    """The one password check: the same argon2id work whether or not ``stored`` exists."""
    matches = password_matches(stored or stand_in_hash(), password)
    return matches and stored is not None


def sign_in_guard(node: Node) -> SignInGuard:
    """The delays of this node's sign-ins (one per open node, on the node's clock)."""
    if node not in _guards:
        _guards[node] = SignInGuard(node.clock)
    return _guards[node]


async def verify_sign_in(
    request: web.Request, node: Node, name: str, password: str
) -> Member | None:
    """The member if ``name`` and ``password`` match, else None; for the sign-in page, the
    API and HTTP Basic alike. Raises :class:`TooManySignIns` while this address or name must
    wait (the password is then not even checked). The hash is checked in a worker thread, a
    few at a time, so guessing never stalls the node."""
    guard = sign_in_guard(node)
    address = client_of(request).address
    wait = guard.wait(address, name)
    if wait:
        log.warning("sign-in held back", extra={"remote": address, "wait": wait})
        raise TooManySignIns(wait)
    guard.attempt(address, name)
    stored = stored_hash(node, name)
    async with _check_slots():
        matches = await asyncio.to_thread(_hash_matches, stored, password)
    member = get_member(node.db, name) if matches else None
    if member is None or not member.active:
        # The address only: a name field sometimes holds a password typed in the wrong box.
        log.warning("sign-in refused", extra={"remote": address})
        return None
    guard.succeeded(address, name)
    return member


def _check_slots() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    if loop not in _checks:
        _checks[loop] = asyncio.Semaphore(CONCURRENT_CHECKS)
    return _checks[loop]


async def sign_in(request: web.Request, member: Member) -> None:
    session = await get_session(request)
    session.invalidate()
    session = await get_session(request)
    session["member"] = member.name
    session["epoch"] = member.session_epoch
    session[CSRF_FIELD] = secrets.token_urlsafe(24)
    log.info("signed in", extra={"member": member.name, "remote": client_of(request).address})


async def sign_out(request: web.Request) -> None:
    (await get_session(request)).invalidate()


async def csrf_token(request: web.Request) -> str:
    session = await get_session(request)
    if CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_urlsafe(24)
    return str(session[CSRF_FIELD])


async def current_member(request: web.Request, node: Node) -> Member | None:
    """The member this request acts for: HTTP Basic credentials, an API token, else the
    session (if it was signed in since the member's last password change)."""
    bearer = _bearer_token(request)
    if bearer is not None:
        return _token_holder(node, bearer)
    basic = _basic_credentials(request)
    if basic is not None:
        if _BASIC_MEMBER not in request:  # checked once per request, however often asked
            request[_BASIC_MEMBER] = None  # a refusal (429) is not checked again either
            request[_BASIC_MEMBER] = await verify_sign_in(request, node, *basic)
        return request[_BASIC_MEMBER]
    session = await get_session(request)
    name = session.get("member")
    member = get_member(node.db, name) if isinstance(name, str) else None
    if member is None or not member.active:
        return None
    return member if session.get("epoch") == member.session_epoch else None


def _token_holder(node: Node, token: str) -> Member | None:
    """The active member whose API token this is: one keyed hash, one indexed lookup."""
    if not looks_like_token(token):
        return None
    name = token_member(node.db, token_digest(node.paths.root, token, node.keys.home_key()))
    member = get_member(node.db, name) if name is not None else None
    return member if member is not None and member.active else None


async def acting_member(request: web.Request, node: Node, action: str) -> Member:
    """The signed-in member, if their roles allow ``action``; for every write."""
    member = await writing_member(request, node)
    require(member.name, member.roles, action)
    return member


async def writing_member(request: web.Request, node: Node) -> Member:
    """The signed-in member, their CSRF token checked (a session's); what they may do, the
    action decides (:mod:`node.actions`)."""
    member = await current_member(request, node)
    if member is None:
        raise NotSignedIn("sign in first")
    if _bearer_token(request) is not None:
        raise ReadOnlyToken("an API token only reads: sign in, or send HTTP Basic, to write")
    if _basic_credentials(request) is None:
        await _check_csrf(request, node)
    return member


async def _check_csrf(request: web.Request, node: Node) -> None:
    expected = (await get_session(request)).get(CSRF_FIELD)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        # Read once, within the attachment caps, never onto the disk (node.web.uploads).
        field = (await posted_form(request, node.config)).get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    if not expected or sent is None or not hmac.compare_digest(sent, expected):
        raise BadCsrfToken("missing or wrong CSRF token")


def _bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.startswith("Bearer ") else None


def _basic_credentials(request: web.Request) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return None
    try:
        name, _, password = (
            base64.b64decode(header[6:], validate=True).decode("utf-8").partition(":")
        )
    except (binascii.Error, UnicodeDecodeError):
        return None
    return name, password
