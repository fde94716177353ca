"""``rhizome serve`` while a sealed home waits for its passphrase: the unlock page.

A sealed hub that comes back after a power cut with no passphrase file, medium or systemd
credential listens on its usual address with this small app only: ``/healthz`` answers
``{"status": "locked"}`` (503: nothing is served yet) and every other path shows a form that
takes the passphrase. The passphrase is checked by unwrapping ``home.key`` in a worker
thread (argon2id is slow on purpose); attempts are rate-limited like sign-in
(:class:`~node.web.sign_in_guard.SignInGuard`: a few free tries, then growing delays per
address). Once it opens, this app stops and ``serve`` starts everything else on the same
port, with the passphrase kept in memory only.

The node's own TLS key is sealed too, so the unlock page is served with a throwaway
certificate made at start (its fingerprint is printed and logged; its key never touches the
disk). Reach the page through an SSH tunnel to 127.0.0.1, or compare that fingerprint.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import ssl
import time
from collections.abc import Callable

from aiohttp import web
from markupsafe import escape

from crypto.errors import KeyFileError, WrongPassphrase
from crypto.tls_certificate import (
    certificate_fingerprint,
    certificate_pem,
    encrypted_browser_key_pem,
    make_browser_certificate,
)
from node import __version__
from node.home import HomePaths
from node.sealed_home import HomeKeys
from node.tls import _key_file
from node.web.sign_in_guard import SignInGuard

log = logging.getLogger("rhizome.serve")
MAX_UNLOCK_BODY = 4096
GUARD_NAME = "passphrase"  # one name for every attempt: the per-name delay holds for all
PASSPHRASE: web.AppKey[list[str]] = web.AppKey("passphrase", list)
OPENED: web.AppKey[asyncio.Event] = web.AppKey("opened", asyncio.Event)
GUARD: web.AppKey[SignInGuard] = web.AppKey("guard", SignInGuard)
PATHS: web.AppKey[HomePaths] = web.AppKey("paths", HomePaths)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{name}: locked</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}}
input,button{{font-size:1.1rem;padding:.5rem;width:100%;box-sizing:border-box;margin:.3rem 0}}
.error{{color:#a00}}</style></head>
<body><h1>{name} is locked</h1>
<p>This hub is sealed: its archive is encrypted on disk. Type its passphrase to start it.</p>
{message}
<form method="post" action="/unlock">
<label for="passphrase">Passphrase</label>
<input id="passphrase" name="passphrase" type="password" autocomplete="off" autofocus required>
<button type="submit">Unlock and start</button>
</form></body></html>
"""


def unlock_tls(paths: HomePaths) -> tuple[ssl.SSLContext, str]:
    """A TLS 1.3 context with a throwaway certificate, and its SHA-256 fingerprint."""
    seed = secrets.token_bytes(32)
    certificate = make_browser_certificate(seed)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    password = secrets.token_bytes(32)
    with (
        _key_file(certificate_pem(certificate), paths.root) as certificate_path,
        _key_file(encrypted_browser_key_pem(seed, password), paths.root) as key_path,
    ):
        context.load_cert_chain(certificate_path, key_path, password=password)
    return context, certificate_fingerprint(certificate)


def locked_app(
    paths: HomePaths, name: str, clock: Callable[[], float] = time.time
) -> web.Application:
    app = web.Application(client_max_size=MAX_UNLOCK_BODY)
    app[PATHS] = paths
    app[PASSPHRASE] = []
    app[OPENED] = asyncio.Event()
    app[GUARD] = SignInGuard(clock)

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "locked", "version": __version__}, status=503)

    async def page(request: web.Request) -> web.Response:
        return _page(name, "")

    async def unlock(request: web.Request) -> web.Response:
        return await _unlock(request, name)

    app.router.add_get("/healthz", healthz)
    app.router.add_post("/unlock", unlock)
    app.router.add_get("/{tail:.*}", page)
    return app


def _page(name: str, message: str, status: int = 200) -> web.Response:
    shown = f'<p class="error" role="alert">{escape(message)}</p>' if message else ""
    body = PAGE.format(name=escape(name), message=shown)
    headers = {"Cache-Control": "no-store", "Content-Security-Policy": "default-src 'none'; "
               "style-src 'unsafe-inline'; form-action 'self'"}  # fmt: skip
    return web.Response(text=body, content_type="text/html", status=status, headers=headers)


async def _unlock(request: web.Request, name: str) -> web.Response:
    app = request.app
    guard = app[GUARD]
    address = request.remote or "unknown"
    if wait := guard.wait(address, GUARD_NAME):
        return _page(name, f"Too many wrong passphrases: try again in {wait} s.", 429)
    form = await request.post()
    typed = form.get("passphrase")
    if not isinstance(typed, str) or not typed:
        return _page(name, "Type the passphrase.", 400)
    guard.attempt(address, GUARD_NAME)
    try:
        await asyncio.to_thread(_open_home_key, app[PATHS], typed)
    except WrongPassphrase:
        log.warning("unlock refused: wrong passphrase", extra={"address": address})
        return _page(name, "Wrong passphrase; nothing was changed.", 403)
    guard.succeeded(address, GUARD_NAME)
    app[PASSPHRASE].append(typed)
    app[OPENED].set()
    return web.Response(
        text="<!doctype html><title>Unlocked</title><p>Unlocked: the hub is starting. "
        '<a href="/">Continue</a> in a few seconds.</p>',
        content_type="text/html",
    )


def _open_home_key(paths: HomePaths, passphrase: str) -> None:
    keys = HomeKeys(paths, lambda read: read(lambda: passphrase))
    if keys.home_key() is None:
        raise KeyFileError(f"{paths.root}: this home is not sealed")


async def wait_for_unlock(
    app: web.Application, host: str, port: int, context: ssl.SSLContext | None
) -> str:
    """Serve ``app`` until someone types the right passphrase; return it."""
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port, ssl_context=context).start()
        await app[OPENED].wait()
        await asyncio.sleep(0.2)  # the browser gets its "unlocked" answer before we close
    finally:
        await runner.cleanup()
    return app[PASSPHRASE][0]
