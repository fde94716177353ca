"""Sign-in for the web UI and the JSON API: members, passwords, sessions and CSRF.

Members sign in with the password an admin set (``rhizome member password NAME``, stored as
an argon2id hash). A signed-in browser holds an encrypted, HttpOnly, SameSite=Strict session
cookie (Secure when the node is served over https); the key lives in the node home, so
sessions survive a restart. Every form carries the session's CSRF token, and every JSON write
sends it in the ``X-CSRF-Token`` header, or authenticates with HTTP Basic instead (scripts).
Write actions then check the member's roles, exactly as the CLI does.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import secrets
from pathlib import Path

import nacl.exceptions
import nacl.pwhash
from aiohttp import web
from aiohttp_session import get_session, session_middleware
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from crypto.errors import RhizomeError
from governance.members import Member, get_member
from governance.roles import require
from node.node import Node

SESSION_KEY_FILE = "session.key"
SESSION_SECONDS = 12 * 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
MIN_PASSWORD = 10


class NotSignedIn(RhizomeError):
    """This needs a signed-in member: sign in on the web page, or send HTTP Basic credentials."""

    http_status = 401
    code = "unauthenticated"


class BadCsrfToken(RhizomeError):
    """The form or request is missing this session's CSRF token (reload the page and retry)."""

    http_status = 403
    code = "csrf"


class WeakPassword(RhizomeError):
    """Passwords must be at least ten characters; a passphrase of a few words is best."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise WeakPassword(f"a password needs at least {MIN_PASSWORD} characters")
    return nacl.pwhash.argon2id.str(password.encode("utf-8")).decode("ascii")


def password_matches(stored: str | None, password: str) -> bool:
    if not stored:
        return False
    try:
        return nacl.pwhash.verify(stored.encode("ascii"), password.encode("utf-8"))
    except (nacl.exceptions.InvalidkeyError, nacl.exceptions.CryptoError, ValueError):
        return False


def session_key(home: Path) -> bytes:
    """The cookie encryption key, made once per home (0600)."""
    path = home / SESSION_KEY_FILE
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(32))
    return path.read_bytes()


def session_layer(node: Node) -> web.middleware:  # type: ignore[valid-type]
    storage = EncryptedCookieStorage(
        session_key(node.paths.root),
        cookie_name="rhizome_session",
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="Strict",
        secure=node.config.url.startswith("https://"),
    )
    return session_middleware(storage)


def check_credentials(node: Node, name: str, password: str) -> Member | None:
    row = node.db.execute(
        "SELECT password_hash FROM members WHERE name = ? AND removed_at IS NULL", [name]
    ).fetchone()
    if row is None or not password_matches(row[0], password):
        return None
    return get_member(node.db, name)


async def sign_in(request: web.Request, member: Member) -> None:
    session = await get_session(request)
    session.invalidate()
    session = await get_session(request)
    session["member"] = member.name
    session[CSRF_FIELD] = secrets.token_urlsafe(24)


async def sign_out(request: web.Request) -> None:
    (await get_session(request)).invalidate()


async def csrf_token(request: web.Request) -> str:
    session = await get_session(request)
    if CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_urlsafe(24)
    return str(session[CSRF_FIELD])


async def current_member(request: web.Request, node: Node) -> Member | None:
    """The member this request acts for: HTTP Basic credentials, else the session."""
    basic = _basic_credentials(request)
    if basic is not None:
        return check_credentials(node, *basic)
    session = await get_session(request)
    name = session.get("member")
    member = get_member(node.db, name) if isinstance(name, str) else None
    return member if member is not None and member.active else None


async def acting_member(request: web.Request, node: Node, action: str) -> Member:
    """The signed-in member, if their roles allow ``action``; for every write."""
    member = await current_member(request, node)
    if member is None:
        raise NotSignedIn("sign in first")
    if _basic_credentials(request) is None:
        await _check_csrf(request)
    require(member.name, member.roles, action)
    return member


async def _check_csrf(request: web.Request) -> None:
    expected = (await get_session(request)).get(CSRF_FIELD)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        sent = (await request.post()).get(CSRF_FIELD)  # type: ignore[assignment]
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise BadCsrfToken("missing or wrong CSRF token")


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
